"""Audit rows are written by services only: the admin shows them and changes nothing."""

from django.contrib import admin

from audit.models import AuditEvent, AuditExport, OutboxEvent
from workbench.admin import ReadOnlyModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
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


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "created_at", "tenant", "type", "status", "attempts", "available_at")
    list_filter = ("status", "type", "tenant")
    search_fields = ("type", "target_id")


@admin.register(AuditExport)
class AuditExportAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "created_at", "tenant", "requested_by_label", "status", "sha256")
    list_filter = ("status", "tenant")
    exclude = ("payload",)
