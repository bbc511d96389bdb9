# Over 500 lines: an import's run is one lifecycle over its batch (start … requeue).
"""Catalog imports: a spreadsheet's run over its batch, from upload to done, held or refused.

Every write is audited in the same transaction. An import reads and validates the file in one
transaction that writes its valid rows as they come (``loader.RowWriter``), then the batch counts
and the audit event(s); a file-level refusal rolls all of it back, so no product and no version
of a refused file is ever written.
"""

import hashlib
import json
import logging
import os
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import audit
from audit import outbox
from audit import services as audit_services
from catalog import importer, loader
from catalog.models import (
    EditsChoice,
    ImportBatch,
    ImportStatus,
    ProductVersion,
)
from catalog.reader import FileRefused
from metering import counters
from workbench import hooks, worker

log = logging.getLogger(__name__)

# Files larger than this run in the background (django-q2); smaller ones finish in the request.
BACKGROUND_BYTES = getattr(settings, "CATALOG_IMPORT_BACKGROUND_BYTES", 256 * 1024)
# Imports of at most this many accepted rows also get one audit event per product written;
# larger ones one event per batch (the versions themselves name the batch).
AUDIT_DETAIL_MAX = getattr(settings, "CATALOG_IMPORT_AUDIT_DETAIL_MAX", 200)


def _digest(fileobj) -> tuple[str, int]:
    fileobj.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := fileobj.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return digest.hexdigest(), size


def import_batch_start(
    *,
    actor,
    tenant,
    fileobj,
    filename: str,
    source: str = "upload",
    background: bool | None = None,
    edits: str = "",
) -> ImportBatch:
    """Record an import of ``fileobj`` and run it: inline when small, else in the background.

    Returns the batch; an inline run is finished (done, refused, or waiting for a choice about
    in-app edits) when this returns, a background run is queued on commit. ``edits`` chooses
    up front what happens to products whose facts were last set by an edit or the API
    (``EditsChoice``); without it such a conflict stops the import before it writes anything.
    Never raises for a bad file: the batch says why.
    """
    sha, size = _digest(fileobj)
    if background is None:
        background = size > BACKGROUND_BYTES
    user = actor if getattr(actor, "is_authenticated", False) else None
    batch = ImportBatch(
        tenant=tenant,
        created_by=user,
        source=source,
        filename=filename[:255],
        file_sha256=sha,
        size_bytes=size,
    )
    if edits:
        _check_edits(edits)
        batch.edits, batch.edits_chosen_by, batch.edits_chosen_at = edits, user, timezone.now()
    if size > settings.UPLOAD_MAX_BYTES or not background:
        batch.save()
        import_batch_process(batch_id=batch.pk, fileobj=fileobj)
        batch.refresh_from_db()
        return batch
    batch.stored_file = _store_upload(batch, fileobj)
    with transaction.atomic():
        batch.save()
        transaction.on_commit(lambda: _queue(batch.pk))
    return batch


def import_batch_from_path(*, actor, tenant, path, source: str, edits: str = "") -> ImportBatch:
    """Import the file at ``path`` inline (CLI, demo data, benchmark); return the finished batch
    (or the batch waiting for a choice about in-app edits, when ``edits`` is not given)."""
    with open(path, "rb") as fileobj:
        return import_batch_start(
            actor=actor,
            tenant=tenant,
            fileobj=fileobj,
            filename=os.path.basename(path),
            source=source,
            background=False,
            edits=edits,
        )


def _check_edits(edits: str) -> None:
    if edits not in EditsChoice.values:
        raise ValidationError(
            {"edits": f"Choose {' or '.join(EditsChoice.values)}, not {edits!r}."}
        )


def _store_upload(batch: ImportBatch, fileobj) -> str:
    name = f"catalog-imports/{batch.tenant_id}/{uuid.uuid4().hex}-{batch.filename[-80:]}"
    fileobj.seek(0)
    return default_storage.save(name, ContentFile(fileobj.read()))


