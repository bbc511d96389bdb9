"""A big import checks its rows' foreign keys by index, whatever the connection planned before.

PostgreSQL checks each new product's and version's foreign keys with a lookup it plans once per
connection and keeps. Planned while the catalog tables were small (a new installation, a new
tenant's first rows), that plan scans the whole table; kept for a big import, it scans the
growing table once per row (a 20,000-row import took 18 s instead of 1 s, and 100,000 rows take
minutes).
"""

from tests.catalog.conftest import csv_bytes, row
from tests.pgstats import seq_scans, table_scan_plans

TABLES = ("catalog_product", "catalog_productversion")


def test_a_big_import_after_small_writes_on_a_small_catalog_checks_keys_by_index(run_import):
    run_import(csv_bytes([row(f"P-{i:02d}") for i in range(30)]), "first.csv")
    # A small import on the same connection whose key checks are planned as table scans, as
    # they are while the catalog is small, and kept.
    with table_scan_plans():
        run_import(csv_bytes([row(f"Q-{i:02d}") for i in range(30)]), "second.csv")
    before = seq_scans(*TABLES)

    big = run_import(csv_bytes([row(f"B-{i:05d}") for i in range(3000)]), "big.csv")

    assert (big.new_count, big.refused_count) == (3000, 0)
    after = seq_scans(*TABLES)
    # A scan or two is the import's own bookkeeping; one per row is the kept plan at work.
    assert all(after[table] - before[table] < 20 for table in TABLES), (before, after)
