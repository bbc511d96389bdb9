"""Run by test_database_teardown.py in a pytest process of its own; the suite never collects it
(its name does not start with ``test_``).

The first test opens a connection before Playwright starts; the second starts Playwright, which
leaves an event loop running in this thread, and opens another. The test database must still be
dropped at the end of the session.
"""

from django.db import connection


def _query() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def test_a_query_before_playwright_starts(db):
    _query()


def test_a_query_while_playwright_runs(playwright, db):
    _query()