def import_batch_choose_edits(*, actor, batch: ImportBatch, edits: str) -> ImportBatch:
    """Apply the analyst's choice to an import that stopped over in-app edits, and run it again.

    ``edits`` is ``keep`` (those products keep their current facts, the other rows are
    imported) or ``overwrite`` (the file's facts are written over the edits listed). The choice
    is audited (``catalog.import.edits_chosen``, with the SKUs it applies to) in the same
    transaction that queues the batch; the run then happens inline for a small file, in the
    background otherwise. A product edited again meanwhile stops the run again, to be shown.
    Raises ``ValidationError({"edits": ...})`` for an unknown choice or a batch that is not
    waiting for one.
    """
    _check_edits(edits)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("tenant").get(pk=batch.pk)
        if batch.status != ImportStatus.CONFIRM:
            raise ValidationError(
                {
                    "edits": f"Import #{batch.pk} is not waiting for a choice: it is "
                    f"{batch.get_status_display().lower()}."
                }
            )
        batch.status, batch.edits = ImportStatus.QUEUED, edits
        batch.edits_chosen_by, batch.edits_chosen_at = actor, timezone.now()
        batch.save(update_fields=["status", "edits", "edits_chosen_by", "edits_chosen_at"])
        audit.record(
            actor=actor,
            verb="catalog.import.edits_chosen",
            target=batch,
            tenant=batch.tenant,
            data={
                "filename": batch.filename,
                "edits": edits,
                "skus": [c["sku"] for c in batch.conflicts],
            },
        )
        background = batch.size_bytes > BACKGROUND_BYTES
        if background:
            transaction.on_commit(lambda: _queue(batch.pk))
    if not background:
        import_batch_process(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def _queue(batch_id: int) -> None:
    from django_q.tasks import async_task

    async_task("catalog.tasks.import_batch_task", batch_id, task_name=f"catalog-import-{batch_id}")


def import_batch_process(*, batch_id: int, fileobj=None) -> ImportBatch:
    """Read, validate and write one batch; mark it done, refused or failed.

    Reads ``fileobj`` or the batch's stored file. Progress is committed every few thousand rows
    and a heartbeat every ``WORKER_HEARTBEAT_SECONDS`` so that the batch page can show them; the
    rows themselves commit in one transaction at the end. A run that finds the batch still
    running from an earlier run whose heartbeat has stopped knows that run stopped its worker:
    after ``IMPORT_MAX_WORKER_CRASHES`` such runs the batch is failed for good and its upload
    deleted. A run whose worker is asked to stop rolls back and queues the batch again.
    """
    batch, run = _begin_run(batch_id)
    if run is None:
        batch.refresh_from_db()
        return batch
    stored = batch.stored_file if fileobj is None else ""
    if stored:
        fileobj = default_storage.open(stored, "rb")
    progress = _Progress(batch.pk)
    heartbeat = worker.Heartbeat(_HEARTBEAT, [batch.pk, run], enabled=progress.enabled)
    ended = True
    try:
        with heartbeat:
            _read_and_write(batch, fileobj, progress, run)
    except FileRefused as err:
        ended = _refuse(batch, str(err), run=run)
    except _EditsToConfirm as err:
        _hold(batch, err.conflicts, run, fileobj)
        ended = False  # the upload is kept for the run after the choice
    except worker.WorkerStopping:
        ended = not _requeue(batch, run=run, reason="worker_stopping")
    except _Superseded:
        ended = False  # the run that took over finishes the batch and deletes the upload
        log.warning("catalog import %s: run %s was superseded and rolled back", batch.pk, run)
    except Exception:
        log.exception("catalog import %s failed", batch.pk)
        ended = _fail(batch, run=run)
    finally:
        progress.close()
        if stored:
            fileobj.close()
    if stored and ended:
        default_storage.delete(stored)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def _begin_run(batch_id: int) -> tuple[ImportBatch, int | None]:
    """Mark a run begun (committed before it reads anything) and return its number, or None
    when there is nothing to run: the batch has ended, another run is alive (a duplicate
    delivery), the batch's runs keep stopping the worker (it is failed), or the worker is
    stopping (it goes back to the queue unstarted). The first run's start time is kept."""
    batch = (
        ImportBatch.objects.select_for_update(of=("self",))
        .select_related("tenant", "created_by")
        .get(pk=batch_id)
    )
    if batch.is_terminal:
        return batch, None
    if batch.status == ImportStatus.RUNNING and not worker.is_stale(batch.heartbeat_at):
        return batch, None
    crashes = batch.runs  # every run begun on an unfinished batch stopped its worker
    if crashes >= settings.IMPORT_MAX_WORKER_CRASHES:
        _fail_crashed(batch)
        return batch, None
    if worker.stopping():
        transaction.on_commit(lambda: _queue(batch.pk))
        return batch, None
    batch.status, batch.runs = ImportStatus.RUNNING, batch.runs + 1
    batch.started_at = batch.started_at or timezone.now()
    batch.heartbeat_at = timezone.now()
    batch.save(update_fields=["status", "runs", "started_at", "heartbeat_at"])
    return batch, batch.runs


# The run's sign of life, written only while the batch is still this run's; a locked row (the
# run's own commit, a sweep deciding about it) is skipped rather than waited for.
_HEARTBEAT = (
    "UPDATE catalog_importbatch SET heartbeat_at = %s WHERE id IN (SELECT id FROM "
    "catalog_importbatch WHERE id = %s AND status = 'running' AND runs = %s "
    "FOR UPDATE SKIP LOCKED)"
)


class _Superseded(Exception):
    """The batch is no longer this run's (a sweep queued it again and another run began)."""


class _EditsToConfirm(Exception):
    """The file would overwrite facts last set in the app, and nobody has chosen what to do."""

    def __init__(self, conflicts: list[dict]):
        super().__init__(f"{len(conflicts)} products edited in the app")
        self.conflicts = conflicts


def _conflict_details(conflicts: list[loader.Conflict]) -> list[dict]:
    """Describe each conflict for the batch page: who set the in-app facts, when, and each
    fact where they and the file differ."""
    versions = ProductVersion.objects.select_related("created_by").in_bulk(
        [c.version_id for c in conflicts]
    )
    details = []
    for conflict in sorted(conflicts, key=lambda c: c.sku):
        version = versions[conflict.version_id]
        details.append(
            {
                "sku": conflict.sku,
                "product_id": conflict.product_id,
                "version_id": version.pk,
                "version": version.n,
                "edited_by": version.created_by.get_username() if version.created_by else "",
                "edited_at": version.created_at.isoformat(),
                "changes": audit_services.changes(version.facts, json.loads(conflict.file_json)),
            }
        )
    return details


def _hold(batch: ImportBatch, conflicts: list[dict], run: int, fileobj) -> None:
    """Stop a run, whose writes were rolled back, to wait for the analyst's choice about the
    in-app edits it found: keep the upload for the next run, list the conflicts, and hand the
    run back (it is no crash). Audited as ``catalog.import.held``."""
    stored = batch.stored_file or _store_upload(batch, fileobj)
    with transaction.atomic():
        held = _still_running(batch, run).update(
            status=ImportStatus.CONFIRM,
            runs=run - 1,
            conflicts=conflicts,
            stored_file=stored,
            edits="",
            edits_chosen_by=None,
            edits_chosen_at=None,
        )
        if held:
            audit.record(
                actor=batch.created_by,
                actor_label=_actor_label(batch),
                verb="catalog.import.held",
                target=batch,
                tenant=batch.tenant,
                data={"filename": batch.filename, "skus": [c["sku"] for c in conflicts]},
            )
    if not held and stored != batch.stored_file:
        default_storage.delete(stored)


class _Progress(worker.ProgressWriter):
    """Reports rows read, so that the batch page sees them while the import's own transaction
    is still open. Each report is also where a run checks whether its worker is stopping."""

    # SKIP LOCKED: progress is worth less than never waiting on the batch row.
    SQL = (
        "UPDATE catalog_importbatch SET processed_rows = %s, total_rows = %s "
        "WHERE id IN (SELECT id FROM catalog_importbatch WHERE id = %s "
        "AND status = 'running' FOR UPDATE SKIP LOCKED)"
    )

    def __init__(self, batch_id: int):
        super().__init__(self.SQL)
        self.batch_id = batch_id

    def __call__(self, done: int, estimate: int | None) -> None:
        worker.check_stop()
        self.write([done, max(estimate or 0, done), self.batch_id])


def _actor_label(batch: ImportBatch) -> str | None:
    return None if batch.created_by else f"{batch.source} import"


@transaction.atomic
def _read_and_write(batch: ImportBatch, fileobj, progress, run: int) -> None:
    """Validate the file and write its valid rows as they are read, in one transaction.

    A file-level refusal found halfway (a duplicate SKU, the row limit) raises out of the
    transaction, so the rows already written are rolled back with it.
    """
    # A choice made on the page applies to the conflicts it listed; one made up front (CLI) to all.
    confirmed = {c["sku"]: c["version_id"] for c in batch.conflicts} if batch.conflicts else None
    with loader.RowWriter(
        tenant_id=batch.tenant_id,
        batch_id=batch.pk,
        detail_limit=AUDIT_DETAIL_MAX,
        edits=batch.edits,
        confirmed=confirmed,
    ) as writer:
        result = importer.read_catalog(fileobj, batch.filename, progress=progress, sink=writer.add)
        counts = writer.finish()
    if counts.unresolved:
        raise _EditsToConfirm(_conflict_details(counts.resolved + counts.unresolved))
    _commit(batch, result, counts, run)


def _commit(
    batch: ImportBatch, result: importer.ReadResult, counts: loader.UpsertCounts, run: int
) -> None:
    # The fence: a run the sweep gave up on (its heartbeat went quiet, and another run began)
    # must not commit over the run that took over.
    if not _still_running(batch, run).select_for_update().exists():
        raise _Superseded
    batch.status = ImportStatus.DONE
    batch.sheet = result.sheet
    batch.headers = result.headers
    batch.ignored_columns = result.ignored_columns
    batch.total_rows = batch.processed_rows = result.total_rows
    batch.new_count, batch.updated_count = counts.new, counts.updated
    batch.unchanged_count, batch.refused_count = counts.unchanged, len(result.refused)
    batch.refused_rows = result.refused
    batch.kept_count, batch.conflicts = counts.kept, _conflict_details(counts.resolved)
    batch.stored_file = ""
    batch.finished_at = timezone.now()
    batch.save()
    for product_id, sku, version, old, new in counts.changes:
        verb = "catalog.product.created" if old is None else "catalog.product.updated"
        data = {"sku": sku, "version": version, "import_batch": batch.pk}
        data["changes" if old else "facts"] = audit_services.changes(old, new) if old else new
        audit.record(
            actor=batch.created_by,
            actor_label=_actor_label(batch),
            verb=verb,
            target=("catalog.product", product_id, sku),
            data=data,
            tenant=batch.tenant,
        )
    audit.record(
        actor=batch.created_by,
        actor_label=_actor_label(batch),
        verb="catalog.import.completed",
        target=batch,
        data={
            "filename": batch.filename,
            "file_sha256": batch.file_sha256,
            "sheet": batch.sheet,
            "rows": batch.total_rows,
            "new": batch.new_count,
            "updated": batch.updated_count,
            "unchanged": batch.unchanged_count,
            "refused": batch.refused_count,
            "kept": batch.kept_count,
            **_edits_data(batch),
        },
    )
    if counts.updated:
        hooks.catalog_imported(
            actor=batch.created_by,
            tenant_id=batch.tenant_id,
            batch_id=batch.pk,
            subject=f"import #{batch.pk} ({batch.filename})",
        )
    outbox.emit(
        tenant=batch.tenant,
        type=outbox.CATALOG_IMPORT_COMPLETED,
        target=batch,
        payload={
            "import_id": batch.pk,
            "filename": batch.filename,
            "created": batch.new_count,
            "updated": batch.updated_count,
            "unchanged": batch.unchanged_count,
            "refused": batch.refused_count,
            "link": outbox.link(batch.tenant, "catalog:batch_detail", pk=batch.pk),
        },
    )
    took = batch.finished_at - (batch.started_at or batch.finished_at)
    counters.add_many(
        (batch.tenant_id, metric, n)
        for metric, n in (
            (counters.PRODUCTS_IMPORTED, batch.new_count + batch.updated_count),
            (counters.CATALOG_IMPORTS, 1),
            (counters.UPLOAD_BYTES, batch.size_bytes),
            (counters.IMPORT_MS, int(took.total_seconds() * 1000)),
        )
    )


def _edits_data(batch: ImportBatch) -> dict:
    """What the import did to products last set in the app, for its audit event."""
    if not batch.conflicts:
        return {}
    return {"edits": batch.edits, "edited_skus": [c["sku"] for c in batch.conflicts]}


def _refuse(batch: ImportBatch, message: str, run: int | None = None) -> bool:
    return _end_unwritten(
        batch, ImportStatus.REFUSED, message, "catalog.import.refused", run, message=message
    )


INTERNAL_ERROR = (
    "The import stopped on an internal error; nothing was written. "
    "Try again, and tell your administrator if it happens again."
)
STALLED = (
    "The background worker running this import stopped before it finished; nothing from this "
    "file was written. Upload the file again, and tell your administrator if it happens again."
)


CRASHED = (
    "This import stopped the background worker {n} times (the file may need more memory or "
    "time than a worker has), so it will not be tried again; nothing from this file was "
    "written and the uploaded copy is deleted. Split the file, or tell your administrator."
)


def _fail(
    batch: ImportBatch,
    message: str = INTERNAL_ERROR,
    reason: str = "internal_error",
    run: int | None = None,
    **data,
) -> bool:
    return _end_unwritten(
        batch, ImportStatus.FAILED, message, "catalog.import.failed", run, reason=reason, **data
    )


def _fail_crashed(batch: ImportBatch) -> None:
    """Fail a batch whose runs have stopped the worker as often as allowed, and delete its
    upload once that commits. Runs in the caller's transaction, the batch row locked."""
    log.error("catalog import %s stopped its worker %s times; failed", batch.pk, batch.runs)
    _fail(batch, CRASHED.format(n=batch.runs), "worker_crashed", crashes=batch.runs)
    _delete_upload_on_commit(batch)


def _delete_upload_on_commit(batch: ImportBatch) -> None:
    if batch.stored_file:
        stored = batch.stored_file
        transaction.on_commit(lambda: default_storage.delete(stored))


def _still_running(batch: ImportBatch, run: int):
    return ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.RUNNING, runs=run)


