"""The Content-Security-Policy in Chromium: it refuses injected inline code, and the main pages
(htmx fragments included) load under it without one refusal."""

import pytest
from playwright.sync_api import expect

from tests.conftest import watch_csp
from workbench.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    Role.COMPLIANCE_LEAD: [
        "/t/acme/",
        "/t/acme/catalog/",
        "/t/acme/catalog/import/",
        "/t/acme/tariffs/",
        "/t/acme/tariffs/search/?q=cotton",
        "/t/acme/rulepacks/",
        "/t/acme/rulepacks/new/",
        "/t/acme/classification/",
        "/t/acme/classification/decisions/",
        "/t/acme/audit/",
        "/t/acme/audit/exports/",
        "/t/acme/integrations/",
        "/api/v1/docs",
    ],
    Role.TENANT_ADMIN: ["/t/acme/members/", "/t/acme/integrations/tokens/"],
}


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_injected_inline_script_and_style_are_refused(browser, live_server, cast):
    # Its own page: the refusals provoked here must not fail the suite's guard on ``page``.
    page = browser.new_context().new_page()
    csp_violations = watch_csp(page, [])
    log_in(page, live_server, cast.users[Role.BROKER].username)
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.injected = true";
          document.body.append(s);
          document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
        }"""
    )
    assert page.evaluate("() => window.injected") is None
    assert any("script-src" in text for text in csp_violations), csp_violations
    assert any("style-src" in text for text in csp_violations), csp_violations


@pytest.mark.parametrize("role", list(PAGES))
def test_the_main_pages_load_without_a_csp_refusal(page, live_server, cast, role):
    found = watch_csp(page, [])
    log_in(page, live_server, cast.users[role].username)
    for path in PAGES[role]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        if path == "/api/v1/docs":  # Swagger UI renders under the policy
            expect(page.locator(".swagger-ui .info")).to_be_visible()
    assert found == []
