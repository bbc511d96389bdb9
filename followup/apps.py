from django.apps import AppConfig

from workbench import schedules


class FollowupConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "followup"
    verbose_name = "Follow-up"

    def ready(self) -> None:
        # The daily digest of overdue items is scheduled in code, idempotently, after migrate.
        schedules.ensure_on_migrate(self)
