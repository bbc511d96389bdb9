from django.apps import AppConfig
from django.db import connection, transaction
from django.db.models.signals import post_migrate, post_save


def _ensure_schedule(sender, **kwargs):
    from integrations import tasks

    tasks.ensure_schedule()


def _wake_on_outbox_event(sender, instance, created, **kwargs):
    """Wake a delivery worker once per transaction that wrote an event someone waits for.

    Only a wake-up, never domain flow: ``audit.outbox.emit`` stays unaware of webhooks, and the
    every-minute schedule dispatches every event anyway. Finalizations feed the API's final
    classifications feed, so they always wake; other types only when an enabled endpoint of the
    tenant subscribes to them.
    """
    if not created:
        return
    from audit import outbox
    from integrations import tasks
    from integrations.models import WebhookEndpoint

    if any(func is tasks.wake for _sids, func, _robust in connection.run_on_commit):
        return
    if instance.type != outbox.DECISION_FINALIZED and not (
        WebhookEndpoint.objects.filter(
            tenant_id=instance.tenant_id, enabled=True, event_types__contains=[instance.type]
        ).exists()
    ):
        return
    transaction.on_commit(tasks.wake, robust=True)


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from audit.models import OutboxEvent

        post_migrate.connect(_ensure_schedule, sender=self)
        post_save.connect(
            _wake_on_outbox_event, sender=OutboxEvent, dispatch_uid="integrations-wake"
        )
