"""Writes of the audit app: events (``record`` is the only code path that inserts an
``AuditEvent``) and audit exports (request, build, failure)."""

import contextlib
import contextvars
import datetime as dt
import hashlib
import logging
import re
import tempfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.utils import timezone

from audit import canonical
from audit.models import GENESIS_HASH, AuditEvent, AuditExport, ExportStatus
from metering import counters
from workbench import worker

log = logging.getLogger(__name__)

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


# Set by ``as_system``: the system actor's label for every event appended meanwhile.
_system_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "audit_system_actor", default=None
)


@contextlib.contextmanager
def as_system(label: str):
    """Record every event appended inside the block under the system actor ``label``.

    For writes no person performed, although the services they call name one (the demo data of
    ``seed_demo``, such as the earlier season's broker decisions): each event's actor is None and
    its label ``label``, whatever actor the service passed. Holds for the current thread only.
    """
    token = _system_actor.set(label)
    try:
        yield
    finally:
        _system_actor.reset(token)


def _actor_fields(actor, actor_label: str | None) -> tuple[object, str]:
    system = _system_actor.get()
    if system is not None:
        return None, system
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


# --- Audit exports ------------------------------------------------------------------------

# Snapshots up to this size live in the row; larger ones go to the default storage.
INLINE_PAYLOAD_MAX = 4 * 1024 * 1024


