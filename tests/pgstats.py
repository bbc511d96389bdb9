"""PostgreSQL's own counters, for tests that assert how a query was carried out."""

from contextlib import contextmanager

from django.db import connection


def seq_scans(*tables: str) -> dict:
    """Sequential scans of ``tables`` so far in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
            [list(tables)],
        )
        found = dict(cursor.fetchall())
    return {table: found.get(table, 0) for table in tables}


def analyze(*tables: str) -> None:
    """Take statistics of ``tables`` as this transaction sees them: its own rows count, rows
    rolled back do not. PostgreSQL writes the size estimate in place, so it outlives the test's
    rollback unless the test created or truncated the table. The test's role must own it."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")
        for table in tables:
            cursor.execute(
                f"SELECT reltuples, (SELECT count(*) FROM {table}) FROM pg_class "
                "WHERE oid = %s::regclass",
                [table],
            )
            estimate, rows = cursor.fetchone()
            assert estimate == rows, f"ANALYZE {table} skipped: {estimate} rows estimated, {rows}"


@contextmanager
def table_scan_plans():
    """Plan the block's queries afresh, as table scans. Plans the connection keeps (foreign-key
    checks) stay table scans after the block, as they do when planned while the tables were
    small; forced here so that a test does not depend on how big the tables are."""
    scans = ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan")
    with connection.cursor() as cursor:
        cursor.execute("DISCARD PLANS")
        for name in scans:
            cursor.execute("SELECT set_config(%s, 'off', true)", [name])
    yield
    with connection.cursor() as cursor:
        for name in scans:
            cursor.execute("SELECT set_config(%s, 'on', true)", [name])
