"""Set-based writes of validated rows, overlapped with reading the rest of the file.

``RowWriter`` takes valid rows while the importer is still reading and validating, and writes
them in chunks of a few thousand from a second thread on the caller's own connection: each
chunk's new products and versions are COPYed straight into their tables, and changed products
are updated from a COPYed staging table. The reading thread sorts each chunk and builds its COPY
text; the writer only adds ids and sends it, so PostgreSQL (the slower side: seven indexes and
three foreign-key checks per new product) is never kept waiting for Python. Per-row ORM saves take
minutes for 100k rows; this takes a few seconds.

Foreign keys are checked by lookups planned for this transaction, by index
(``workbench.keychecks``), never by a plan the connection kept from when the tables were small.

Everything runs inside the caller's transaction (``catalog.services``), which also writes the
batch and its audit event: a file refused halfway through (a duplicate SKU, the row limit) is
rolled back whole, so nothing of it is ever visible.
"""

import json
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from django.db import connection

from catalog.importer import ValidRow
from workbench import keychecks

# First key of the advisory lock that serialises catalog writes per tenant (imports, edits):
# version numbers are "current + 1", so two writers must not interleave on one tenant.
LOCK_NAMESPACE = 0x43415447  # "CATG"

# Rows per chunk. Big enough that per-statement costs vanish, small enough that the last
# chunk (written after reading ends, on nobody else's time) stays short.
CHUNK_ROWS = 4000
# The first chunk is smaller: PostgreSQL waits idle until it comes (rows reach Python only once
# calamine has parsed the whole sheet), and from then on it is the slower side.
FIRST_CHUNK_ROWS = 1000
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

# Rows go to PostgreSQL as COPY text built by the reading thread (``_prepare``); the writer only
# puts each chunk's ids in front. Columns are listed in the order the lines are built.
_COPY_PRODUCTS = (
    "COPY catalog_product (id, current_version_id, tenant_id, sku, name, description, "
    "destination, country_of_origin, classification_status, final_code, created_at, "
    "updated_at) FROM STDIN"
)
_COPY_VERSIONS = (
    "COPY catalog_productversion (id, product_id, n, facts, sha256, created_at, "
    "import_batch_id) FROM STDIN"
)
_COPY_CHANGED = (
    f"COPY {_CHANGED} (product_id, version_id, name, description, destination, origin) FROM STDIN"
)
_UPDATE_CHANGED = f"""
UPDATE catalog_product p SET current_version_id = c.version_id, name = c.name,
    description = c.description, destination = c.destination, country_of_origin = c.origin,
    updated_at = %s
FROM {_CHANGED} c WHERE p.id = c.product_id
"""
# COPY's text format: these four characters are written as backslash escapes.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def copy_text(value: str) -> str:
    """Return ``value`` as a field of COPY's text format."""
    if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
        return value.translate(_COPY_ESCAPES)
    return value


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
class Conflict:
    """A row that would change a product whose current version came from an edit or the API."""

    product_id: int
    sku: str
    version_id: int  # the product's current (edited) version
    file_json: str  # the row's canonical facts


@dataclass(frozen=True)
class UpsertCounts:
    new: int
    updated: int
    unchanged: int
    # Small batches: [(product_id, sku, version n, old facts or None, new facts)] written.
    changes: list
    # Rows not written: their product keeps its in-app facts (``edits="keep"``).
    kept: int = 0
    # Conflicts kept or overwritten as chosen, and those nobody chose for yet; while any of the
    # latter exist the caller must roll the transaction back (writing stopped at the first).
    resolved: list = field(default_factory=list)
    unresolved: list = field(default_factory=list)


