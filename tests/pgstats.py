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
