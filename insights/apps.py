from django.apps import AppConfig

from workbench import schedules


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        schedules.ensure_on_migrate(self)

    def demo_steps(self):
        from insights import demo_history

        return [demo_history.seed_history]
