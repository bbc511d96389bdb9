from django.apps import AppConfig

from workbench import schedules

# Detail pages that show an object's history (workbench object panels), and who may see it.
HISTORY_KINDS = ("product", "decision", "rulepack")
HISTORY_PERMISSION = "read_tenant"


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from audit import signals  # noqa: F401  (login/logout audit events)

        schedules.ensure_on_migrate(self)

    def audit_record(self, *, actor, verb, target=None, data=None, tenant=None, actor_label=None):
        """Append an event for an app below audit (the workbench's tenancy writes)."""
        from audit import services

        return services.record(
            actor=actor,
            verb=verb,
            target=target,
            data=data,
            tenant=tenant,
            actor_label=actor_label,
        )

    def object_panels(self, kind, request, obj):
        """Add the history panel (events about ``obj``) to product, decision and pack pages."""
        from workbench.access import has_perm

        if kind not in HISTORY_KINDS or not has_perm(request, HISTORY_PERMISSION):
            return []
        from audit import selectors
        from workbench.panels import Panel

        events = selectors.events_for_target(request.tenant, obj._meta.label_lower, obj.pk)
        return [Panel("History", "audit/_history_panel.html", {"history_events": events})]
