"""Reads of the audit app: the log, one object's history, exports and their stored bytes."""

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db.models import QuerySet

from audit import canonical, snapshot, verify
from audit.models import AuditEvent, AuditExport, ExportStatus
from workbench.models import Membership

LOG_PAGE_SIZE = 50
HISTORY_LIMIT = 100


def events_for_target(tenant, target_type: str, target_id, *, limit: int = HISTORY_LIMIT):
    """Return the newest events about one object of ``tenant`` (newest first, at most limit).

    ``target_type`` is the model label (``catalog.product``); ids compare as text.
    """
    return list(
        AuditEvent.objects.filter(tenant=tenant, target_type=target_type, target_id=str(target_id))
        .select_related("actor")
        .order_by("-seq")[:limit]
    )


def audit_log(
    tenant,
    *,
    actor: str = "",
    verb: str = "",
    target_type: str = "",
    target_id: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Return the tenant's events matching the filters, newest first.

    ``actor`` matches the actor's label exactly (case-insensitive), ``verb`` is a prefix
    (``catalog.`` or ``catalog.product.updated``), dates are whole days, inclusive.
    """
    events = AuditEvent.objects.filter(tenant=tenant)
    if actor:
        events = events.filter(actor_label__iexact=actor)
    if verb:
        events = events.filter(verb__startswith=verb)
    if target_type:
        events = events.filter(target_type=target_type)
    if target_id:
        events = events.filter(target_id=target_id)
    start, end = snapshot.scope_bounds(
        {"from": date_from and date_from.isoformat(), "to": date_to and date_to.isoformat()}
    )
    if start:
        events = events.filter(created_at__gte=start)
    if end:
        events = events.filter(created_at__lt=end)
    return events.order_by("-seq")


@dataclass
class Page:
    events: list
    next_before: int | None


def log_page(events: QuerySet[AuditEvent], *, before: int | None, size: int = LOG_PAGE_SIZE):
    """Return one keyset page of ``events`` (ordered by ``-seq``) starting below ``before``.

    Keyset, not OFFSET: page 2,000 of a million events costs what page 1 costs.
    """
    if before is not None:
        events = events.filter(seq__lt=before)
    rows = list(events[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1].seq if more else None)


def actor_labels(tenant) -> list[str]:
    """Return the names to suggest in the actor filter: the tenant's members, then "system".

    Taken from memberships rather than a DISTINCT over millions of events on every page load.
    """
    members = Membership.objects.filter(tenant=tenant).order_by("user__username")
    return [*members.values_list("user__username", flat=True), "system"]


def chain_status(tenant) -> verify.ChainReport:
    """Verify the tenant's chain, reusing the last result while its head has not moved.

    The cache key holds the head hash, so any new event forces a full walk; a tampered event
    under an unchanged head is found at the latest when the cache entry expires (5 minutes).
    """
    head = verify.chain_head(tenant.pk)
    key = f"audit-chain:{tenant.pk}:{head}"
    report = cache.get(key)
    if report is None:
        report = verify.verify_chain(tenant.pk)
        cache.set(key, report, 300)
    return report


def exports_for_tenant(tenant) -> QuerySet[AuditExport]:
    """Return the tenant's audit exports, newest first, without their payloads."""
    return (
        AuditExport.objects.filter(tenant=tenant)
        .defer("payload")
        .select_related("requested_by")
        .order_by("-created_at", "-id")
    )


class SnapshotTampered(Exception):
    """The stored snapshot bytes no longer match the export's recorded digest."""


def export_bytes(export: AuditExport) -> bytes:
    """Return the canonical snapshot bytes of a ready export, checked against its SHA-256.

    Raises ``SnapshotTampered`` when the stored bytes (row or file) were changed or lost.
    """
    if export.status != ExportStatus.READY:
        raise ValueError(f"audit export {export.pk} is {export.status}, not ready")
    if export.payload_file:
        try:
            with default_storage.open(export.payload_file, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            raise SnapshotTampered(f"the snapshot file {export.payload_file} is missing") from None
    else:
        data = AuditExport.objects.values_list("payload", flat=True).get(pk=export.pk)
        data = data.encode("utf-8")
    if snapshot.digest(data) != export.sha256:
        raise SnapshotTampered(
            f"the stored snapshot of export {export.pk} does not match its SHA-256 {export.sha256}"
        )
    return data


def export_snapshot(export: AuditExport) -> dict:
    """Return the parsed snapshot document of a ready export (digest checked)."""
    return snapshot.parse(export_bytes(export))


class ExportFileRefused(Exception):
    """An export file cannot be checked against a record here; the message says why."""


@dataclass(frozen=True)
class ExportFileCheck:
    """An export file compared with the export it names, as recorded in this database."""

    export: AuditExport
    sha256: str  # of the file
    canonical: bool  # the file's bytes are the canonical form of its JSON
    differences: list  # snapshot.Difference, file against the recorded snapshot
    snapshot_problem: str = ""  # why the recorded snapshot could not be compared

    @property
    def matches(self) -> bool:
        return self.sha256 == self.export.sha256


def export_file_check(tenant, data: bytes, document: dict, *, limit: int = 10) -> ExportFileCheck:
    """Compare an export file with the ready export of ``tenant`` it names.

    Only ``tenant``'s exports are looked up: an id of another tenant's export is refused in the
    same words as an unknown id. Raises ``ExportFileRefused`` when there is no such ready
    export. On a digest mismatch, lists where the file differs from the recorded snapshot.
    """
    export_id = snapshot.export_id(document)
    export = AuditExport.objects.defer("payload").filter(tenant=tenant, pk=export_id).first()
    if export is None:
        raise ExportFileRefused(f"Export #{export_id} is not an export of {tenant.name}.")
    if export.status != ExportStatus.READY:
        raise ExportFileRefused(
            f"Export #{export_id} is {export.get_status_display().lower()}: it has no recorded "
            "digest to compare with."
        )
    actual = snapshot.digest(data)
    is_canonical = canonical.dumps_bytes(document) == data
    diffs, problem = [], ""
    if actual != export.sha256:
        try:
            stored = export_snapshot(export)
        except SnapshotTampered as err:
            problem = str(err)
        else:
            diffs = snapshot.differences(stored, document, limit=limit)
    return ExportFileCheck(export, actual, is_canonical, diffs, problem)
