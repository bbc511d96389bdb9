from django.contrib import admin

from rulepacks.models import RulePack
from workbench.admin import ReadOnlyModelAdmin


@admin.register(RulePack)
class RulePackAdmin(ReadOnlyModelAdmin):
    """Read-only: packs change through audited services, and active ones never change."""

    list_display = ("id", "tenant", "jurisdiction", "version", "status", "sha256", "activated_at")
    list_filter = ("jurisdiction", "status", "tenant")
    search_fields = ("sha256", "name", "version")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
