"""The audit log in Chromium at laptop (1366 x 768) and tablet (820 x 1180) widths: nothing scrolls
sideways, event names stay whole, hashes show a short prefix with the whole value on demand."""

import pytest
from playwright.sync_api import expect

import audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"laptop": (1366, 768), "tablet": (820, 1180)}
# Among the longest verbs the workbench records, and everyday ones.
VERBS = [
    "rulepacks.rulepack.reclassify_requested",
    "rulepacks.rulepack.activation_refused",
    "classification.review.info_requested",
    "integrations.webhook.secret_rotated",
    "catalog.product.updated",
]


@pytest.fixture
def long_events(cast):
    events = []
    for i, verb in enumerate(VERBS):
        events.append(
            audit.record(
                actor=cast.users["compliance_lead"],
                verb=verb,
                target=(
                    "classification.decision",
                    1000 + i,
                    f"Decision #{1000 + i} — Men's knitted pullover sweater of cotton, long "
                    "sleeves, ribbed cuffs and waistband",
                ),
                tenant=cast.tenant,
                data={
                    "description": ["Pullover", "Men's knitted pullover sweater of cotton " * 4],
                    "source_sha256": "ab" * 32,
                    "url": "https://supplier.example.com/spec-sheets/" + "x" * 80 + ".pdf",
                },
            )
        )
    audit.record(actor=None, verb="audit.chain.checked", tenant=cast.tenant)  # no target
    return events


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/?next=/t/acme/audit/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()


def lines_of(locator) -> int:
    """How many lines an inline element's text takes."""
    return locator.evaluate(
        """el => {
          const tops = new Set([...el.getClientRects()].map(r => Math.round(r.top)));
          const range = document.createRange();
          range.selectNodeContents(el);
          for (const r of range.getClientRects()) tops.add(Math.round(r.top));
          return tops.size;
        }"""
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_log_fits_its_width_names_stay_whole_and_hashes_open_in_full(
    page, live_server, cast, long_events, width, screenshot, csp_violations
):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    log_in(page, live_server, cast.users["auditor"].username)
    page.wait_for_load_state("networkidle")
    screenshot(page, "audit-log-long-names")

    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client, f"the page scrolls sideways by {scroll - client} px"

    # A table at laptop width; a card per event (headings hidden, labels shown) at tablet width.
    header = page.locator(".audit-log thead")
    if width == "laptop":
        expect(header).to_be_visible()
    else:
        assert header.bounding_box()["height"] <= 1
        assert page.locator(".audit-log tbody tr").first.evaluate(
            "el => getComputedStyle(el).display"
        ) == ("block")

    for verb in VERBS:
        name = page.locator("code.verb", has_text=verb).first
        expect(name).to_have_text(verb)
        assert lines_of(name) == 1, f"{verb} wraps at {width}"

    event = long_events[0]
    row = page.locator(".audit-log tbody tr", has=page.locator("code.verb", has_text=VERBS[0]))
    summary = row.locator(".event-hash summary")
    expect(summary).to_have_text(f"{event.hash[:12]}…")
    whole = row.locator(".event-hash .hash")
    expect(whole).to_be_hidden()
    summary.click()
    expect(whole).to_be_visible()
    expect(whole).to_have_text(event.hash)
    # The whole hash wraps inside its cell or card, never widening the page.
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client
    screenshot(page, "audit-log-hash-open", full_page=False)
    assert csp_violations == []