@dataclass(frozen=True)
class _Chunk:
    """A chunk's COPY lines, each lacking the ids at its start; changed products' ids."""

    size: int
    products: list[str]
    versions: list[str]  # new products' first, then changed products', in that order
    staged: list[str]
    changed_ids: list[int]
    kept: int  # rows whose product keeps its in-app facts


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

    A row that would change a product whose current version was not written by an import (an
    edit in the app, the API) is a conflict. ``edits="keep"`` leaves every such product as it
    is; ``edits="overwrite"`` writes the file's facts over those in ``confirmed`` ({sku: the
    current version id the analyst saw}; None: all of them). Any other conflict stops the
    writing: the rest of the file is still read, to list every conflict, and the caller rolls
    back.
    """

    def __init__(
        self,
        *,
        tenant_id: int,
        batch_id: int,
        detail_limit: int = 0,
        edits: str = "",
        confirmed: dict[str, int] | None = None,
    ):
        self.tenant_id, self.batch_id, self.detail_limit = tenant_id, batch_id, detail_limit
        self.edits, self.confirmed = edits, confirmed
        self.kept = 0
        self.resolved: list[Conflict] = []
        self.unresolved: list[Conflict] = []
        self.rows: list[ValidRow] = []
        self.pending: list[Future] = []
        self.counts = [0, 0, 0]
        # sku: (product id, sha256, n, current version id, whether an import wrote it)
        self.existing: dict[str, tuple[int, str, int, int, bool]] = {}
        self.executor: ThreadPoolExecutor | None = None
        self.loading: Future | None = None
        self.chunk_rows = min(FIRST_CHUNK_ROWS, CHUNK_ROWS)
        # Ids of the versions written, while there are few enough to detail in the audit.
        self.written: list[int] = []
        self.switching = False
        self.seqscan = "on"

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
        self.loading = self.executor.submit(self._load_existing)
        return self

    def _load_existing(self) -> None:
        """Read the tenant's SKUs with their current version (on the writer, while the file is
        opened): a file holds each SKU once and the tenant's catalog lock keeps other writers
        out, so this stays true for every chunk. About 200 bytes per product of the tenant."""
        with psycopg.Cursor(self.raw) as cursor:
            # Two reads, no join. Statistics taken while the tables held pages but no live rows
            # (rows rolled back: a refused import, between tests) size them at one row however
            # many they hold; a join then rescans the versions once per product: 2,500
            # products took 0.44 s that way, and the time grows with the square of the count.
            cursor.execute(
                "SELECT sku, id, current_version_id FROM catalog_product WHERE tenant_id = %s",
                [self.tenant_id],
                prepare=False,
            )
            products = cursor.fetchall()
            current = [vid for _, _, vid in products if vid is not None]
            versions = {}
            if current:
                cursor.execute(
                    "SELECT id, sha256, n, import_batch_id IS NOT NULL "
                    "FROM catalog_productversion WHERE id = ANY(%s::bigint[])",
                    [current],
                    prepare=False,
                )
                versions = {vid: rest for vid, *rest in cursor}
            self.existing = {}
            for sku, pid, vid in products:
                sha, n, imported = versions.get(vid, (None, 0, None))
                self.existing[sku] = (pid, sha, n, vid, imported is not False)
            # Each new row's foreign keys are checked by index, whatever plans this connection
            # kept from when the catalog was small (workbench.keychecks); finish() ends it.
            self.seqscan = keychecks.begin(cursor)

    def add(self, row: ValidRow) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.chunk_rows:
            self._submit()
            self.chunk_rows = CHUNK_ROWS

    def _submit(self) -> None:
        rows, self.rows = self.rows, []
        if self.loading is not None:
            self.loading.result()  # the tenant's SKUs, read by the writer
            self.loading = None
        chunk = self._prepare(rows)
        if self.unresolved:
            return  # nothing more is written: the caller rolls back and asks
        while len(self.pending) > MAX_PENDING:
            self._collect(self.pending.pop(0))
        self.pending.append(self.executor.submit(self._write, chunk))

    def _collect(self, future: Future) -> None:
        for i, n in enumerate(future.result()):
            self.counts[i] += n

    def _prepare(self, rows: list[ValidRow]) -> "_Chunk":
        """Sort a chunk's rows into new, changed and unchanged, and build their COPY lines
        (all but the ids, drawn by the writer). Runs on the reading thread, which has time to
        spare, so that the writer keeps PostgreSQL busy."""
        existing, new, changed, kept = self.existing, [], [], self.kept
        for row in rows:
            found = existing.get(row.sku)
            if found is None:
                new.append(row)
            elif found[1] != row.sha256 and (found[4] or self._overwrites(row, found)):
                changed.append((row, found))
        now, batch = self.now, self.batch_id
        product_tail = f"\tunclassified\t\t{now}\t{now}\n"
        version_tail = f"\t{now}\t{batch}\n"
        products = [
            f"\t{self.tenant_id}\t{copy_text(r.sku)}\t{copy_text(r.name)}\t"
            f"{copy_text(r.description)}\t{r.destination}\t{r.country_of_origin}{product_tail}"
            for r in new
        ]
        versions = [f"\t1\t{copy_text(r.json)}\t{r.sha256}{version_tail}" for r in new]
        versions += [
            f"\t{n + 1}\t{copy_text(r.json)}\t{r.sha256}{version_tail}"
            for r, (_, _, n, _, _) in changed
        ]
        staged = [
            f"\t{copy_text(r.name)}\t{copy_text(r.description)}\t{r.destination}\t"
            f"{r.country_of_origin}\n"
            for r, _ in changed
        ]
        changed_ids = [pid for _, (pid, *_) in changed]
        return _Chunk(len(rows), products, versions, staged, changed_ids, self.kept - kept)

    def _overwrites(self, row: ValidRow, found: tuple) -> bool:
        """Whether a row that changes a product last set in the app is written (the rows of
        the analyst's choice); records it as resolved (kept or overwritten) or unresolved."""
        pid, _, _, vid, _ = found
        conflict = Conflict(pid, row.sku, vid, row.json)
        seen = self.confirmed is None or self.confirmed.get(row.sku) == vid
        if self.edits == "keep" or (self.edits == "overwrite" and seen):
            self.resolved.append(conflict)
            self.kept += self.edits == "keep"
            return self.edits == "overwrite"
        self.unresolved.append(conflict)
        return False

    def _write(self, chunk: "_Chunk") -> tuple[int, int, int]:
        new, changed = len(chunk.products), len(chunk.changed_ids)
        if not new and not changed:
            return 0, 0, chunk.size - chunk.kept  # a re-import of unchanged rows writes nothing
        with psycopg.Cursor(self.raw) as cursor:
            # Ids from the tables' own sequences up front: a new product goes in once, with its
            # first version already named, instead of being inserted and then updated.
            cursor.execute(
                "SELECT CASE WHEN i <= %s THEN nextval(%s::regclass) END, "
                "nextval(%s::regclass) FROM generate_series(1, %s) AS i",
                [new, self.product_seq, self.version_seq, new + changed],
                prepare=False,
            )
            ids = cursor.fetchall()
            product_ids = [pid for pid, _ in ids[:new]] + chunk.changed_ids
            if new:
                with cursor.copy(_COPY_PRODUCTS) as copy:
                    copy.write(
                        "".join(
                            [
                                f"{pid}\t{vid}{line}"
                                for (pid, vid), line in zip(ids, chunk.products, strict=False)
                            ]
                        )
                    )
            with cursor.copy(_COPY_VERSIONS) as copy:
                copy.write(
                    "".join(
                        [
                            f"{vid}\t{pid}{line}"
                            for (_, vid), pid, line in zip(
                                ids, product_ids, chunk.versions, strict=True
                            )
                        ]
                    )
                )
            if changed:
                with cursor.copy(_COPY_CHANGED) as copy:
                    copy.write(
                        "".join(
                            [
                                f"{pid}\t{vid}{line}"
                                for pid, (_, vid), line in zip(
                                    chunk.changed_ids, ids[new:], chunk.staged, strict=True
                                )
                            ]
                        )
                    )
                cursor.execute(_UPDATE_CHANGED, [self.now], prepare=False)
                cursor.execute(f"TRUNCATE {_CHANGED}")
            if len(self.written) <= self.detail_limit:
                self.written += [vid for _, vid in ids]
            # Both sides of this chunk exist now: check the products' current versions.
            cursor.execute(
                f"SET CONSTRAINTS {self.current_version_fk} IMMEDIATE; "
                f"SET CONSTRAINTS {self.current_version_fk} DEFERRED"
            )
        return new, changed, chunk.size - new - changed - chunk.kept

    def finish(self) -> UpsertCounts:
        """Write the last chunk, wait for all, and return the counts (and small changes)."""
        if self.rows:
            self._submit()
        if self.loading is not None:
            self.loading.result()
        while self.pending:
            self._collect(self.pending.pop(0))
        self._stop()
        new, updated, unchanged = self.counts
        with connection.cursor() as cursor:
            keychecks.end(cursor, self.seqscan)  # constraints deferred again, Django's default
            cursor.execute(f"DROP TABLE {_CHANGED}")
            detail = new + updated <= self.detail_limit and not self.unresolved
            changes = _changes(cursor, self.written) if detail else []
        return UpsertCounts(
            new, updated, unchanged, changes, self.kept, self.resolved, self.unresolved
        )

    def _stop(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
        if self.switching:
            _fast_switching.release()
            self.switching = False

    def __exit__(self, *exc) -> None:
        self._stop()  # on an exception, the caller's transaction rolls everything back


def _changes(cursor, version_ids: list[int]) -> list:
    cursor.execute(
        "SELECT v.product_id, p.sku, v.n, old.facts, v.facts FROM catalog_productversion v "
        "JOIN catalog_product p ON p.id = v.product_id "
        "LEFT JOIN catalog_productversion old ON old.product_id = v.product_id "
        "AND old.n = v.n - 1 "
        "WHERE v.id = ANY(%s) ORDER BY p.sku",
        [version_ids],
    )
    return [(pid, sku, n, _load(old), _load(new)) for pid, sku, n, old, new in cursor.fetchall()]


def _load(value):
    return json.loads(value) if isinstance(value, str) else value
