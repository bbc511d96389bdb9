"""Invitations: the members form reveals nothing about accounts outside the tenant, and a
person joins only by accepting, logged in as the account the invitation names."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.matrix import check_access_matrix
from workbench import services
from workbench.models import Invitation, Membership
from workbench.roles import ROLE_PERMISSIONS, Role, perm

MEMBERS = reverse("members", args=["acme"])


def _post_and_forget(client, name):
    """POST the members form, then roll everything back so the next POST sees the same state."""
    with transaction.atomic():
        response = client.post(MEMBERS, {"invitee": name, "role": "broker"})
        transaction.set_rollback(True)
    return response


def _normalised(response, name):
    body = response.content.decode()
    body = body.replace(name, "NAME")
    body = re.sub(r"/invitations/[\w-]+/", "/invitations/TOKEN/", body)
    body = re.sub(r"/invitations/\d+/revoke/", "/invitations/PK/revoke/", body)
    body = re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"\w+"', r'\1"CSRF"', body)
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "TIME", body)


def _invite(cast, invitee="newcomer", role=Role.BROKER):
    return services.invitation_create(
        actor=cast.users[Role.TENANT_ADMIN], tenant=cast.tenant, invitee=invitee, role=role
    )


def _accept_url(token):
    return reverse("invitation_accept", args=[token])


def _client_for(client, user):
    client.force_login(user)
    return client


def test_the_form_answers_the_same_for_another_tenants_user_and_a_name_nobody_has(cast):
    client = cast.client(Role.TENANT_ADMIN)
    existing = _post_and_forget(client, "globex-broker")  # a member of the other tenant
    unknown = _post_and_forget(client, "nobody-at-all")
    assert existing.status_code == unknown.status_code == 200
    assert _normalised(existing, "globex-broker") == _normalised(unknown, "nobody-at-all")
    assert "copy the link now" in existing.content.decode()


def test_adding_another_tenants_user_creates_an_invitation_and_no_membership(cast):
    response = cast.client(Role.TENANT_ADMIN).post(
        MEMBERS, {"invitee": "globex-broker", "role": "broker"}
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(tenant=cast.tenant, user=cast.outsider).exists()
    invitation = Invitation.objects.get(tenant=cast.tenant)
    assert (invitation.invitee, invitation.role) == ("globex-broker", "broker")
    link = re.search(r'<code id="invite-link">([^<]+)</code>', response.content.decode())[1]
    assert invitation.token_sha256 == services.invitation_digest(link.rstrip("/").split("/")[-1])
    assert AuditEvent.objects.filter(
        tenant=cast.tenant, verb="workbench.invitation.created", data__invitee="globex-broker"
    ).exists()
    assert not AuditEvent.objects.filter(
        verb="workbench.membership.created", data__user="globex-broker", tenant=cast.tenant
    ).exists()


def test_the_invited_user_joins_on_accepting_and_both_events_are_recorded(cast, client):
    invitation, token = _invite(cast, "globex-broker", Role.ANALYST)
    _client_for(client, cast.outsider)
    page = client.get(_accept_url(token))
    assert page.status_code == 200 and "Acme Imports" in page.content.decode()
    assert not Membership.objects.filter(tenant=cast.tenant, user=cast.outsider).exists()

    response = client.post(_accept_url(token))
    assert response.status_code == 302 and response["Location"] == "/t/acme/"
    membership = Membership.objects.get(tenant=cast.tenant, user=cast.outsider)
    assert membership.role == Role.ANALYST
    assert cast.outsider.has_perm(perm("edit_catalog"), cast.tenant)
    invitation.refresh_from_db()
    assert invitation.accepted_by == cast.outsider and invitation.accepted_at is not None
    verbs = set(
        AuditEvent.objects.filter(tenant=cast.tenant, actor=cast.outsider).values_list(
            "verb", flat=True
        )
    )
    assert verbs == {"workbench.membership.created", "workbench.invitation.accepted"}


def test_an_invitation_by_email_is_accepted_by_the_account_with_that_address(cast, client):
    user = UserFactory(username="kim", email="Kim@Example.test")
    _, token = _invite(cast, "kim@example.test")
    assert _client_for(client, user).post(_accept_url(token)).status_code == 302
    assert Membership.objects.filter(tenant=cast.tenant, user=user, role=Role.BROKER).exists()


def test_another_account_is_refused_and_not_told_whom_the_invitation_names(cast, client):
    invitation, token = _invite(cast, "globex-broker")
    mallory = UserFactory(username="mallory")
    _client_for(client, mallory)
    for response in (client.get(_accept_url(token)), client.post(_accept_url(token))):
        assert response.status_code == 403
        assert "for another account" in response.content.decode()
        assert "globex-broker" not in response.content.decode()
    assert not Membership.objects.filter(tenant=cast.tenant, user=mallory).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (
            lambda inv, cast: Invitation.objects.filter(pk=inv.pk).update(
                expires_at=timezone.now() - timedelta(seconds=1)
            ),
            "expired on",
        ),
        (
            lambda inv, cast: services.invitation_revoke(
                actor=cast.users[Role.TENANT_ADMIN], invitation=inv
            ),
            "was revoked",
        ),
    ],
    ids=["expired", "revoked"],
)
def test_an_expired_or_revoked_invitation_is_refused(cast, client, spoil, message):
    invitation, token = _invite(cast, "globex-broker")
    spoil(invitation, cast)
    response = _client_for(client, cast.outsider).post(_accept_url(token))
    assert response.status_code == 410
    assert message in response.content.decode()
    assert not Membership.objects.filter(tenant=cast.tenant, user=cast.outsider).exists()
    assert not AuditEvent.objects.filter(verb="workbench.invitation.accepted").exists()


def test_a_link_works_once(cast, client):
    _, token = _invite(cast, "globex-broker")
    _client_for(client, cast.outsider)
    assert client.post(_accept_url(token)).status_code == 302
    services.membership_remove(
        actor=cast.users[Role.TENANT_ADMIN],
        membership=Membership.objects.get(tenant=cast.tenant, user=cast.outsider),
    )
    response = client.post(_accept_url(token))
    assert response.status_code == 410 and "already been used" in response.content.decode()
    assert not Membership.objects.filter(tenant=cast.tenant, user=cast.outsider).exists()


def test_an_unknown_link_is_404_and_an_anonymous_visitor_may_log_in_or_set_a_password(cast, client):
    _, token = _invite(cast, "globex-broker")
    response = client.get(_accept_url(token))
    body = response.content.decode()
    assert response.status_code == 200 and "Set your password" in body
    assert f"/accounts/login/?next={_accept_url(token)}" in body
    assert client.get(_accept_url(token[:-2] + "xx")).status_code == 404
    _client_for(client, cast.outsider)
    assert client.get(_accept_url(token[:-2] + "xx")).status_code == 404


def test_only_the_hash_of_the_token_is_stored(cast):
    invitation, token = _invite(cast)
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    event = AuditEvent.objects.get(verb="workbench.invitation.created")
    assert token not in str(event.data)


def test_a_second_pending_invitation_for_the_same_name_is_refused_with_422(cast):
    _invite(cast, "newcomer")
    response = cast.client(Role.TENANT_ADMIN).post(
        MEMBERS, {"invitee": "NewComer", "role": "analyst"}
    )
    assert response.status_code == 422
    assert "already has a pending invitation" in response.content.decode()
    assert Invitation.objects.count() == 1


def test_pending_invitations_are_listed_and_revoked_from_the_members_page(cast):
    invitation, _ = _invite(cast, "newcomer")
    client = cast.client(Role.TENANT_ADMIN)
    assert "newcomer" in client.get(MEMBERS).content.decode()
    url = reverse("invitation_revoke", args=["acme", invitation.pk])
    assert client.post(url).status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_by == cast.users[Role.TENANT_ADMIN]
    assert AuditEvent.objects.filter(verb="workbench.invitation.revoked").count() == 1
    assert "No pending invitations" in client.get(MEMBERS).content.decode()


def test_revoking_matrix(cast):
    invitation, _ = _invite(cast, "newcomer")
    url = reverse("invitation_revoke", args=["acme", invitation.pk])
    allowed = {role for role, perms in ROLE_PERMISSIONS.items() if "manage_members" in perms}
    check_access_matrix(cast, url, allowed, method="post", ok=(302,))


def test_another_tenants_admin_cannot_revoke_this_tenants_invitation(cast, client):
    invitation, _ = _invite(cast, "newcomer")
    admin = UserFactory(username="globex-admin")
    services.membership_set(
        actor=None, tenant=cast.other_tenant, user=admin, role=Role.TENANT_ADMIN
    )
    url = reverse("invitation_revoke", args=["globex", invitation.pk])
    assert _client_for(client, admin).post(url).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