@transaction.atomic
def _end_unwritten(
    batch: ImportBatch, status: str, shown: str, verb: str, run: int | None = None, **data
) -> bool:
    """End a batch that wrote no product, with the message its page shows; audited. With
    ``run``, only while the batch is still that run's (a superseded run changes nothing).
    Returns whether it ended the batch."""
    rows = ImportBatch.objects.filter(pk=batch.pk)
    if run is not None:
        rows = _still_running(batch, run)
    if not rows.update(status=status, message=shown, finished_at=timezone.now(), stored_file=""):
        return False
    audit.record(
        actor=batch.created_by,
        actor_label=_actor_label(batch),
        verb=verb,
        target=batch,
        tenant=batch.tenant,
        data={"filename": batch.filename, "file_sha256": batch.file_sha256, **data},
    )
    return True


@transaction.atomic
def _requeue(batch: ImportBatch, *, run: int, reason: str) -> bool:
    """Put a batch whose run ended unfinished back in the queue; return whether it was.

    ``worker_stopping``: the run rolled back because its worker was asked to stop; it is not a
    crash, so it is not counted. ``stalled``: its heartbeat stopped (the sweep); the run stays
    counted towards ``IMPORT_MAX_WORKER_CRASHES``. Audited as ``catalog.import.requeued``.
    """
    runs = run - 1 if reason == "worker_stopping" else run
    requeued = _still_running(batch, run).update(
        status=ImportStatus.QUEUED, runs=runs, processed_rows=0
    )
    if requeued:
        audit.record(
            actor=batch.created_by,
            actor_label=_actor_label(batch),
            verb="catalog.import.requeued",
            target=batch,
            tenant=batch.tenant,
            data={"filename": batch.filename, "reason": reason, "runs": runs},
        )
        transaction.on_commit(lambda: _queue(batch.pk))
    return bool(requeued)


