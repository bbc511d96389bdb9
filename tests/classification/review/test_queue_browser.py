"""Browser checks of the queue at laptop and tablet widths: search, filters, the keyboard acting
only on the item on screen, undo, and no page scrolling sideways."""

import re

import pytest
from playwright.sync_api import expect

from classification.models import ReviewState
from tests.classification.review.test_review_browser import log_in, panel_of
from workbench.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"laptop": (1366, 768), "tablet": (820, 1180)}


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] < height and box["y"] + box["height"] > 0


def no_sideways_scroll(page) -> tuple[int, int]:
    return page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")


@pytest.fixture
def three_items(make_decision, make_products):
    sweater = make_decision()
    bag = make_decision(
        make_products(
            1,
            prefix="BAG",
            Name="Tote of calf leather",
            Description="Handbag with outer surface of leather, shoulder strap",
            Materials="leather",
        )[0],
        reasons=("restricted_goods", "agency_requirements"),
        risk="medium",
    )
    other_bag = make_decision(
        make_products(
            1,
            prefix="BAG2",
            Name="Leather wallet",
            Description="Wallet of leather for the pocket",
            Materials="leather",
        )[0],
    )
    return sweater, bag, other_bag


@pytest.mark.parametrize("width", WIDTHS)
def test_search_filter_and_keyboard_accept_act_on_the_item_on_screen(
    page, live_server, cast, three_items, us_schedule, width, csp_violations, screenshot
):
    _sweater, bag, other_bag = three_items
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    log_in(page, live_server, cast.users[Role.BROKER].username)
    expect(page.locator("[data-review-row]")).to_have_count(3)

    page.get_by_role("searchbox", name="Search").fill("leather")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.locator("[data-review-row]")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"q=leather"))
    page.locator("select[name=risk]").select_option("medium")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("[data-review-row]")).to_have_count(1)
    expect(page.locator('[data-count="needs_review"]')).to_have_text("1")
    expect(page.locator(f"#row-{bag.pk} [data-reason]").first).to_have_text("restricted goods")
    expect(page.locator(f"#row-{bag.pk} [data-source=rule]")).to_be_visible()
    assert no_sideways_scroll(page)[0] <= no_sideways_scroll(page)[1]
    screenshot(page, "review-queue")

    page.keyboard.press("Enter")
    panel = panel_of(page, bag)
    expect(panel).to_be_visible()
    # The panel opens in view, focus inside it: "a" accepts what the broker sees.
    assert in_viewport(page, panel)
    assert page.evaluate("document.activeElement.closest('#review-panel') !== null")
    screenshot(page, "review-panel", full_page=False)
    assert in_viewport(page, page.get_by_role("button", name=re.compile("^Accept")))
    page.keyboard.press("a")
    expect(page.locator("#review-panel [data-final-code]")).to_have_text("6110.20.20.10")
    assert ReviewState.objects.get(pk=bag.pk).status == "final"
    assert ReviewState.objects.get(pk=other_bag.pk).status == "open"
    assert no_sideways_scroll(page)[0] <= no_sideways_scroll(page)[1]
    assert csp_violations == []


def test_a_panel_scrolled_out_of_view_is_brought_back_and_a_does_not_act(
    page, live_server, cast, three_items, us_schedule
):
    sweater, _bag, _other = three_items
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server, cast.users[Role.BROKER].username)
    page.locator(f"#row-{sweater.pk} [data-open]").click()
    panel = panel_of(page, sweater)
    expect(panel).to_be_visible()
    # Force the old stacked layout (the panel far below the queue, out of view) through the
    # CSSOM, which the Content-Security-Policy allows.
    page.evaluate(
        """() => {
          document.querySelector('.review-split').style.gridTemplateColumns = '1fr';
          const panel = document.getElementById('review-panel');
          panel.style.position = 'static';
          panel.style.maxHeight = 'none';
          panel.style.marginTop = '4000px';
          window.scrollTo(0, 0);
        }"""
    )
    page.locator("body").click(position={"x": 5, "y": 300})
    assert not in_viewport(page, panel)
    page.keyboard.press("a")
    assert in_viewport(page, panel)
    assert ReviewState.objects.get(pk=sweater.pk).status == "open"


