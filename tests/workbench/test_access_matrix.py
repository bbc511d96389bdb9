import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.matrix import check_access_matrix
from workbench.roles import ROLE_PERMISSIONS, Role


def _roles_with(codename):
    return {role for role, perms in ROLE_PERMISSIONS.items() if codename in perms}


def test_dashboard_matrix(cast):
    check_access_matrix(cast, reverse("tenant_dashboard", args=["acme"]), set(Role.values))


def test_members_page_matrix(cast):
    check_access_matrix(cast, reverse("members", args=["acme"]), _roles_with("manage_members"))


def test_a_member_of_another_tenant_gets_404_for_a_tenant_that_exists_and_one_that_does_not(cast):
    client = cast.client("outsider")
    assert client.get("/t/acme/").status_code == 404
    assert client.get("/t/no-such-tenant/").status_code == 404


def test_home_lists_every_tenant_of_a_user_with_several(cast):
    user = cast.users[Role.BROKER]
    from tests.factories import MembershipFactory

    MembershipFactory(tenant=cast.other_tenant, user=user, role=Role.AUDITOR)
    response = cast.client(Role.BROKER).get(reverse("home"))
    assert response.status_code == 200
    assert b"Acme Imports" in response.content and b"Globex Brokerage" in response.content


def test_home_goes_straight_to_the_only_tenant(cast):
    response = cast.client(Role.ANALYST).get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == "/t/acme/"


def test_tenant_admin_changes_a_members_role_and_it_is_audited(cast):
    response = cast.client(Role.TENANT_ADMIN).post(
        reverse("members", args=["acme"]), {"invitee": "acme-analyst", "role": "broker"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(tenant=cast.tenant, verb="workbench.membership.role_changed")
    assert event.filter(data__user="acme-analyst").exists()


def test_the_dashboard_checks_permissions_with_a_constant_small_number_of_queries(
    cast, django_assert_max_num_queries
):
    client = cast.client(Role.COMPLIANCE_LEAD)
    client.get(reverse("tenant_dashboard", args=["acme"]))  # warm caches (content types)
    # 12 before notifications; one more for the unread count in the top bar.
    with django_assert_max_num_queries(13):
        assert client.get(reverse("tenant_dashboard", args=["acme"])).status_code == 200


def test_questions_inbox_matrix(cast):
    check_access_matrix(cast, reverse("followup:inbox", args=["acme"]), _roles_with("edit_catalog"))


@pytest.mark.parametrize("name", ["notifications", "help_rule_packs"])
def test_personal_and_help_pages_need_a_login_and_nothing_else(cast, name):
    assert cast.client("anonymous").get(reverse(name)).status_code == 302
    for who in [*Role.values, "outsider"]:
        assert cast.client(who).get(reverse(name)).status_code == 200, who
