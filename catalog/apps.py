from django.apps import AppConfig

from workbench import schedules


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        schedules.ensure_on_migrate(self)

    def dashboard_tiles(self, tenant):
        from django.urls import reverse

        from catalog import selectors
        from workbench.dashboard import Tile

        return [
            Tile(
                label="Products",
                value=selectors.product_count(tenant=tenant),
                url=reverse("catalog:product_list", args=[tenant.slug]),
                hint="in the catalog",
            )
        ]

    def tariff_code_uses(self, tenant, jurisdiction):
        """Products' declared codes, for the tariffs' page of codes no longer valid."""
        from catalog import selectors

        return selectors.declared_code_uses(tenant=tenant, jurisdiction=jurisdiction)

    def demo_steps(self):
        from catalog import demo

        return [demo.import_demo_catalog]
