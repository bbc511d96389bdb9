"""A big import checks its rows' foreign keys by index, whatever the connection planned before,
and reads the tenant's products once, whatever the tables' statistics say.

PostgreSQL checks each new product's and version's foreign keys with a lookup it plans once per
connection and keeps. Planned while the catalog tables were small (a new installation, a new
tenant's first rows), that plan scans the whole table; kept for a big import, it scans the
growing table once per row (a 20,000-row import took 18 s instead of 1 s, and 100,000 rows take
minutes).

Statistics taken while the tables held pages but no live rows (rows rolled back) size them at
one row however many they hold. A join of products to versions was then planned as a rescan of
the versions per product: 60 scans here, in CI, and time growing with the square of the catalog.
"""

from django.db import connection, transaction

from tests.catalog.conftest import csv_bytes, row
from tests.conftest import truncate_guards_lifted
from tests.pgstats import analyze, seq_scans, table_scan_plans

TABLES = ("catalog_product", "catalog_productversion")


def _big_import_after_small_writes(run_import) -> None:
    run_import(csv_bytes([row(f"P-{i:02d}") for i in range(30)]), "first.csv")
    # A small import on the same connection whose key checks are planned as table scans, as
    # they are while the catalog is small, and kept.
    with table_scan_plans():
        run_import(csv_bytes([row(f"Q-{i:02d}") for i in range(30)]), "second.csv")
    before = seq_scans(*TABLES)

    big = run_import(csv_bytes([row(f"B-{i:05d}") for i in range(3000)]), "big.csv")

    assert (big.new_count, big.refused_count) == (3000, 0)
    after = seq_scans(*TABLES)
    # A scan or two is the import's own bookkeeping; one per row is the kept plan at work, one
    # per existing product a plan made on statistics that size the tables at one row.
    assert all(after[table] - before[table] < 20 for table in TABLES), (before, after)


def test_a_big_import_after_small_writes_on_a_small_catalog_checks_keys_by_index(run_import):
    _big_import_after_small_writes(run_import)


class _RolledBack(Exception):
    pass


def test_statistics_taken_while_the_catalog_held_only_rolled_back_rows_change_nothing(
    run_import,
):
    # Empty catalog tables of their own (the TRUNCATE and the statistics taken after it roll
    # back with the test), then a page of rolled-back rows analyzed: a page and no rows, as
    # autovacuum may record between tests or after a refused import.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no trigger events left pending
        with truncate_guards_lifted(cursor):
            cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    try:
        with transaction.atomic():
            run_import(csv_bytes([row(f"R-{i}") for i in range(5)]), "rolled-back.csv")
            raise _RolledBack
    except _RolledBack:
        pass
    analyze(*TABLES)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages FROM pg_class WHERE relname = ANY(%s)", [list(TABLES)])
        assert all(pages > 0 for (pages,) in cursor.fetchall())  # analyze(): no rows

    _big_import_after_small_writes(run_import)
