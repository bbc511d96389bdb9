"""Browser flows (Playwright, Debian's Chromium): a supplier answers through a link; an invitee
without an account sets a password from the emailed link."""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import Product
from followup.models import SupplierFile
from workbench.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username, next_path):
    page.goto(f"{live_server.url}{next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()


def test_a_supplier_answers_through_a_link_and_the_analyst_sees_the_new_version(
    page, live_server, cast, asked, browser, mailoutbox
):
    state = asked()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server, cast.users[Role.ANALYST].username, "/t/acme/questions/")
    expect(page.get_by_role("heading", name="Questions", level=1)).to_be_visible()
    page.get_by_role("link", name=re.compile(state.product.sku)).click()
    expect(page.get_by_text("Is the shell cotton or acrylic?")).to_be_visible()
    page.get_by_label("Supplier contact").fill("Jane Roe")
    page.get_by_label("Email address").fill("jane@supplier.test")
    page.get_by_role("button", name="Create supplier link").click()
    link = page.locator("#supplier-link").inner_text()
    assert "/supplier/" in link
    assert any(link.split("/supplier/")[1] in m.body for m in mailoutbox)

    supplier = browser.new_context().new_page()
    supplier.goto(link.replace("http://testserver", live_server.url))
    expect(supplier.get_by_role("heading", level=1)).to_contain_text(state.product.sku)
    supplier.get_by_label("Materials").fill("acrylic 70%; wool 30%")
    supplier.get_by_label(re.compile("Spec sheet or photo")).set_input_files(
        files=[{"name": "spec.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%\n"}]
    )
    supplier.get_by_role("button", name="Send answer").click()
    expect(supplier.get_by_role("heading", name="Thank you")).to_be_visible()

    product = Product.objects.get(pk=state.product_id)
    assert product.current_version.facts["materials"] == ["acrylic 70%", "wool 30%"]
    assert SupplierFile.objects.filter(link__state=state).count() == 1
    page.goto(f"{live_server.url}/t/acme/catalog/products/{state.product_id}/")
    expect(page.get_by_text(re.compile(r"supplier link #\d+, Jane Roe")).first).to_be_visible()


def test_an_invitee_without_an_account_sets_a_password_from_the_emailed_link(
    page, live_server, cast, browser, mailoutbox
):
    log_in(page, live_server, cast.users[Role.TENANT_ADMIN].username, "/t/acme/members/")
    page.get_by_label("Username or email").fill("new.analyst@example.test")
    page.locator("select[name=role]").select_option("analyst")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("It has been emailed to new.analyst@example.test")).to_be_visible()
    [mail] = [m for m in mailoutbox if m.to == ["new.analyst@example.test"]]
    url = re.search(r"http://\S+/invitations/\S+/", mail.body).group(0)

    invitee = browser.new_context().new_page()
    invitee.goto(url.replace("http://127.0.0.1:8000", live_server.url))
    expect(invitee.get_by_role("heading", name="Set your password")).to_be_visible()
    invitee.get_by_label("Password", exact=True).fill("amber-lantern-42-quietly")
    invitee.get_by_label("Password again").fill("amber-lantern-42-quietly")
    invitee.get_by_role("button", name=re.compile("Create account")).click()
    expect(invitee.get_by_text("Welcome to Acme Imports: you are Analyst.")).to_be_visible()
    expect(invitee.locator(".who .user")).to_have_text("new.analyst@example.test")
