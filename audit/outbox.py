"""The transactional outbox: domain events for other systems, committed with their change.

Call ``emit`` from a service, inside its ``@transaction.atomic`` block, after the change::

    from audit import outbox
    outbox.emit(
        tenant=decision.tenant,
        type=outbox.DECISION_FINALIZED,
        payload={"decision_id": decision.pk, "final_code": code,
                 "link": outbox.link(decision.tenant, "classification:decision", pk=decision.pk)},
        target=decision,
    )

The row commits or rolls back with the change, so a consumer never hears of a change that did not
happen, and never misses one that did. Delivery (webhooks, retries) is the integrations app's job.
"""

from django.db import connection, models
from django.db.transaction import TransactionManagementError
from django.dispatch import Signal
from django.utils import timezone

from audit import canonical
from audit.models import OutboxEvent, OutboxStatus
from workbench import paths

# Sent in the transaction, after events were written: ``tenant``, ``events`` (saved rows). For
# wake-ups only (integrations), never domain flow.
emitted = Signal()

DECISION_CREATED = "decision.created"
DECISION_FINALIZED = "decision.finalized"
DECISION_ESCALATED = "decision.escalated"
DECISION_INFO_REQUESTED = "decision.info_requested"
DECISION_REOPENED = "decision.reopened"
RULEPACK_ACTIVATED = "rulepack.activated"
RULEPACK_ACTIVATION_REFUSED = "rulepack.activation_refused"
CATALOG_IMPORT_COMPLETED = "catalog.import_completed"
AUDIT_EXPORT_READY = "audit_export.ready"
AUDIT_EXPORT_FAILED = "audit_export.failed"
POLICY_DRIFT_DETECTED = "policy.drift_detected"

EVENT_TYPES = frozenset(
    {
        DECISION_CREATED,
        DECISION_FINALIZED,
        DECISION_ESCALATED,
        DECISION_INFO_REQUESTED,
        DECISION_REOPENED,
        RULEPACK_ACTIVATED,
        RULEPACK_ACTIVATION_REFUSED,
        CATALOG_IMPORT_COMPLETED,
        AUDIT_EXPORT_READY,
        AUDIT_EXPORT_FAILED,
        POLICY_DRIFT_DETECTED,
    }
)
# Keys every payload must carry, per type, beyond the envelope added by ``emit``.
REQUIRED_KEYS = {
    DECISION_CREATED: {"decision_id", "product_id", "sku", "outcome", "selected_code", "link"},
    DECISION_FINALIZED: {"decision_id", "product_id", "sku", "final_code", "link"},
    DECISION_ESCALATED: {"decision_id", "product_id", "sku", "escalated_to", "link"},
    DECISION_INFO_REQUESTED: {"decision_id", "product_id", "sku", "missing_facts", "link"},
    DECISION_REOPENED: {"decision_id", "product_id", "sku", "reopened_code", "link"},
    RULEPACK_ACTIVATED: {"rulepack_id", "jurisdiction", "version", "sha256", "link"},
    RULEPACK_ACTIVATION_REFUSED: {"rulepack_id", "jurisdiction", "version", "reasons", "link"},
    CATALOG_IMPORT_COMPLETED: {"import_id", "created", "updated", "refused", "link"},
    AUDIT_EXPORT_READY: {"export_id", "sha256", "link"},
    AUDIT_EXPORT_FAILED: {"export_id", "reason", "link"},
    POLICY_DRIFT_DETECTED: {"alert_id", "kind", "subject", "jurisdiction", "figures", "link"},
}


def link(tenant, name: str, **kwargs) -> str:
    """Return the path of tenant page ``name``, e.g. ``/t/acme/classification/decisions/12/``.

    ``link(tenant, "classification:decision", pk=12)``: reversed from the URL name (see
    ``workbench.paths``), so a moved page moves its links and a wrong name fails loudly.
    """
    return paths.tenant_path(tenant, name, **kwargs)


def emit(*, tenant, type: str, payload: dict, target=None, hold=None) -> OutboxEvent:
    """Write one outbox event in the caller's transaction and return it.

    ``hold`` (a ``timedelta``) keeps the event from delivery for that long, so the change can
    still be taken back (``cancel_pending``) before anyone outside hears of it.

    Refuses to run outside a transaction (``TransactionManagementError``): an event written in
    autocommit could announce a change that later rolls back. Raises ``ValueError`` for an
    unknown type or a payload missing the keys its type promises. The stored payload is the
    given one plus ``type``, ``tenant`` (slug) and ``occurred_at``, as JSON.
    """
    return emit_many(tenant=tenant, events=[(type, payload, target)], hold=hold)[0]


def emit_many(*, tenant, events: list[tuple[str, dict, object]], hold=None) -> list[OutboxEvent]:
    """Write several ``(type, payload, target)`` events of one tenant with one insert.

    Same checks and guarantees as ``emit``; nothing is written if any event is refused.
    """
    if not connection.in_atomic_block:
        kinds = ", ".join(sorted({type for type, _payload, _target in events}))
        raise TransactionManagementError(
            f"outbox.emit({kinds!r}) must run inside the transaction of the change it announces"
        )
    now, rows = timezone.now(), []
    for type, payload, target in events:
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown outbox event type {type!r}")
        missing = REQUIRED_KEYS[type] - set(payload)
        if missing:
            raise ValueError(f"{type} payload lacks {', '.join(sorted(missing))}")
        target_type, target_id = "", ""
        if isinstance(target, models.Model):
            target_type, target_id = target._meta.label_lower, str(target.pk)
        elif target is not None:
            target_type, target_id = str(target[0]), str(target[1])
        body = {**payload, "type": type, "tenant": tenant.slug, "occurred_at": now}
        rows.append(
            OutboxEvent(
                tenant=tenant,
                type=type,
                payload=canonical.normalise(body),
                target_type=target_type,
                target_id=target_id,
                created_at=now,
                available_at=now + hold if hold else now,
            )
        )
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    else:
        rows = OutboxEvent.objects.bulk_create(rows)
    emitted.send(sender=OutboxEvent, tenant=tenant, events=rows)
    return rows


def cancel_pending(*, tenant, type: str, target) -> OutboxEvent | None:
    """Cancel the newest ``type`` event about ``target`` if it is still undelivered; return it,
    or None when there is none or it was delivered already (then the change has been announced
    and must be corrected by a new event instead).

    Runs in the caller's transaction and locks the event row: delivery claims pending events
    with ``SKIP LOCKED``, so either delivery took it first (the row is no longer pending when the
    lock is granted) or it is cancelled here and never delivered.
    """
    if not connection.in_atomic_block:
        raise TransactionManagementError("outbox.cancel_pending must run inside a transaction")
    event = (
        OutboxEvent.objects.select_for_update()
        .filter(
            tenant=tenant,
            type=type,
            target_type=target._meta.label_lower,
            target_id=str(target.pk),
        )
        # The (tenant, type, -created_at) index, newest first: the event is seconds old.
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None or event.status != OutboxStatus.PENDING:
        return None
    event.status = OutboxStatus.CANCELLED
    event.save(update_fields=["status"])
    return event
