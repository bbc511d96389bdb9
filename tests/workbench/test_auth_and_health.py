from unittest import mock

from django.db.utils import OperationalError
from django.test import override_settings
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import UserFactory


def test_healthz_is_public_and_says_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_does_not(client, db):
    with mock.patch("workbench.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"


def test_healthz_tells_anonymous_callers_the_status_and_logs_the_error(client, db, caplog):
    secret = 'connection to "db.internal:5432" failed: role "workbench_admin" does not exist'
    with mock.patch("workbench.views.connection.cursor", side_effect=OperationalError(secret)):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}
    assert "db.internal" not in response.content.decode()
    assert secret in caplog.text


def test_every_page_but_login_requires_a_login(client, db):
    for url in ["/", "/t/acme/", "/t/acme/members/", "/accounts/password/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200


def test_login_and_logout_are_audited(client, db):
    UserFactory(username="alice")
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    verbs = list(
        AuditEvent.objects.filter(tenant=None).order_by("seq").values_list("verb", flat=True)
    )
    assert verbs == [
        "workbench.user.logged_in",
        "workbench.user.logged_out",
        "workbench.user.login_failed",
    ]


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_repeated_failed_logins_lock_the_account_for_a_while(client, db):
    UserFactory(username="bob")
    for _ in range(3):
        client.post(reverse("login"), {"username": "bob", "password": "nope"})
    response = client.post(reverse("login"), {"username": "bob", "password": "pw-for-tests-1"})
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content
