from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workbench"
    verbose_name = "Workbench"

    def ready(self) -> None:
        from workbench import signals  # noqa: F401  (login/logout audit events)
