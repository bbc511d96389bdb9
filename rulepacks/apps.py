from django.apps import AppConfig


class RulepacksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rulepacks"
    verbose_name = "Rule packs"

    def dashboard_tiles(self, tenant):
        from django.urls import reverse

        from rulepacks.models import RulePack
        from workbench.dashboard import Tile

        active = RulePack.objects.for_tenant(tenant).active().order_by("jurisdiction")
        labels = ", ".join(f"{p.jurisdiction} {p.short_hash}" for p in active)
        return [
            Tile(
                label="Active rule packs",
                value=len(active),
                url=reverse("rulepacks:list", kwargs={"tenant_slug": tenant.slug}),
                hint=labels or "none: products are blocked until a pack is active",
            )
        ]

    def demo_steps(self):
        from rulepacks import demo

        return [demo.activate_demo_pack]