def import_batches_fail_stalled() -> int:
    """Hand on the background imports whose worker stopped; return how many.

    A running batch whose heartbeat is older than ``WORKER_STALE_SECONDS`` lost its worker
    (its transaction rolled back with it, so nothing of the file was written): it is queued
    again (audited ``catalog.import.requeued``, reason ``stalled``), or failed for good once
    its runs have stopped the worker ``IMPORT_MAX_WORKER_CRASHES`` times (reason
    ``worker_crashed``). An unfinished batch with no sign of life for the whole
    ``ImportBatch.stall_window`` is failed (reason ``stalled``). Failed batches lose their
    uploaded copy; each decision is taken with the batch row locked, skipping a locked one.
    """
    silent = Q(heartbeat_at__isnull=True) | Q(
        heartbeat_at__lt=timezone.now() - worker.stale_after()
    )
    candidates = ImportBatch.objects.filter(
        silent, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
    )
    count = 0
    for batch in candidates.select_related("tenant", "created_by"):
        with transaction.atomic():
            locked = (
                ImportBatch.objects.select_for_update(skip_locked=True)
                .filter(
                    pk=batch.pk,
                    status=batch.status,
                    runs=batch.runs,
                    heartbeat_at=batch.heartbeat_at,
                )
                .first()
            )
            if locked is None:
                continue  # changed meanwhile, or another sweep has it
            if batch.is_abandoned:
                _fail(batch, STALLED, "stalled")
                _delete_upload_on_commit(batch)
            elif batch.status != ImportStatus.RUNNING:
                continue  # queued, waiting for a worker
            elif batch.runs >= settings.IMPORT_MAX_WORKER_CRASHES:
                _fail_crashed(batch)
            else:
                _requeue(batch, run=batch.runs, reason="stalled")
        count += 1
    return count
