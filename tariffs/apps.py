from django.apps import AppConfig


class TariffsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tariffs"
    verbose_name = "Tariff reference data"

    def demo_steps(self):
        from tariffs import demo

        return [demo.load_reference_data]

    def dashboard_tiles(self, tenant):
        from django.urls import reverse

        from tariffs import selectors
        from workbench.dashboard import Tile

        schedule = selectors.current_schedule("US")
        url = reverse("tariffs:index", kwargs={"tenant_slug": tenant.slug})
        if schedule is None:
            return [Tile("US tariff schedule", "none", url, "HS 2022 only: load the USITC export")]
        return [
            Tile("US tariff schedule", schedule.revision, url, f"{schedule.line_count:,} lines")
        ]
