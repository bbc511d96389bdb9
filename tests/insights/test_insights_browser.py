"""The dashboard in a browser (Playwright with Debian's Chromium), wide and narrow."""

import re

import pytest
from playwright.sync_api import expect

from tests.insights.test_insights_figures import fixture  # noqa: F401 (a fixture)
from workbench.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def drawn_width(page, chart: str, cls: str) -> list[float]:
    rects = page.locator(f'svg[data-chart="{chart}"] rect.{cls}')
    return [rects.nth(i).bounding_box()["width"] for i in range(rects.count())]


@pytest.mark.parametrize("width", [1366, 820])
def test_charts_draw_their_figures_and_the_period_swaps_in_place(
    page,
    live_server,
    cast,
    fixture,  # noqa: F811
    width,
    csp_violations,
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/t/acme/insights/?period=7")
    page.get_by_label("Username").fill(cast.users[Role.COMPLIANCE_LEAD].username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Insights", level=1)).to_be_visible()

    charts = page.locator("figure.chart svg")
    assert charts.count() >= 10
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box["width"] > 100 and box["height"] > 50, f"chart {i} drawn at {box}"
        assert box["x"] + box["width"] <= width  # nothing sideways off the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # The summary says what the chart shows, and is the chart's description.
    summary = page.locator('[data-summary="outcomes"]')
    expect(summary).to_contain_text("7 decisions: 4 classified, 2 needed review, 1 blocked.")
    desc = page.locator('svg[data-chart="chart-outcomes-0"] desc').text_content()
    assert desc == summary.text_content()
    expect(page.locator('[data-summary="precision"]')).to_contain_text(
        "Brokers kept 3 of 5 machine-selected codes they checked (60.0%)"
    )
    # Kept by outcome: classified 2 of 4 (drawn first: more checked), needs review 1 of 1.
    classified, needs_review = drawn_width(page, "chart-precision-0", "bar-plain")
    assert classified == pytest.approx(needs_review / 2, rel=0.05)

    # Another period swaps the body in place (no page load), and the URL keeps it.
    page.evaluate("window.stillHere = true")
    page.get_by_label("90 days").check()
    expect(page).to_have_url(re.compile(r"period=90"))
    expect(page.locator(".period-note")).to_contain_text(
        re.compile(r"\d+ \w+ \d{4} – \d+ \w+ \d{4}")
    )
    expect(page.locator('[data-summary="outcomes"]')).to_contain_text("9 decisions")
    assert page.evaluate("window.stillHere") is True
    assert csp_violations == []
