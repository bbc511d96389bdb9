"""Set-based writes of validated rows, overlapped with reading the rest of the file.

``RowWriter`` takes valid rows while the importer is still reading and validating, and writes
them in chunks of a few thousand from a second thread on the caller's own connection: each
chunk's new products and versions are COPYed straight into their tables, and changed products
are updated from a COPYed staging table. PostgreSQL does that work on one core while Python
validates the next chunk on the other. Per-row ORM saves take minutes for 100k rows; this
takes a few seconds.

Everything runs inside the caller's transaction (``catalog.services``), which also writes the
batch and its audit event: a file refused halfway through (a duplicate SKU, the row limit) is
rolled back whole, so nothing of it is ever visible.
"""

import json
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from django.db import connection

from catalog.importer import ValidRow

# First key of the advisory lock that serialises catalog writes per tenant (imports, edits):
# version numbers are "current + 1", so two writers must not interleave on one tenant.
LOCK_NAMESPACE = 0x43415447  # "CATG"

# Rows per chunk. Big enough that per-statement costs vanish, small enough that the last
# chunk (written after reading ends, on nobody else's time) stays short.
CHUNK_ROWS = 4000
# Chunks queued behind the one being written; bounds memory when PostgreSQL is the slower side.
MAX_PENDING = 2
# While the writer runs, the reading thread hands over the GIL this often (seconds). Python's
# default, 5 ms, would stall the writer that long after every reply from PostgreSQL.
SWITCH_INTERVAL = 0.0005

_CHANGED = "catalog_import_changed"

# The foreign key from a product to its current version. A new product and its first version
# point at each other, so that check waits until both rows of a chunk exist.
_CURRENT_VERSION_FK = """
SELECT conname FROM pg_constraint WHERE contype = 'f'
AND conrelid = 'catalog_product'::regclass AND confrelid = 'catalog_productversion'::regclass
"""

_COPY_PRODUCTS = (
    "COPY catalog_product (id, tenant_id, sku, current_version_id, name, description, "
    "destination, country_of_origin, classification_status, final_code, created_at, "
    "updated_at) FROM STDIN"
)
_COPY_VERSIONS = (
    "COPY catalog_productversion (id, product_id, n, facts, sha256, created_at, "
    "import_batch_id) FROM STDIN"
)
_UPDATE_CHANGED = f"""
UPDATE catalog_product p SET current_version_id = c.version_id, name = c.name,
    description = c.description, destination = c.destination, country_of_origin = c.origin,
    updated_at = %s
FROM {_CHANGED} c WHERE p.id = c.product_id
"""


class _FastSwitching:
    """Lower the interpreter's switch interval while any writer runs (imports may overlap in
    one process, e.g. web threads); the last one out restores what it was."""

    def __init__(self):
        self.lock, self.users, self.saved = threading.Lock(), 0, 0.005

    def hold(self) -> None:
        with self.lock:
            if not self.users:
                self.saved = sys.getswitchinterval()
                sys.setswitchinterval(min(SWITCH_INTERVAL, self.saved))
            self.users += 1

    def release(self) -> None:
        with self.lock:
            self.users -= 1
            if not self.users:
                sys.setswitchinterval(self.saved)


_fast_switching = _FastSwitching()


@dataclass(frozen=True)
class UpsertCounts:
    new: int
    updated: int
    unchanged: int
    # Small batches: [(product_id, sku, version n, old facts or None, new facts)] written.
    changes: list