def _scope_date(value, field: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValidationError({field: f"{value!r} is not a date (YYYY-MM-DD)."}) from None


def normalise_scope(scope: dict) -> dict:
    """Return the scope with every key present, dates as ISO text and SKUs sorted.

    Raises ``ValidationError`` naming the field for a bad date, an inverted range, an unknown
    jurisdiction or outcome, or an unknown key.
    """
    from audit.snapshot import OUTCOMES

    unknown = set(scope) - {"from", "to", "jurisdiction", "outcome", "skus"}
    if unknown:
        raise ValidationError({"scope": f"Unknown scope keys: {', '.join(sorted(unknown))}."})
    start, end = _scope_date(scope.get("from"), "from"), _scope_date(scope.get("to"), "to")
    if start and end and start > end:
        raise ValidationError({"to": f"The range ends ({end}) before it starts ({start})."})
    jurisdiction = (scope.get("jurisdiction") or "").upper() or None
    if jurisdiction and jurisdiction not in settings.JURISDICTIONS:
        raise ValidationError(
            {"jurisdiction": f"{jurisdiction} is not one of {', '.join(settings.JURISDICTIONS)}."}
        )
    outcome = scope.get("outcome") or None
    if outcome and outcome not in OUTCOMES:
        raise ValidationError({"outcome": f"{outcome!r} is not one of {', '.join(OUTCOMES)}."})
    skus = sorted({str(s).strip() for s in scope.get("skus") or [] if str(s).strip()})
    return {
        "from": start,
        "to": end,
        "jurisdiction": jurisdiction,
        "outcome": outcome,
        "skus": skus,
    }


@transaction.atomic
def export_request(*, actor, tenant, scope: dict, background: bool = True) -> AuditExport:
    """Queue an audit export of ``tenant`` for ``scope``; record ``audit.export.requested``.

    With ``background`` the snapshot is built by a django-q2 task queued on commit (so the task
    never runs for a request that rolled back); without it the caller runs ``export_build``.
    Raises ``ValidationError`` for a bad scope.
    """
    scope = normalise_scope(scope)
    label = actor.get_username() if actor is not None else "command line"
    export = AuditExport(tenant=tenant, requested_by=actor, requested_by_label=label, scope=scope)
    export.full_clean()
    export.save()
    record(
        actor=actor,
        verb="audit.export.requested",
        target=export,
        tenant=tenant,
        data={"scope": scope},
    )
    if background:
        from audit import tasks

        transaction.on_commit(lambda: tasks.enqueue_export(export.pk))
    return export


class _Progress(worker.ProgressWriter):
    """Reports progress, visible while the snapshot's own transaction is still open; a
    percentage already reported is not written again."""

    SQL = (
        "UPDATE audit_auditexport SET progress = %s, progress_note = %s "
        "WHERE id = %s AND status = 'running'"
    )

    def __init__(self, export_id: int):
        super().__init__(self.SQL)
        self.export_id, self.last = export_id, -1

    def __call__(self, pct: int, note: str) -> None:
        if not self.enabled or pct == self.last:
            return
        self.last = pct
        self.write([pct, note[:200], self.export_id])


def _claim(export_id: int) -> AuditExport | None:
    with transaction.atomic():
        export = (
            AuditExport.objects.select_for_update()
            .select_related("tenant")
            .filter(pk=export_id)
            .first()
        )
        if export is None or export.status != ExportStatus.QUEUED:
            return None  # a duplicate task, or a row already finished
        if worker.stopping():  # fetched by a stopping worker: back to the queue unstarted
            from audit import tasks

            transaction.on_commit(lambda: tasks.enqueue_export(export.pk))
            return None
        export.status, export.started_at = ExportStatus.RUNNING, timezone.now()
        export.heartbeat_at = export.started_at
        export.progress, export.progress_note = 5, "Started"
        export.save(
            update_fields=["status", "started_at", "heartbeat_at", "progress", "progress_note"]
        )
    return export


# The build's sign of life; a locked row (the seal, a sweep) is skipped rather than waited for.
_HEARTBEAT = (
    "UPDATE audit_auditexport SET heartbeat_at = %s WHERE id IN (SELECT id FROM "
    "audit_auditexport WHERE id = %s AND status = 'running' FOR UPDATE SKIP LOCKED)"
)


def _snapshot(export: AuditExport, progress) -> tuple[object, bytes | None, str]:
    """Build the snapshot in one consistent read; return (built, inline bytes, storage name)."""
    from audit import snapshot

    outermost = not connection.in_atomic_block
    with tempfile.TemporaryFile() as spool, transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        built = snapshot.build(export, spool.write, progress)
        spool.seek(0)
        if built.size <= INLINE_PAYLOAD_MAX:
            return built, spool.read(), ""
        name = f"audit_exports/{export.tenant.slug}/{export.pk}-{built.sha256[:16]}.json"
        progress(95, "Storing the snapshot")
        return built, None, default_storage.save(name, File(spool))


def export_build(*, export_id: int) -> AuditExport | None:
    """Build, store and seal one queued export; return it (None when it was not queued).

    The snapshot is read in one REPEATABLE READ transaction; sealing (payload, digest, status
    ``ready``, ``audit.export.completed`` and the ``audit_export.ready`` outbox event) is one
    more. Any failure is recorded through ``export_fail`` with its reason and never raised, so
    a worker keeps going. Safe to call twice: only a queued export is built. A heartbeat is
    written every ``WORKER_HEARTBEAT_SECONDS`` while the snapshot is read. A build under way when
    its worker is asked to stop goes on (the export lifecycle has no way back to queued); if the
    worker kills it at the end of its stop window, the sweep fails the export.
    """
    export = _claim(export_id)
    if export is None:
        return None
    progress = _Progress(export.pk)
    try:
        with worker.Heartbeat(_HEARTBEAT, [export.pk], enabled=progress.enabled):
            built, inline, stored = _snapshot(export, progress)
        return _seal(export, built, inline, stored)
    except Exception as err:
        log.exception("audit export %s failed", export.pk)
        return export_fail(export_id=export.pk, reason=f"{type(err).__name__}: {err}")
    finally:
        progress.close()


@transaction.atomic
def _seal(export: AuditExport, built, inline: bytes | None, stored: str) -> AuditExport:
    from audit import outbox

    export.payload = inline.decode("utf-8") if inline is not None else ""
    export.payload_file = stored
    export.size_bytes, export.sha256, export.summary = built.size, built.sha256, built.summary
    export.status, export.progress, export.progress_note = ExportStatus.READY, 100, "Ready"
    export.finished_at = timezone.now()
    export.save()
    record(
        actor=None,
        actor_label="audit export worker",
        verb="audit.export.completed",
        target=export,
        tenant=export.tenant,
        data={"sha256": built.sha256, "size_bytes": built.size, "summary": built.summary},
    )
    outbox.emit(
        tenant=export.tenant,
        type=outbox.AUDIT_EXPORT_READY,
        target=export,
        payload={
            "export_id": export.pk,
            "sha256": built.sha256,
            "size_bytes": built.size,
            "link": outbox.link(export.tenant, "audit:export_detail", pk=export.pk),
        },
    )
    took = export.finished_at - (export.started_at or export.finished_at)
    counters.add_many(
        (export.tenant_id, metric, n)
        for metric, n in (
            (counters.AUDIT_EXPORTS, 1),
            (counters.EXPORT_BYTES, built.size),
            (counters.EXPORT_MS, int(took.total_seconds() * 1000)),
        )
    )
    return export


EXPORT_STALLED = (
    "The worker building this export stopped before it finished; nothing was sealed. "
    "Request the export again."
)


def exports_fail_stalled() -> int:
    """Fail the exports whose worker died mid-build; return how many.

    An export running with a heartbeat older than ``WORKER_STALE_SECONDS`` has lost its worker
    (the task is not retried). Each goes through ``export_fail`` (audited,
    ``audit_export.failed``).
    """
    limit = timezone.now() - worker.stale_after()
    stalled = AuditExport.objects.filter(status=ExportStatus.RUNNING).filter(
        models.Q(heartbeat_at__isnull=True) | models.Q(heartbeat_at__lt=limit)
    )
    ids = list(stalled.values_list("pk", flat=True))
    for export_id in ids:
        export_fail(export_id=export_id, reason=EXPORT_STALLED)
    return len(ids)


@transaction.atomic
def export_fail(*, export_id: int, reason: str) -> AuditExport:
    """Mark an unfinished export failed with ``reason``; audit it and emit
    ``audit_export.failed``. A finished export is returned unchanged."""
    from audit import outbox

    export = AuditExport.objects.select_for_update().select_related("tenant").get(pk=export_id)
    if export.is_terminal:
        return export
    export.status, export.failure_reason = ExportStatus.FAILED, reason[:2000] or "unknown error"
    export.progress_note, export.finished_at = "Failed", timezone.now()
    export.save(update_fields=["status", "failure_reason", "progress_note", "finished_at"])
    record(
        actor=None,
        actor_label="audit export worker",
        verb="audit.export.failed",
        target=export,
        tenant=export.tenant,
        data={"reason": export.failure_reason},
    )
    outbox.emit(
        tenant=export.tenant,
        type=outbox.AUDIT_EXPORT_FAILED,
        target=export,
        payload={
            "export_id": export.pk,
            "reason": export.failure_reason,
            "link": outbox.link(export.tenant, "audit:export_detail", pk=export.pk),
        },
    )
    return export


def export_record_download(*, actor, export: AuditExport, rendering: str) -> None:
    """Record that ``actor`` downloaded or opened a rendering of a ready export.

    Writes only the ``audit.export.downloaded`` event (the export itself is immutable).
    """
    record(
        actor=actor,
        verb="audit.export.downloaded",
        target=export,
        tenant=export.tenant,
        data={"rendering": rendering, "sha256": export.sha256},
    )
