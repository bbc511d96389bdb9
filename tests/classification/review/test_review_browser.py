"""Browser flows of the review workbench (Playwright with Debian's Chromium)."""

import re

import pytest
from playwright.sync_api import expect

from classification.models import ReviewState
from classification.review import services
from tests.classification.review.conftest import MENS, WOMENS
from tests.conftest import let_undo_windows_pass, watch_csp
from workbench.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username, next_path="/t/acme/classification/"):
    page.goto(f"{live_server.url}{next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Review", level=1)).to_be_visible()
    # Keys are only heard once the keyboard script has started.
    expect(page.locator("html[data-review-keyboard=on]")).to_have_count(1)


def panel_of(page, state):
    return page.locator(f'#review-panel article[data-decision="{state.pk}"]')


def test_a_broker_triages_by_keyboard_and_a_lead_resolves_the_escalation(
    page, live_server, cast, make_decision, us_schedule, browser, csp_violations
):
    first, second, third = (make_decision() for _ in range(3))
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server, cast.users[Role.BROKER].username)
    expect(page.locator("[data-review-row]")).to_have_count(3)
    # Nothing opened yet: the queue takes most of the width, not half.
    queue = page.locator(".review-split > section").first
    assert (
        queue.bounding_box()["width"] > 0.6 * page.locator(".review-split").bounding_box()["width"]
    )

    # Enter opens the first item; a accepts it and the next item opens by itself.
    page.keyboard.press("Enter")
    expect(panel_of(page, first)).to_be_visible()
    # Open: queue and evidence share the width.
    assert (
        queue.bounding_box()["width"] < 0.6 * page.locator(".review-split").bounding_box()["width"]
    )
    expect(page).to_have_url(re.compile(rf"/review/{first.pk}/"))
    page.keyboard.press("a")
    expect(panel_of(page, second)).to_be_visible()
    expect(page.locator(f"#row-{first.pk}")).to_have_class(re.compile("done"))

    # o focuses the code field of the override form.
    page.keyboard.press("o")
    code = page.locator("#id_override-code")
    expect(code).to_be_focused()
    code.fill("6110.20.20.20")
    page.locator("#id_override-reason_code").select_option("supplier_evidence")
    page.locator("#id_override-note").fill("Supplier's spec sheet shows a women's cut.")
    page.get_by_role("button", name="Override", exact=True).click()
    expect(panel_of(page, third)).to_be_visible()

    # e escalates the third to legal.
    page.keyboard.press("e")
    expect(page.locator("#id_escalate-route")).to_be_focused()
    page.locator("#id_escalate-route").select_option("legal")
    page.locator("#id_escalate-note").fill("Dual-use question for counsel.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#row-{third.pk}")).to_have_class(re.compile("done"))

    assert ReviewState.objects.get(pk=first.pk).final_code == MENS
    assert ReviewState.objects.get(pk=second.pk).final_code == WOMENS
    assert ReviewState.objects.get(pk=third.pk).queue == "escalated_legal"

    # The compliance lead resolves the escalation from the legal queue.
    lead_page = browser.new_context().new_page()
    watch_csp(lead_page, csp_violations)
    log_in(lead_page, live_server, cast.users[Role.COMPLIANCE_LEAD].username)
    lead_page.get_by_role("link", name=re.compile("Escalated: legal")).click()
    expect(lead_page.locator("[data-review-row]")).to_have_count(1)
    lead_page.locator(f"#row-{third.pk} [data-open]").click()
    expect(panel_of(lead_page, third)).to_be_visible()
    lead_page.keyboard.press("a")
    expect(lead_page.locator("#review-panel [data-final-code]")).to_have_text("6110.20.20.10")
    state = ReviewState.objects.get(pk=third.pk)
    assert state.status == "final" and state.decided_by == cast.users[Role.COMPLIANCE_LEAD]
    # The whole flow ran under the Content-Security-Policy without one refusal.
    assert csp_violations == []


def test_a_stale_action_shows_who_acted_first_and_keeps_the_note(
    page, live_server, cast, make_decision
):
    state = make_decision()
    log_in(page, live_server, cast.users[Role.BROKER].username)
    page.keyboard.press("Enter")
    expect(panel_of(page, state)).to_be_visible()
    page.keyboard.press("e")
    page.locator("#id_escalate-route").select_option("finance")
    page.locator("#id_escalate-note").fill("Valuation looks off.")
    # Meanwhile the compliance lead accepts the item.
    services.review_accept(
        actor=cast.users[Role.COMPLIANCE_LEAD],
        state=ReviewState.objects.get(pk=state.pk),
        version=1,
    )
    page.get_by_role("button", name="Escalate", exact=True).click()
    conflict = page.locator("#review-panel [data-conflict]")
    expect(conflict).to_contain_text("acme-compliance_lead accepted 6110.20.20.10")
    expect(page.locator("#review-panel [data-kept] textarea").last).to_have_value(
        "Valuation looks off."
    )
    expect(page.locator("#review-panel [data-final-code]")).to_have_text("6110.20.20.10")
    assert ReviewState.objects.get(pk=state.pk).status == "final"


def test_question_mark_shows_the_shortcuts(page, live_server, cast, make_decision):
    make_decision()
    log_in(page, live_server, cast.users[Role.BROKER].username)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


def test_a_broker_confirms_from_the_confirm_queue_by_keyboard_and_it_reaches_the_feed(
    page, live_server, cast, make_decision, us_schedule
):
    from integrations import delivery
    from integrations.models import FeedEntry

    state = make_decision(outcome="classified", confidence=0.97, reasons=())
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(
        page, live_server, cast.users[Role.BROKER].username, "/t/acme/classification/?queue=confirm"
    )
    expect(page.locator("[data-review-row]")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(panel_of(page, state)).to_be_visible()
    page.keyboard.press("a")
    expect(page.locator(f"#row-{state.pk}")).to_have_class(re.compile("done"))
    assert ReviewState.objects.get(pk=state.pk).final_code == MENS
    let_undo_windows_pass()
    delivery.dispatch_pending()
    assert FeedEntry.objects.filter(decision_id=state.pk, final_code=MENS).count() == 1


def test_a_high_risk_item_needs_a_second_press_of_a(
    page, live_server, cast, make_decision, us_schedule
):
    state = make_decision(risk="high")
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server, cast.users[Role.BROKER].username)
    page.keyboard.press("Enter")
    expect(panel_of(page, state)).to_be_visible()
    page.keyboard.press("a")
    expect(page.locator("#review-panel [data-second-press]")).to_have_text(
        "High-risk item: press a again to accept it."
    )
    assert ReviewState.objects.get(pk=state.pk).status == "open"
    page.keyboard.press("a")
    expect(page.locator(f"#row-{state.pk}")).to_have_class(re.compile("done"))
    assert ReviewState.objects.get(pk=state.pk).final_code == MENS
