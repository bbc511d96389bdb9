"""Counting usage in the transaction that does the work: one upsert per batch, not per row.

Call ``add`` (or ``add_many``) from a service, inside its transaction, after its audit event::

    from metering import counters
    counters.add(tenant_id=batch.tenant_id, metric=counters.PRODUCTS_IMPORTED, n=written)

The counter row is ``UsageCounter(tenant, month, metric)``, incremented with
``INSERT … ON CONFLICT … DO UPDATE SET value = value + n``; the month is the database clock's
(UTC) at the start of the transaction. The increment commits or rolls back with the work.

Inside ``batch()`` (or a service decorated ``@batched``) increments are summed in memory and
written as one statement when the block ends without an exception; a nested batch hands its sums
to the outer one on success and drops them on failure. Counters are the last rows a transaction
locks: after its audit event (which holds the tenant's chain lock) and in (tenant, metric)
order, so two transactions never wait on each other's counters in opposite orders.
"""

from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.db import connection

# What the usage page shows and downloads, in this order: (metric, label, unit).
PRODUCTS_IMPORTED = "products_imported"
CATALOG_IMPORTS = "catalog_imports"
UPLOAD_BYTES = "upload_bytes"
REVIEW_ACTIONS = "review_actions"
AUTO_FINALIZED = "decisions_auto_finalized"
API_CALLS = "api_calls"
AUDIT_EXPORTS = "audit_exports"
EXPORT_BYTES = "export_bytes"
EVIDENCE_FILES = "evidence_files"
EVIDENCE_BYTES = "evidence_bytes"
OUTCOMES = ("classified", "needs_review", "blocked")
WEBHOOK_RESULTS = ("succeeded", "retrying", "dead")


def decisions(outcome: str) -> str:
    """The metric counting decisions of ``outcome``."""
    return f"decisions_{outcome}"


def webhook_deliveries(result: str) -> str:
    """The metric counting webhook delivery attempts that ended ``result``."""
    return f"webhooks_{result}"


USAGE: list[tuple[str, str, str]] = [
    (PRODUCTS_IMPORTED, "Products imported (created or changed)", "count"),
    (CATALOG_IMPORTS, "Catalog imports completed", "count"),
    (decisions("classified"), "Decisions: classified", "count"),
    (decisions("needs_review"), "Decisions: needs review", "count"),
    (decisions("blocked"), "Decisions: blocked", "count"),
    (REVIEW_ACTIONS, "Review actions by people", "count"),
    (AUTO_FINALIZED, "Decisions finalized by a rule pack", "count"),
    (API_CALLS, "API calls", "count"),
    (webhook_deliveries("succeeded"), "Webhook deliveries: delivered", "count"),
    (webhook_deliveries("retrying"), "Webhook deliveries: failed, to retry", "count"),
    (webhook_deliveries("dead"), "Webhook deliveries: failed for good", "count"),
    (AUDIT_EXPORTS, "Audit exports", "count"),
    (UPLOAD_BYTES, "Catalog files uploaded", "bytes"),
    (EVIDENCE_FILES, "Evidence files attached", "count"),
    (EVIDENCE_BYTES, "Evidence stored", "bytes"),
    (EXPORT_BYTES, "Audit export snapshots stored", "bytes"),
]
USAGE_METRICS = [metric for metric, _label, _unit in USAGE]

# Kept for operators (Prometheus), not shown as usage.
IMPORT_MS = "import_ms"
EXPORT_MS = "export_ms"
LEASES_EXPIRED = "leases_expired"
JOBS_RECLAIMED = "jobs_reclaimed"
JOBS_DEAD = "jobs_dead"

_UPSERT = """
INSERT INTO metering_usagecounter (tenant_id, month, metric, value)
SELECT u.tenant_id, date_trunc('month', now() AT TIME ZONE 'UTC')::date, u.metric, u.n
  FROM unnest(%s::bigint[], %s::text[], %s::bigint[]) AS u(tenant_id, metric, n)
 ORDER BY u.tenant_id, u.metric
    ON CONFLICT (tenant_id, month, metric)
    DO UPDATE SET value = metering_usagecounter.value + EXCLUDED.value
"""

_open: ContextVar[Counter | None] = ContextVar("metering_batch", default=None)


def add(*, tenant_id: int, metric: str, n: int = 1) -> None:
    """Add ``n`` to ``metric`` of ``tenant_id`` for this month, in the caller's transaction."""
    add_many([(tenant_id, metric, n)])


def add_many(rows: Iterable[tuple[int, str, int]]) -> None:
    """Add each ``(tenant_id, metric, n)``: one statement, or into the open ``batch``."""
    sums = Counter()
    for tenant_id, metric, n in rows:
        if tenant_id is not None and n:
            sums[(int(tenant_id), metric)] += int(n)
    if not sums:
        return
    pending = _open.get()
    if pending is not None:
        pending.update(sums)
    else:
        _write(sums)


def _write(sums: Counter) -> None:
    keys = sorted(key for key, n in sums.items() if n)
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT,
            [[t for t, _m in keys], [m for _t, m in keys], [sums[key] for key in keys]],
        )


@contextmanager
def batch():
    """Sum the increments made inside the block; write them in one statement when it ends."""
    outer = _open.get()
    mine = Counter()
    token = _open.set(mine)
    try:
        yield
    finally:
        _open.reset(token)
    # Reached only when the block raised nothing: a failed block's counts are dropped with it.
    if outer is not None:
        outer.update(mine)
    else:
        _write(mine)


def batched(func):
    """Decorate a service so that its increments are written once, when it returns.

    Put it under ``@transaction.atomic`` so the write happens inside the service's transaction.
    """

    @wraps(func)
    def wrapper(*args, **kwargs):
        with batch():
            return func(*args, **kwargs)

    return wrapper