@pytest.mark.parametrize("width", WIDTHS)
def test_undo_takes_an_accept_back_with_u(
    page, live_server, cast, make_decision, width, screenshot
):
    first, second = make_decision(), make_decision()
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    log_in(page, live_server, cast.users[Role.BROKER].username)
    page.keyboard.press("Enter")
    expect(panel_of(page, first)).to_be_visible()
    page.keyboard.press("a")
    # The next item opens; the Undo toast names the one just accepted.
    expect(panel_of(page, second)).to_be_visible()
    toast = page.locator("#review-undo [data-undo]")
    expect(toast).to_contain_text(f"{first.product.sku}: accepted 6110.20.20.10")
    assert in_viewport(page, toast)
    screenshot(page, "review-undo", full_page=False)
    page.keyboard.press("u")
    expect(panel_of(page, first)).to_be_visible()
    expect(page.locator("#review-panel [role=status]")).to_contain_text("is undone")
    expect(toast).to_have_count(0)
    expect(page.locator(f"#row-{first.pk}")).not_to_have_class(re.compile("done"))
    state = ReviewState.objects.get(pk=first.pk)
    assert (state.status, state.final_code) == ("open", "")


MAIN_PAGES = [
    ("/t/acme/", Role.COMPLIANCE_LEAD),
    ("/t/acme/catalog/", Role.ANALYST),
    ("/t/acme/catalog/products/{product}/", Role.ANALYST),
    ("/t/acme/catalog/import/", Role.ANALYST),
    ("/t/acme/catalog/import/{batch}/", Role.ANALYST),
    ("/t/acme/classification/", Role.BROKER),
    ("/t/acme/classification/review/{decision}/", Role.BROKER),
    ("/t/acme/classification/decisions/", Role.BROKER),
    ("/t/acme/classification/decisions/{decision}/", Role.BROKER),
    ("/t/acme/classification/requests/{request}/", Role.BROKER),
    ("/t/acme/rulepacks/", Role.COMPLIANCE_LEAD),
    ("/t/acme/tariffs/", Role.BROKER),
    ("/t/acme/audit/", Role.AUDITOR),
    ("/t/acme/insights/", Role.COMPLIANCE_LEAD),
    ("/t/acme/integrations/", Role.COMPLIANCE_LEAD),
    ("/t/acme/members/", Role.TENANT_ADMIN),
    ("/t/acme/usage/", Role.TENANT_ADMIN),
]


def test_no_main_page_scrolls_sideways_at_laptop_or_tablet_width(
    browser, live_server, cast, make_decision, us_schedule
):
    state = make_decision(
        reasons=("agency_requirements", "restricted_goods", "conflicting_evidence"),
        risk="high",
    )
    ids = {
        "product": state.product_id,
        "decision": state.pk,
        "request": state.decision.job.request_id,
        "batch": state.decision.product_version.import_batch_id,
    }
    wide = []
    for role in dict.fromkeys(r for _, r in MAIN_PAGES):
        page = browser.new_context().new_page()
        log_in_as(page, live_server, cast.users[role].username)
        for path, who in MAIN_PAGES:
            if who != role:
                continue
            for name, (w, h) in WIDTHS.items():
                page.set_viewport_size({"width": w, "height": h})
                response = page.goto(live_server.url + path.format(**ids))
                assert response.status == 200, (path, response.status)
                page.wait_for_load_state("networkidle")
                scroll, inner = no_sideways_scroll(page)
                if scroll > inner:
                    wide.append(f"{path.format(**ids)} at {name}: {scroll} px > {inner} px")
        page.context.close()
    assert wide == []


def log_in_as(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".who .user")).to_have_text(username)
