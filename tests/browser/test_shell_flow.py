"""Browser flow through the workbench shell: log in, switch tenant, dashboard, log out."""

import pytest
from playwright.sync_api import expect

from tests.factories import MembershipFactory, TenantFactory, UserFactory
from workbench.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_tenant_user():
    user = UserFactory(username="dana")
    MembershipFactory(
        tenant=TenantFactory(name="Acme Imports", slug="acme"), user=user, role=Role.BROKER
    )
    MembershipFactory(
        tenant=TenantFactory(name="Globex Brokerage", slug="globex"), user=user, role=Role.AUDITOR
    )
    return user


def test_a_user_logs_in_switches_tenant_sees_the_dashboard_and_logs_out(
    page, live_server, two_tenant_user
):
    page.goto(f"{live_server.url}/t/acme/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/t/acme/")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Imports")
    expect(page.locator(".who .role-badge")).to_have_text("Broker")

    page.get_by_label("Switch tenant").select_option(label="Globex Brokerage")
    expect(page).to_have_url(f"{live_server.url}/t/globex/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex Brokerage")
    expect(page.locator(".who .role-badge")).to_have_text("Auditor")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}/t/globex/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
