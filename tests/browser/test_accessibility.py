"""axe-core on the main pages at laptop (1366 x 768) and tablet (820 x 1180) widths: no serious or
critical violation, nothing scrolls sideways, and a screenshot of each page for the reviewer."""

import datetime as dt
import io
import re

import pytest
from playwright.sync_api import expect

from catalog import services as catalog_services
from classification.review import services as review_services
from rulepacks import services as rulepack_services
from tariffs import parsers
from tariffs import services as tariff_services
from tests.browser.conftest import FAILING_IMPACTS, describe_violations
from tests.catalog.conftest import row, xlsx_bytes
from tests.classification.conftest import make_products  # noqa: F401 (fixture)
from tests.classification.review.conftest import (  # noqa: F401 (fixtures)
    FIXTURES,
    _fresh_reference_cache,
    make_decision,
)
from tests.insights.conftest import _no_wakeups  # noqa: F401 (fixture)
from tests.insights.test_insights_figures import fixture as insights_history  # noqa: F401
from tests.rulepacks.conftest import cases_toml, load_schedule, real_pack_source
from workbench.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"laptop": (1366, 768), "tablet": (820, 1180)}


def review_schedule():
    """The review tests' small US schedule (sweaters, T-shirts, batteries), as current."""
    tariff_services.schedule_load_usitc(
        actor=None,
        source=parsers.read_source(str(FIXTURES / "usitc_review_small.csv")),
        revision="2026 Rev 4",
        effective_date=dt.date(2026, 2, 20),
    )


@pytest.fixture
def workbench(cast, make_products, make_decision, insights_history):  # noqa: F811
    """A tenant with something on each page: an active rule pack, an import with a refused row,
    review items (one with a question for the analysts), a dashboard history, audit events."""
    lead = cast.users[Role.COMPLIANCE_LEAD]
    # The pack's codes are in the rule-pack test schedule; the review schedule loads after it.
    load_schedule()
    pack = rulepack_services.rulepack_create(
        actor=lead, tenant=cast.tenant, jurisdiction="US", source=real_pack_source()
    )
    pack = rulepack_services.rulepack_cases_upload(
        actor=lead, pack=pack, filename="cases.toml", content=cases_toml(12)
    )
    pack = rulepack_services.rulepack_validate(actor=lead, pack=pack)
    pack = rulepack_services.rulepack_backtest(actor=lead, pack=pack)
    pack = rulepack_services.rulepack_activate(actor=lead, pack=pack)
    review_schedule()
    batch = catalog_services.import_batch_start(
        actor=cast.users[Role.ANALYST],
        tenant=cast.tenant,
        fileobj=io.BytesIO(
            xlsx_bytes([row("A-1"), row("B-2", **{"Country of origin": "Chna"}), row("C-3")])
        ),
        filename="spring-catalog.xlsx",
        background=False,
    )
    item = make_decision(
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
    escalated = make_decision()
    review_services.review_escalate(
        actor=cast.users[Role.BROKER],
        state=escalated,
        version=escalated.version,
        route="compliance",
        note="Is the lining part of the outer surface?",
    )
    asked = make_decision()
    review_services.review_request_info(
        actor=cast.users[Role.BROKER],
        state=asked,
        version=asked.version,
        missing_facts=["materials"],
        message="Is the shell cotton or acrylic? Give the share by weight.",
    )
    return {"pack": pack, "batch": batch, "item": item, "asked": asked}


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def sideways_scroll(page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits its width)."""
    return page.evaluate("document.scrollingElement.scrollWidth - innerWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_main_pages_have_no_serious_accessibility_violation(
    axe, screenshot, page, live_server, cast, workbench, width
):
    # axe first: without node_modules/axe-core the test skips before building its data.
    item = workbench["item"]
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    log_in(page, live_server, cast.users[Role.COMPLIANCE_LEAD].username)
    found, overflow, minor = {}, {}, {}

    def check(name):
        page.wait_for_load_state("networkidle")
        screenshot(page, name)
        violations = axe(page)
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        if failing:
            found[name] = failing
        if len(failing) < len(violations):
            minor[name] = sorted(v["id"] for v in violations if v not in failing)
        if (extra := sideways_scroll(page)) > 0:
            overflow[name] = extra

    pages = {
        "dashboard": "/t/acme/",
        "insights": "/t/acme/insights/",
        "catalog": "/t/acme/catalog/",
        "product": f"/t/acme/catalog/products/{item.product_id}/",
        "import-result": f"/t/acme/catalog/import/{workbench['batch'].pk}/",
        "rule-pack": f"/t/acme/rulepacks/{workbench['pack'].pk}/",
        "audit-log": "/t/acme/audit/",
        "decisions": "/t/acme/classification/decisions/",
        "questions": "/t/acme/questions/",
        "notifications": "/notifications/",
        "decision": f"/t/acme/classification/decisions/{item.decision_id}/",
        "tariffs": "/t/acme/tariffs/",
        "help-rule-packs": "/help/rule-packs/",
    }
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        check(name)

    # The queue, then an item opened in the panel from the keyboard (htmx swaps it in).
    page.goto(f"{live_server.url}/t/acme/classification/")
    expect(page.locator("html[data-review-keyboard=on]")).to_have_count(1)
    check("queue")
    page.locator(f"#row-{item.pk} [data-open]").click()
    expect(page.locator(f'#review-panel article[data-decision="{item.pk}"]')).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/review/{item.pk}/"))
    check("panel")

    assert not found, "axe-core violations:\n" + describe_violations(found)
    assert not overflow, f"pages scrolling sideways (px): {overflow}"
    print(f"moderate/minor axe findings at {width}: {minor}")


def test_the_check_reports_a_violation_it_is_shown(page, live_server, axe):
    """The harness itself: axe-core runs in the page and reports a button without a name."""
    page.goto(f"{live_server.url}/accounts/login/")
    assert [v for v in axe(page) if v["impact"] in FAILING_IMPACTS] == []
    page.evaluate("document.querySelector('main').append(document.createElement('button'))")
    assert "button-name" in [v["id"] for v in axe(page) if v["impact"] in FAILING_IMPACTS]
