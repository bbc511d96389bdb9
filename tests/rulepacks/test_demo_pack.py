"""The demo US pack passes every gate against the real HTSUS 2026 Rev 4 and becomes active."""

import datetime as dt
import io
from pathlib import Path

import pytest

from rulepacks import demo, gates
from rulepacks.format import parse
from tariffs import parsers
from tariffs import services as tariff_services
from tariffs.models import ReferenceList
from tests.conftest import shared_data_path

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def load(name: str) -> parsers.Source:
    path = Path(shared_data_path(name))
    return parsers.Source(path.name, path.read_bytes())


@pytest.fixture
def real_us_schedule(db):
    source = load("us_htsus_2026_rev4_usitc_export.csv")
    schedule = tariff_services.schedule_load_usitc(
        actor=None, source=source, revision="2026 Rev 4", effective_date=dt.date(2026, 1, 1)
    ).obj
    for name, kind in (
        ("us_cbp_hts_pga_report_2026-02-21.csv", ReferenceList.Kind.PGA),
        ("us_section301_china_product_lists_budgetlab_mit.csv", ReferenceList.Kind.SECTION301),
        ("us_section232_annex_products_budgetlab_mit.csv", ReferenceList.Kind.SECTION232),
    ):
        tariff_services.reference_list_load(actor=None, kind=kind, source=load(name))
    return schedule


def test_the_demo_pack_is_substantial():
    pack = parse(demo.DEMO_PACK.read_text()).pack
    assert len(pack.rules) >= 30 and len(pack.golden) >= 10
    assert {d.id for d in pack.denied} >= {"dog-cat-fur", "dog-cat-fur-text"}
    assert {r.id for r in pack.restrictions} >= {
        "lithium-batteries",
        "knives",
        "cosmetics-fda",
        "supplements-fda",
    }
    chapters = {r.code[:2] for r in pack.rules}
    assert chapters >= {"61", "62", "85", "82", "33", "95", "21"}


def test_the_demo_pack_is_activated_for_acme_by_its_demo_step(cast, real_us_schedule):
    from rulepacks import selectors

    out = io.StringIO()
    demo.activate_demo_pack({"acme": cast.tenant}, out)
    pack = selectors.active_pack(cast.tenant, "US")
    assert pack is not None, (out.getvalue(),)
    assert pack.schedule_revision == "2026 Rev 4" and demo.is_demo_pack(pack)
    assert pack.activated_by is None  # the demo activated it, not a compliance lead
    report = pack.backtest_report
    assert report["passed"] and report["cases_total"] >= 20
    assert report["mode"] == "production" and report["accuracy"] >= 0.85
    # The engine's default calibration sends rule-backed codes to review until the tenant has
    # its own fit; with no pack active everything is blocked today, so none is left to a person
    # that is not already.
    assert report["now"]["pack"] is None and report["now"]["to_person"] == 1.0
    assert {c["name"]: c["passed"] for c in report["checks"]}["review_rate"]
    assert report["denied_low_risk"] == []
    safety = next(g for g in pack.gate_report["gates"] if g["key"] == "safety")
    assert safety["details"]["p99_ms"] <= gates.P99_BUDGET_MS
    assert "demo US pack" in out.getvalue()
    demo.activate_demo_pack({"acme": cast.tenant}, out)  # idempotent
    assert selectors.active_pack(cast.tenant, "US").pk == pack.pk


def test_the_demo_step_says_so_without_a_us_schedule(cast):
    out = io.StringIO()
    demo.activate_demo_pack({"acme": cast.tenant}, out)
    assert "no US tariff schedule loaded" in out.getvalue()
