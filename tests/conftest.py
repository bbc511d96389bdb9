"""Shared fixtures: the cast of users (one per role, an outsider), clients, and the browser."""

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.db.backends.postgresql.operations import DatabaseOperations
from django.test import Client

from tests.factories import MembershipFactory, TenantFactory, UserFactory
from workbench.roles import Role

# Playwright's sync API keeps an event loop running in the test thread; Django refuses ORM calls
# from a thread with a running loop unless told that the loop is not one it must protect.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


# --- Flushing past the TRUNCATE guards ------------------------------------------------------

# Statement triggers that fire on TRUNCATE (pg_trigger.tgtype bit 5), enabled ones only.
_TRUNCATE_GUARDS = """
SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE NOT t.tgisinternal AND t.tgtype & 32 <> 0 AND t.tgenabled <> 'D'
   AND c.relnamespace = current_schema()::regnamespace
"""


@contextmanager
def truncate_guards_lifted(cursor):
    """Disable the TRUNCATE guards inside the caller's transaction, and enable them again.

    Only a table owner may do this, and the change commits or rolls back with the transaction.
    """
    guards = cursor.execute(_TRUNCATE_GUARDS).fetchall()
    for table, trigger in guards:
        cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{trigger}"')
    yield
    for table, trigger in guards:
        cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER "{trigger}"')


_flush = DatabaseOperations.execute_sql_flush


def _flush_past_truncate_guards(self, sql_list):
    # TransactionTestCase empties every table with TRUNCATE between tests; the append-only
    # tables refuse that (as they should in production), so tests lift the guards for it.
    with (
        transaction.atomic(using=self.connection.alias),
        self.connection.cursor() as cursor,
        truncate_guards_lifted(cursor),
    ):
        _flush(self, sql_list)


DatabaseOperations.execute_sql_flush = _flush_past_truncate_guards


@dataclass
class Cast:
    """A tenant with one member per role, and a member of another tenant."""

    tenant: object
    other_tenant: object
    users: dict = field(default_factory=dict)
    outsider: object = None

    def client(self, who) -> Client:
        """Return a logged-in client for a role name, ``"outsider"`` or ``"anonymous"``."""
        client = Client()
        if who == "anonymous":
            return client
        user = self.outsider if who == "outsider" else self.users[who]
        client.force_login(user)
        return client


@pytest.fixture
def cast(db) -> Cast:
    tenant = TenantFactory(name="Acme Imports", slug="acme")
    other = TenantFactory(name="Globex Brokerage", slug="globex")
    users = {}
    for role in Role.values:
        user = UserFactory(username=f"acme-{role}")
        MembershipFactory(tenant=tenant, user=user, role=role)
        users[role] = user
    outsider = UserFactory(username="globex-broker")
    MembershipFactory(tenant=other, user=outsider, role=Role.COMPLIANCE_LEAD)
    return Cast(tenant=tenant, other_tenant=other, users=users, outsider=outsider)


@pytest.fixture
def tenant(cast):
    return cast.tenant


def shared_data_path(name: str) -> str:
    """Return the path of a file in ../shared/data, or skip the test when it is absent."""
    path = os.path.abspath(os.path.join(SHARED_DATA, name))
    if not os.path.exists(path):
        pytest.skip(f"{name} is not in ../shared/data (reference data absent on this machine)")
    return path


# --- Browser tests -------------------------------------------------------------------------


def chromium_path() -> str | None:
    """Debian's Chromium: $CHROMIUM_PATH, else `chromium` on the PATH."""
    candidate = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    return candidate if candidate and os.path.exists(candidate) else None


@pytest.fixture(scope="session")
def playwright(playwright):
    """pytest-playwright's, closing at its end the database connections opened while it ran.

    Playwright's sync API keeps an event loop running in the test thread from the first browser
    test to the end of the session; meanwhile Django's connection handler (asgiref's
    thread-critical ``Local``) hands this thread other connections than before, per context
    rather than per thread. The test database's teardown closes only those it opened first, and
    PostgreSQL refuses to drop a database another session holds ("is being accessed by other
    users"): a ``db`` test run after a browser test left one open. This teardown runs before
    the loop stops, where those connections are still the ones ``connections`` sees.
    """
    yield playwright
    connections.close_all()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium on this machine (install Debian's chromium or set CHROMIUM_PATH)")
    return {
        **browser_type_launch_args,
        "executable_path": path,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def save_screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save the page as ``var/screenshots/<name>-<viewport width>.png`` (git-ignored): the whole
    page, or with ``full_page=False`` only what is in the viewport (to show what is in view).

    CI leaves them there for a reviewer to look at after a run.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def screenshot():
    """``screenshot(page, "catalog")`` writes var/screenshots/catalog-<width>.png; any test
    may use it (browser tests live beside the app they check, not only in tests/browser)."""
    return save_screenshot


@pytest.fixture(autouse=True)
def _no_transformer_rerank(settings):
    """Off (as by default) even when the environment turns it on: its line vectors are built on a
    thread, which would change a test's ranking midway (test_transformer_rerank.py turns it on)."""
    settings.TRANSFORMER_RERANK = False


@pytest.fixture(autouse=True)
def _fresh_tariff_reference():
    """Each test sees the schedules of its own database, not a reference cached by another."""
    from tariffs import reference

    reference.clear_cache()
    yield
    reference.clear_cache()


def watch_csp(page, found: list[str]) -> list[str]:
    """Collect into ``found`` every Content-Security-Policy refusal the page reports.

    Chromium logs each refusal (an inline script or style, an eval, a blocked source) to the
    console as an error naming the Content Security Policy.
    """
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


@pytest.fixture
def csp_violations(page) -> list[str]:
    """The CSP refusals of the test's ``page``; a test asserts the list is empty at its end."""
    return watch_csp(page, [])


@pytest.fixture(autouse=True)
def _no_csp_refusals(request):
    """Fail any browser test whose ``page`` met a Content-Security-Policy refusal."""
    if "page" not in request.fixturenames:
        yield
        return
    found = watch_csp(request.getfixturevalue("page"), [])
    yield
    assert found == [], f"Content-Security-Policy refusals: {found}"


def let_undo_windows_pass() -> None:
    """Move past the review undo window: broker finalizations held for undo become due."""
    from django.utils import timezone

    from audit.models import OutboxEvent

    now = timezone.now()
    OutboxEvent.objects.filter(status="pending", available_at__gt=now).update(available_at=now)
