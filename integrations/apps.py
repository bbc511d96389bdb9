from django.apps import AppConfig
from django.db import connection, transaction

from workbench import schedules


def _wake_on_outbox_events(sender, tenant, events, **kwargs):
    """Wake a delivery worker once per transaction that wrote an event someone waits for.

    Only a wake-up, never domain flow: ``audit.outbox`` stays unaware of webhooks, and the
    every-minute schedule dispatches every event anyway. Finalizations feed the API's final
    classifications feed, so they always wake; other types only when an enabled endpoint of the
    tenant subscribes to them.
    """
    from audit import outbox
    from integrations import tasks
    from integrations.models import WebhookEndpoint

    if any(func is tasks.wake for _sids, func, _robust in connection.run_on_commit):
        return
    types = {event.type for event in events}
    if outbox.DECISION_FINALIZED not in types and not any(
        WebhookEndpoint.objects.filter(
            tenant_id=tenant.pk, enabled=True, event_types__contains=[type]
        ).exists()
        for type in sorted(types)
    ):
        return
    transaction.on_commit(tasks.wake, robust=True)


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from audit import outbox

        schedules.ensure_on_migrate(self)
        outbox.emitted.connect(_wake_on_outbox_events, dispatch_uid="integrations-wake")
