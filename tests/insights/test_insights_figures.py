"""Each dashboard figure on a small fixture whose answers are worked out by hand."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from classification.models import ReviewAction
from classification.review import tallies
from insights import selectors
from tests.insights.conftest import add_decisions
from workbench.roles import Role

X, Y = "6110202010", "6109100012"


@pytest.fixture
def fixture(cast):
    today = timezone.localdate()
    noon = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
    day = dt.timedelta(days=1)
    hour = dt.timedelta(hours=1)
    broker = cast.users[Role.BROKER]
    y_duty = {
        "candidates": [{"code": Y, "duty": {"total": "4.00"}}],
        "duty": {
            "declared": {"estimate": {"code": "6111000000", "total": "10.00", "computable": True}}
        },
    }
    rows = [
        # A, B: classified two days ago by rule r1; A kept, B overridden.
        {
            "outcome": "classified",
            "final": X,
            "confidence": 0.95,
            "source": "rule",
            "rule": "r1",
            "created": noon - 2 * day,
            "decided": noon - 2 * day + 2 * hour,
            "declared_duty": Decimal("10"),
            "duty": Decimal("25"),
        },
        {
            "outcome": "classified",
            "final": Y,
            "confidence": 0.95,
            "source": "rule",
            "rule": "r1",
            "created": noon - 2 * day,
            "decided": noon - 2 * day + 4 * hour,
            "declared_duty": Decimal("10"),
            "duty": Decimal("30"),
            "evidence": y_duty,
        },
        # C kept (search); D open, a day old.
        {
            "outcome": "needs_review",
            "final": X,
            "confidence": 0.55,
            "source": "search",
            "created": noon - day,
            "decided": noon - day + 10 * hour,
            "declared_duty": Decimal("5"),
        },
        {"outcome": "needs_review", "created": noon - day},
        # E blocked, open now; F, G auto-finalized and spot-checked: confirmed, corrected.
        {"outcome": "blocked", "selected": "", "created": noon, "queue": "blocked"},
        {
            "outcome": "classified",
            "final": X,
            "confidence": 0.85,
            "source": "precedent",
            "created": noon,
            "decided": noon,
            "spot_check": "confirmed",
            "system": True,
        },
        {
            "outcome": "classified",
            "final": Y,
            "confidence": 0.85,
            "source": "precedent",
            "created": noon,
            "decided": noon + 6 * hour,
            "spot_check": "corrected",
        },
        # H: before the period. I: waiting for information for two days (created ten days ago).
        {
            "outcome": "classified",
            "final": Y,
            "created": noon - 10 * day,
            "decided": noon - 10 * day,
        },
        {
            "outcome": "needs_review",
            "status": "info_requested",
            "queue": "info_requested",
            "created": noon - 10 * day,
            "updated": noon - 2 * day,
        },
    ]
    decisions = add_decisions(cast.tenant, broker, rows)
    lead = cast.users[Role.COMPLIANCE_LEAD]
    for decision, actor, kind in [
        (decisions[0], broker, "accept"),
        (decisions[1], broker, "override"),
        (decisions[3], broker, "escalate"),
        (decisions[2], lead, "accept"),
        (decisions[4], broker, "assign"),  # not a decision: not counted
    ]:
        ReviewAction.objects.create(
            tenant=cast.tenant, decision=decision, actor=actor, kind=kind, version=2
        )
    tallies.tally_rebuild(cast.tenant.pk)  # actions written directly: count them again
    period = selectors.Period(today - 2 * day, today)
    return cast.tenant, period, noon, decisions


def test_outcome_mix_counts_each_day_and_the_review_rate(fixture):
    tenant, period, _, _ = fixture
    mix = selectors.outcome_mix(tenant, period)
    assert [(d["classified"], d["needs_review"], d["blocked"]) for d in mix] == [
        (2, 0, 0),
        (0, 2, 0),
        (2, 0, 1),
    ]
    assert mix[1]["review_rate"] == 1.0 and mix[0]["review_rate"] == 0.0


def test_precision_of_automation_per_outcome_and_source_with_spot_checks(fixture):
    tenant, period, _, _ = fixture
    p = selectors.precision(tenant, period)
    assert (p["n"], p["kept"]) == (5, 3)
    by_outcome = {r["key"]: (r["n"], r["kept"]) for r in p["by_outcome"]}
    assert by_outcome == {"classified": (4, 2), "needs_review": (1, 1)}
    by_source = {r["key"]: (r["n"], r["kept"]) for r in p["by_source"]}
    assert by_source == {"rule": (2, 1), "search": (1, 1), "precedent": (2, 1)}
    assert p["spot_checks"] == {"pending": 0, "confirmed": 1, "corrected": 1, "precision": 0.5}


def test_override_rates_per_rule_and_pack_and_the_codes_moved_to(fixture):
    tenant, period, _, _ = fixture
    o = selectors.overrides(tenant, period)
    assert [(r["key"], r["n"], r["moved"]) for r in o["rules"]] == [("r1", 2, 1)]
    assert [(r["key"], r["n"], r["moved"]) for r in o["packs"]] == [("1", 5, 2)]
    assert [(r["code"], r["n"]) for r in o["to_codes"]] == [(Y, 2)]


def test_calibration_bins_and_expected_calibration_error(fixture):
    tenant, period, _, _ = fixture
    c = selectors.calibration(tenant, period)
    filled = {i: (b["n"], b["accuracy"]) for i, b in enumerate(c["bins"]) if b["n"]}
    assert filled == {5: (1, 1.0), 8: (2, 0.5), 9: (2, 0.5)}
    assert c["ece"] == pytest.approx(0.4 * 0.45 + 0.2 * 0.45 + 0.4 * 0.35)


def test_backlog_by_queue_and_age_time_to_final_and_information_waits(fixture):
    tenant, period, noon, _ = fixture
    b = selectors.backlog(tenant, period, now=noon)
    queues = {q["key"]: (q["n"], round(q["oldest"], 2), q["buckets"]) for q in b["queues"]}
    assert queues == {
        "needs_review": (1, 1.0, [0, 1, 0, 0, 0]),
        "blocked": (1, 0.0, [1, 0, 0, 0, 0]),
        "info_requested": (1, 10.0, [0, 0, 0, 1, 0]),
    }
    assert b["to_final"]["n"] == 5
    assert b["to_final"]["median"] == pytest.approx(4.0)
    assert b["to_final"]["p90"] == pytest.approx(8.4)
    assert b["info"]["n"] == 1 and b["info"]["oldest"] == pytest.approx(2.0)


def test_throughput_counts_decisions_and_each_persons_actions_per_day(fixture):
    tenant, period, _, _ = fixture
    t = selectors.throughput(tenant, period, selectors.outcome_mix(tenant, period))
    assert t["decisions_total"] == 7
    people = {p["name"]: (p["total"], round(p["per_day"], 3)) for p in t["people"]}
    assert people == {"acme-broker": (3, 1.0), "acme-compliance_lead": (1, 0.333)}


def test_duty_exposure_compares_declared_and_final_codes(fixture):
    tenant, period, _, decisions = fixture
    d = selectors.duty_exposure(tenant, period)
    assert (d["n"], d["unknown"], d["total"]) == (2, 1, Decimal("9"))
    assert [(r["decision_id"], r["difference"]) for r in d["largest"]] == [
        (decisions[0].pk, Decimal("15")),
        (decisions[1].pk, Decimal("-6")),
    ]
    assert d["largest"][1]["declared_code"] == "6111000000"


def test_a_jurisdiction_filter_leaves_out_other_jurisdictions(fixture):
    tenant, period, _, _ = fixture
    eu = selectors.Period(period.start, period.end, "EU")
    assert sum(d["total"] for d in selectors.outcome_mix(tenant, eu)) == 0
    assert selectors.precision(tenant, eu)["n"] == 0


def test_figures_read_in_one_pass_are_the_same(fixture):
    tenant, period, noon, _ = fixture
    figures = [
        selectors.precision,
        selectors.overrides,
        selectors.calibration,
        selectors.duty_exposure,
        lambda t, p: selectors.backlog(t, p, now=noon),
    ]
    alone = [f(tenant, period) for f in figures]
    with selectors.summed():
        assert [f(tenant, period) for f in figures] == alone
