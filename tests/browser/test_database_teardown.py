"""The test database is dropped at the end of a session whose browser tests started Playwright.

Playwright's sync API leaves an event loop running in the test thread, and Django then hands the
thread other connections (see ``playwright`` in tests/conftest.py). One of them, left open by a
``db`` test run after a browser test, made PostgreSQL refuse DROP DATABASE at the end of the
session: a warning in every CI pass, and a test database left behind.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

PROBE = Path(__file__).with_name("teardown_probe.py")


def _database_url(name: str) -> str:
    """DATABASE_URL of database ``name`` on the server, as the role, that this suite uses."""
    s = connection.settings_dict
    login = quote(s["USER"], safe="")
    if s["PASSWORD"]:
        login += ":" + quote(s["PASSWORD"], safe="")
    if s["HOST"].startswith("/"):  # the embedded server's socket directory
        return f"postgres://{login}@/{name}?host={quote(s['HOST'], safe='')}"
    return f"postgres://{login}@{s['HOST']}:{s['PORT'] or 5432}/{name}"


@pytest.mark.slow
def test_the_test_database_is_dropped_after_queries_made_while_playwright_ran(db):
    # Named after this session's own test database (one per xdist worker), within PostgreSQL's
    # 63 characters once pytest-django prefixes "test_".
    name = f"{connection.settings_dict['NAME'][:50]}_probe"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*command, "--nomigrations", str(PROBE)],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": _database_url(name)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "teardown test databases" not in done.stdout, done.stdout
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [f"test_{name}"])
        assert cursor.fetchone() == (0,)
