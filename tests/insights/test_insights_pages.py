"""The dashboard page: who sees it, what a broker sees, the period in the URL, htmx swaps."""

import re

from django.urls import reverse

from tests.insights.test_insights_figures import fixture  # noqa: F401 (a fixture)
from tests.matrix import check_access_matrix
from workbench.roles import Role


def url(**query):
    base = reverse("insights:index", args=["acme"])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_dashboard_matrix(cast):
    allowed = {Role.COMPLIANCE_LEAD, Role.AUDITOR, Role.BROKER}
    check_access_matrix(cast, url(), allowed)
    check_access_matrix(cast, url(period="7", jurisdiction="US"), allowed)


def test_acknowledge_matrix(cast):
    check_access_matrix(
        cast,
        reverse("insights:acknowledge", args=["acme", 999999]),
        {Role.COMPLIANCE_LEAD},
        method="post",
        ok=(404,),
    )


def test_a_lead_sees_every_section_with_its_summary_and_table(cast, fixture):  # noqa: F811
    response = cast.client(Role.COMPLIANCE_LEAD).get(url(period="7"))
    html = response.content.decode()
    for key in (
        "outcomes",
        "precision",
        "overrides",
        "calibration",
        "backlog",
        "throughput",
        "duty",
    ):
        assert f'data-summary="{key}"' in html, key
    assert html.count("<details>") == 7 and html.count("<svg") >= 10
    assert "Brokers kept 3 of 3 machine-selected codes" not in html  # the 7-day figures:
    assert "Brokers kept 3 of 5 machine-selected codes they checked (60.0%)" in html
    assert 'style="' not in html.split("<main", 1)[1]


def test_a_broker_sees_only_their_own_queue_figures(cast, fixture):  # noqa: F811
    html = cast.client(Role.BROKER).get(url(period="7")).content.decode()
    assert 'data-summary="backlog"' in html and 'data-summary="throughput"' in html
    assert 'data-summary="precision"' not in html and "Policy drift alerts" not in html
    assert "3 broker actions by 1 people" in html


def test_htmx_gets_the_body_only_and_the_response_varies_on_it(cast, fixture):  # noqa: F811
    response = cast.client(Role.AUDITOR).get(url(period="30"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "HX-Request" in response["Vary"]
    assert html.lstrip().startswith('<div id="insights-body"') and "<html" not in html


def test_a_custom_period_that_ends_before_it_starts_says_so(cast):
    html = (
        cast.client(Role.AUDITOR)
        .get(url(period="custom", start="2026-03-10", end="2026-03-01"))
        .content.decode()
    )
    assert "The period ends (2026-03-01) before it starts (2026-03-10)." in html


def test_the_period_is_chosen_with_radio_buttons_30_days_by_default(cast):
    html = cast.client(Role.COMPLIANCE_LEAD).get(url()).content.decode()
    assert html.count('type="radio" name="period"') == 4
    assert re.search(r'<input type="radio" name="period" value="30"[^>]* checked', html)
    assert "<option" not in html.split('<fieldset class="periods">')[1].split("</fieldset>")[0]