def lock_tenant_catalog(tenant_id: int) -> None:
    """Take the transaction-scoped lock that serialises writes to one tenant's catalog."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant_id])


class RowWriter:
    """Write a batch's valid rows in chunks while the caller goes on reading the file.

    Use as a context manager inside ``transaction.atomic()``; ``add`` each valid row (each SKU
    once), then ``finish()`` for the counts. Leaving the block by an exception waits for the
    chunk in flight and lets the transaction roll back everything written.

    Each row's fate is decided in Python against the tenant's products as they were when the
    import began (read once): new product, new version, or nothing. No statement joins the
    tables this transaction is growing, so no query plan can go wrong on statistics that do
    not know about the rows being added.
    """

    def __init__(self, *, tenant_id: int, batch_id: int, detail_limit: int = 0):
        self.tenant_id, self.batch_id, self.detail_limit = tenant_id, batch_id, detail_limit
        self.rows: list[ValidRow] = []
        self.pending: list[Future] = []
        self.counts = [0, 0, 0]
        self.existing: dict[str, tuple[int, str, int]] = {}
        self.executor: ThreadPoolExecutor | None = None
        self.switching = False

    def __enter__(self) -> "RowWriter":
        if not connection.in_atomic_block:
            raise RuntimeError("RowWriter must run inside the caller's transaction.")
        lock_tenant_catalog(self.tenant_id)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_serial_sequence('catalog_product', 'id'), "
                "pg_get_serial_sequence('catalog_productversion', 'id'), now()"
            )
            self.product_seq, self.version_seq, now = cursor.fetchone()
            self.now = now.isoformat()  # what now() gives in this transaction
            cursor.execute(_CURRENT_VERSION_FK)
            self.current_version_fk = connection.ops.quote_name(cursor.fetchone()[0])
            cursor.execute(f"DROP TABLE IF EXISTS {_CHANGED}")
            cursor.execute(
                f"CREATE TEMP TABLE {_CHANGED} (product_id bigint, version_id bigint, name text, "
                "description text, destination text, origin text) ON COMMIT DROP"
            )
            # Check foreign keys as each chunk is written, on the writer's time, rather than
            # all of them at COMMIT on nobody else's; _write checks the one that must wait.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"SET CONSTRAINTS {self.current_version_fk} DEFERRED")
        # The thread uses the same database connection, hence the same transaction; this
        # thread does not touch the connection again until the writer has stopped.
        self.raw = connection.connection
        _fast_switching.hold()
        self.switching = True
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-writer")
        self.pending.append(self.executor.submit(self._load_existing))
        return self

    def _load_existing(self) -> tuple[int, int, int]:
        """Read the tenant's SKUs with their current version (on the writer, while the file is
        opened): a file holds each SKU once and the tenant's catalog lock keeps other writers
        out, so this stays true for every chunk. About 200 bytes per product of the tenant."""
        with psycopg.Cursor(self.raw) as cursor:
            cursor.execute(
                "SELECT p.sku, p.id, v.sha256, v.n FROM catalog_product p "
                "LEFT JOIN catalog_productversion v ON v.id = p.current_version_id "
                "WHERE p.tenant_id = %s",
                [self.tenant_id],
                prepare=False,
            )
            self.existing = {sku: (pid, sha, n or 0) for sku, pid, sha, n in cursor}
        return 0, 0, 0

    def add(self, row: ValidRow) -> None:
        self.rows.append(row)
        if len(self.rows) >= CHUNK_ROWS:
            self._submit()

    def _submit(self) -> None:
        rows, self.rows = self.rows, []
        while len(self.pending) > MAX_PENDING:
            self._collect(self.pending.pop(0))
        self.pending.append(self.executor.submit(self._write, rows))

    def _collect(self, future: Future) -> None:
        for i, n in enumerate(future.result()):
            self.counts[i] += n

    def _write(self, rows: list[ValidRow]) -> tuple[int, int, int]:
        existing, new, changed = self.existing, [], []
        for row in rows:
            found = existing.get(row.sku)
            if found is None:
                new.append(row)
            elif found[1] != row.sha256:
                changed.append((row, found))
        if not new and not changed:
            return 0, 0, len(rows)  # a re-import of unchanged rows writes nothing
        now, batch, tenant = self.now, self.batch_id, self.tenant_id
        with psycopg.Cursor(self.raw) as cursor:
            # Ids from the tables' own sequences up front: a new product goes in once, with its
            # first version already named, instead of being inserted and then updated.
            cursor.execute(
                "SELECT CASE WHEN i <= %s THEN nextval(%s::regclass) END, "
                "nextval(%s::regclass) FROM generate_series(1, %s) AS i",
                [len(new), self.product_seq, self.version_seq, len(new) + len(changed)],
                prepare=False,
            )
            ids = cursor.fetchall()
            if new:
                with cursor.copy(_COPY_PRODUCTS) as copy:
                    for row, (pid, vid) in zip(new, ids, strict=False):
                        copy.write_row(
                            # row[4:]: name, description, destination, country of origin
                            (pid, tenant, row.sku, vid, *row[4:], "unclassified", "", now, now)
                        )
            updates = [
                (row, pid, n + 1, vid)
                for (row, (pid, _, n)), (_, vid) in zip(changed, ids[len(new) :], strict=True)
            ]
            with cursor.copy(_COPY_VERSIONS) as copy:
                for row, (pid, vid) in zip(new, ids, strict=False):
                    copy.write_row((vid, pid, 1, row.json, row.sha256, now, batch))
                for row, pid, n, vid in updates:
                    copy.write_row((vid, pid, n, row.json, row.sha256, now, batch))
            if updates:
                with cursor.copy(f"COPY {_CHANGED} FROM STDIN") as copy:
                    for row, pid, _n, vid in updates:
                        copy.write_row((pid, vid, *row[4:]))
                cursor.execute(_UPDATE_CHANGED, [now], prepare=False)
                cursor.execute(f"TRUNCATE {_CHANGED}")
            # Both sides of this chunk exist now: check the products' current versions.
            cursor.execute(
                f"SET CONSTRAINTS {self.current_version_fk} IMMEDIATE; "
                f"SET CONSTRAINTS {self.current_version_fk} DEFERRED"
            )
        return len(new), len(changed), len(rows) - len(new) - len(changed)

    def finish(self) -> UpsertCounts:
        """Write the last chunk, wait for all, and return the counts (and small changes)."""
        if self.rows:
            self._submit()
        while self.pending:
            self._collect(self.pending.pop(0))
        self._stop()
        new, updated, unchanged = self.counts
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's default again
            cursor.execute(f"DROP TABLE {_CHANGED}")
            changes = _changes(cursor, self.batch_id) if new + updated <= self.detail_limit else []
        return UpsertCounts(new, updated, unchanged, changes)

    def _stop(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
        if self.switching:
            _fast_switching.release()
            self.switching = False

    def __exit__(self, *exc) -> None:
        self._stop()  # on an exception, the caller's transaction rolls everything back


def _changes(cursor, batch_id: int) -> list:
    cursor.execute(
        "SELECT v.product_id, p.sku, v.n, old.facts, v.facts FROM catalog_productversion v "
        "JOIN catalog_product p ON p.id = v.product_id "
        "LEFT JOIN catalog_productversion old ON old.product_id = v.product_id "
        "AND old.n = v.n - 1 "
        "WHERE v.import_batch_id = %s ORDER BY p.sku",
        [batch_id],
    )
    return [(pid, sku, n, _load(old), _load(new)) for pid, sku, n, old, new in cursor.fetchall()]


def _load(value):
    return json.loads(value) if isinstance(value, str) else value
