from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit events are written by services and never edited."""

    list_display = (
        "created_at",
        "tenant",
        "seq",
        "actor_label",
        "verb",
        "target_type",
        "target_id",
    )
    list_filter = ("verb", "tenant")
    search_fields = ("verb", "actor_label", "target_id", "target_label")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
