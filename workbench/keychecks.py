"""Bulk writes whose foreign-key checks stay lookups by index.

PostgreSQL checks each written row's foreign keys with a lookup that it plans once per
connection and keeps until the referenced table's statistics change. Planned while that table
was small (a new installation, a new tenant's first products), the lookup scans the whole
table; kept for a bulk write into a table that has grown since, it scans the table once per
row. A 20,000-row catalog import took 18 s instead of 1 s that way, 100,000 rows took minutes,
and queueing a 100,000-product catalog for classification (four checks per job, at COMMIT)
would take hours. Lookups of a single key by index are never the wrong plan, so bulk writes
drop the connection's kept plans and plan their checks by index.
"""

from contextlib import contextmanager

from django.db import connection


def begin(cursor) -> str:
    """Drop the connection's kept plans and plan lookups by index for the rest of the caller's
    transaction; return the setting that ``end`` gives back. ``cursor`` may be Django's or a
    raw psycopg cursor on the connection that holds the transaction."""
    cursor.execute("SELECT current_setting('enable_seqscan')")
    previous = cursor.fetchone()[0]
    cursor.execute("SET LOCAL enable_seqscan = off")
    cursor.execute("DISCARD PLANS")
    return previous


def end(cursor, previous: str) -> None:
    """Run the foreign-key checks still deferred (by index), then plan as before ``begin``.

    Leaves constraints deferred, Django's default; a violation raises ``IntegrityError`` here
    rather than at COMMIT.
    """
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [previous])


@contextmanager
def by_index():
    """Check the foreign keys of the block's writes by index, before the block ends.

    Must run inside ``transaction.atomic()``; an exception in the block leaves the setting to
    the transaction's rollback.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("keychecks.by_index() must run inside a transaction.")
    with connection.cursor() as cursor:
        previous = begin(cursor)
    yield
    with connection.cursor() as cursor:
        end(cursor, previous)
