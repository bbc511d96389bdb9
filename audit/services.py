"""Writing audit events. ``record`` is the only code path that inserts an ``AuditEvent``."""

import hashlib
import re

from django.db import connection, models, transaction
from django.utils import timezone

from audit import canonical
from audit.models import GENESIS_HASH, AuditEvent

VERB_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
# First key of the two-key advisory lock that serialises appends to one tenant's chain.
_CHAIN_LOCK_NAMESPACE = 0x41554454  # "AUDT"


def event_hash(payload: dict) -> str:
    """Return the SHA-256 of an event's canonical chain payload."""
    return hashlib.sha256(canonical.dumps_bytes(payload)).hexdigest()


def changes(old: dict, new: dict) -> dict:
    """Return ``{field: [old, new]}`` for every field whose value differs."""
    keys = sorted(set(old) | set(new))
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}


def _actor_fields(actor, actor_label: str | None) -> tuple[object, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, actor_label or "system"
    return actor, actor_label or actor.get_username()


def _target_fields(target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk), str(target)[:300]
    target_type, target_id, *label = target
    return str(target_type), str(target_id), (label[0] if label else "")[:300]


def _lock_chain(tenant_id: int | None) -> tuple[int, str]:
    """Take the chain's transaction-scoped lock; return the next seq and the previous hash."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [_CHAIN_LOCK_NAMESPACE, tenant_id or 0]
        )
    last = (
        AuditEvent.objects.filter(tenant_id=tenant_id)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    return (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)


def _build(*, tenant_id, seq, prev_hash, actor, verb, target, data, actor_label, now):
    if not VERB_RE.match(verb):
        raise ValueError(f"audit verb {verb!r} is not of the form app.entity.past_tense")
    actor, label = _actor_fields(actor, actor_label)
    target_type, target_id, target_label = _target_fields(target)
    event = AuditEvent(
        tenant_id=tenant_id,
        seq=seq,
        actor=actor,
        actor_label=label[:200],
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        data=canonical.normalise(data or {}),
        created_at=now,
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event.chain_payload())
    return event


def record(
    *,
    actor,
    verb: str,
    target=None,
    data: dict | None = None,
    tenant=None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event to the tenant's hash chain and return it.

    ``target`` is a model instance or a ``(type, id[, label])`` tuple; ``tenant`` defaults to the
    target's tenant. Runs inside the caller's transaction, so the event commits or rolls back
    with the change it describes. Concurrent writers to one tenant are serialised by a
    transaction-scoped advisory lock, so the chain never forks. Raises ``ValueError`` for a verb
    that is not ``app.entity.past_tense``.
    """
    if not VERB_RE.match(verb):
        raise ValueError(f"audit verb {verb!r} is not of the form app.entity.past_tense")
    if tenant is None and isinstance(target, models.Model):
        tenant = getattr(target, "tenant", None)
    tenant_id = tenant.pk if tenant is not None else None
    with transaction.atomic():
        seq, prev_hash = _lock_chain(tenant_id)
        event = _build(
            tenant_id=tenant_id,
            seq=seq,
            prev_hash=prev_hash,
            actor=actor,
            verb=verb,
            target=target,
            data=data,
            actor_label=actor_label,
            now=timezone.now(),
        )
        event.save(force_insert=True)
    return event


def record_many(*, tenant, entries: list[dict]) -> list[AuditEvent]:
    """Append several events to one tenant's chain, in order, with one lock and one insert.

    Each entry holds the keyword arguments of ``record`` except ``tenant`` (``actor``, ``verb``,
    ``target``, ``data``, ``actor_label``). Used where one transaction writes many rows that each
    deserve their own event (a batch of classification decisions). Same guarantees as ``record``.
    """
    if not entries:
        return []
    for entry in entries:
        if not VERB_RE.match(entry["verb"]):
            raise ValueError(
                f"audit verb {entry['verb']!r} is not of the form app.entity.past_tense"
            )
    tenant_id = tenant.pk if tenant is not None else None
    with transaction.atomic():
        seq, prev_hash = _lock_chain(tenant_id)
        now, events = timezone.now(), []
        for offset, entry in enumerate(entries):
            event = _build(
                tenant_id=tenant_id,
                seq=seq + offset,
                prev_hash=prev_hash,
                now=now,
                actor=entry.get("actor"),
                verb=entry["verb"],
                target=entry.get("target"),
                data=entry.get("data"),
                actor_label=entry.get("actor_label"),
            )
            events.append(event)
            prev_hash = event.hash
        AuditEvent.objects.bulk_create(events)
    return events
