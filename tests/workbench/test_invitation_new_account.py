"""Invitations accepted by someone without an account: the invitation creates it with the
password they set (Django's validators), then logs them in; an email invitation is emailed."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from audit.models import AuditEvent
from workbench import services
from workbench.models import Membership
from workbench.roles import Role

STRONG = "amber-lantern-42-quietly"


def _invite(cast, invitee="newcomer@example.test", role=Role.ANALYST):
    return services.invitation_create(
        actor=cast.users[Role.TENANT_ADMIN], tenant=cast.tenant, invitee=invitee, role=role
    )


def _url(token):
    return reverse("invitation_accept", args=[token])


def test_an_email_invitation_is_emailed_with_its_link_after_commit(
    cast, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        _, token = _invite(cast)
    [mail] = mailoutbox
    assert mail.to == ["newcomer@example.test"] and "Acme Imports" in mail.subject
    assert f"http://127.0.0.1:8000{_url(token)}" in mail.body


def test_a_username_invitation_is_not_emailed(cast, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(cast, "newcomer")
    assert mailoutbox == []


def test_setting_a_password_creates_the_account_joins_and_logs_in(cast, client):
    _, token = _invite(cast)
    response = client.post(_url(token), {"password1": STRONG, "password2": STRONG})
    assert response.status_code == 302 and response["Location"] == "/t/acme/"
    user = get_user_model().objects.get(username="newcomer@example.test")
    assert user.email == "newcomer@example.test" and user.check_password(STRONG)
    assert Membership.objects.get(tenant=cast.tenant, user=user).role == Role.ANALYST
    verbs = set(AuditEvent.objects.filter(tenant=cast.tenant).values_list("verb", flat=True))
    assert {"workbench.user.created", "workbench.invitation.accepted"} <= verbs
    assert client.get("/t/acme/").status_code == 200  # logged in


def test_a_weak_password_is_refused_by_djangos_validators_and_nothing_is_written(cast, client):
    _, token = _invite(cast)
    response = client.post(_url(token), {"password1": "12345678", "password2": "12345678"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "too common" in body or "entirely numeric" in body
    assert not get_user_model().objects.filter(username="newcomer@example.test").exists()


def test_two_different_passwords_are_refused(cast, client):
    _, token = _invite(cast)
    response = client.post(_url(token), {"password1": STRONG, "password2": STRONG + "x"})
    assert response.status_code == 422 and "differ" in response.content.decode()


def test_an_existing_account_must_log_in_to_accept(cast, client):
    _, token = _invite(cast, "globex-broker")
    response = client.post(_url(token), {"password1": STRONG, "password2": STRONG})
    assert response.status_code == 409 and "log in to accept" in response.content.decode()
    assert not cast.outsider.check_password(STRONG)
    assert not Membership.objects.filter(tenant=cast.tenant, user=cast.outsider).exists()


def test_a_used_link_creates_no_second_account(cast, client):
    from django.test import Client

    _, token = _invite(cast)
    client.post(_url(token), {"password1": STRONG, "password2": STRONG})
    again = Client().post(_url(token), {"password1": STRONG, "password2": STRONG})
    assert again.status_code == 410
    assert get_user_model().objects.filter(username="newcomer@example.test").count() == 1
