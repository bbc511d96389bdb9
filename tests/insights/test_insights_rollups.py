"""The dashboard's rollups: kept by the review services as a rebuild would count them, and read
back into the same figures a scan of the rows gives (backlog by age, time to final, duty)."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.utils import timezone

from classification.models import ReviewState, ReviewTally
from classification.review import services, tallies
from insights import selectors
from tests.classification.conftest import make_products  # noqa: F401 (fixture)
from tests.classification.review.conftest import (  # noqa: F401 (fixtures)
    MENS,
    WOMENS,
    _fresh_reference_cache,
    make_decision,
    us_schedule,
)
from tests.insights.conftest import add_decisions
from workbench.roles import Role

DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)


def fresh(state):
    return ReviewState.objects.select_related("decision", "product", "tenant").get(pk=state.pk)


def counted(tenant) -> dict:
    # Writers append delta rows; folded, each key has one row (and a key that cancelled, none).
    tallies.tally_compact(tenant.pk)
    return {
        (t.day, t.jurisdiction, t.figure, t.key, t.key2): (t.n, t.kept, t.right6, t.amount)
        for t in ReviewTally.objects.filter(tenant=tenant).exclude(n=0, amount=0)
    }


def derived(tenant) -> dict:
    return {
        s.pk: (s.final_bucket, s.final_duty)
        for s in ReviewState.objects.filter(tenant=tenant).only("final_bucket", "final_duty")
    }


def test_rollups_follow_the_services_as_a_rebuild_counts_them(
    cast,
    make_decision,  # noqa: F811
    us_schedule,  # noqa: F811 (an override's code must be in the schedule)
):
    broker, lead = cast.users[Role.BROKER], cast.users[Role.COMPLIANCE_LEAD]
    states = [make_decision(confidence=c) for c in (0.71, 0.93, 0.6, 0.8, 0.75)]
    # The catalog declared a code (duty 1.00) for all but the last.
    ReviewState.objects.filter(pk__in=[s.pk for s in states[:4]]).update(
        declared_duty=Decimal("1.00")
    )
    kept_, moved, escalated, asked, reopened = (fresh(s) for s in states)
    services.review_accept(actor=broker, state=kept_, version=kept_.version)
    services.review_override(
        actor=broker,
        state=moved,
        version=moved.version,
        code=WOMENS,
        reason_code="other",
        note="women's",
    )
    services.review_escalate(
        actor=broker, state=escalated, version=escalated.version, route="legal", note="legal"
    )
    escalated = fresh(escalated)
    services.review_accept(actor=lead, state=escalated, version=escalated.version)
    services.review_request_info(
        actor=broker,
        state=asked,
        version=asked.version,
        missing_facts=["materials"],
        message="Which fibres?",
    )
    services.review_accept(actor=broker, state=reopened, version=reopened.version)
    reopened = fresh(reopened)
    services.review_reopen(actor=broker, state=reopened, version=reopened.version, note="spec")
    # A newer decision of the accepted product, overridden: the accepted one is superseded.
    newer = make_decision(product=fresh(kept_).product, confidence=0.9)
    services.review_override(
        actor=broker,
        state=newer,
        version=newer.version,
        code=WOMENS,
        reason_code="other",
        note="newer",
    )

    moved, kept_ = fresh(moved), fresh(kept_)
    assert moved.final_duty == Decimal("4.13")  # the women's candidate's duty
    assert (kept_.status, kept_.final_bucket, kept_.final_duty) == ("superseded", None, None)
    assert fresh(escalated).final_duty == Decimal("4.13")  # the suggestion's own duty
    assert fresh(escalated).final_bucket == 0  # finalized within a minute
    maintained, columns = counted(cast.tenant), derived(cast.tenant)
    day = moved.decision_created_at.date()
    assert maintained[(day, "US", "open", "info_requested", "")][0] == 1
    assert maintained[(day, "US", "open", "needs_review", "")][0] == 1  # the reopened one
    assert maintained[(day, "US", "duty", "known", "")] == (2, 0, 0, Decimal("6.26"))
    assert maintained[(day, "US", "final_time", "0", "")][0] == 3  # moved, escalated, newer
    assert maintained[(day, "US", "actions", str(broker.pk), "")][0] == 7
    assert maintained[(day, "US", "actions", str(lead.pk), "")][0] == 1
    tallies.tally_rebuild(cast.tenant.pk)
    assert counted(cast.tenant) == maintained
    assert derived(cast.tenant) == columns


def test_backlog_from_tallies_is_what_the_rows_say(cast):
    """Open items read through the daily tallies and found by rank, against known answers and
    against the same figures read from the rows (a broker who holds every item)."""
    broker = cast.users[Role.BROKER]
    now = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12)))
    ages = [
        ("needs_review", a)
        for a in (0.5 * HOUR, 20 * HOUR, 25 * HOUR, 47 * HOUR, 49 * HOUR, 3.5 * DAY)
    ]
    ages += [("needs_review", a) for a in (6.9 * DAY, 7.1 * DAY, 10 * DAY, 40 * DAY)]
    ages += [("blocked", a) for a in (HOUR, 2 * DAY, 5 * DAY)]
    rows = [
        {"outcome": "needs_review", "queue": q, "created": now - a, "assignee": broker}
        for q, a in ages
    ]
    rows.append(  # waiting for information for a day; held by nobody
        {
            "status": "info_requested",
            "queue": "info_requested",
            "created": now - 4 * DAY,
            "updated": now - DAY,
        }
    )
    add_decisions(cast.tenant, broker, rows)
    period = selectors.last_days(30)
    b = selectors.backlog(cast.tenant, period, now=now)
    got = {q["key"]: (q["n"], q["oldest"], q["median"], q["buckets"]) for q in b["queues"]}
    assert got["needs_review"] == (
        10,
        pytest.approx(40.0),
        pytest.approx((3.5 + 49 / 24) / 2),  # the 5th and 6th oldest
        [2, 3, 2, 2, 1],
    )
    assert got["blocked"] == (3, pytest.approx(5.0), pytest.approx(2.0), [1, 1, 1, 0, 0])
    assert got["info_requested"][:3] == (1, pytest.approx(4.0), pytest.approx(4.0))
    assert b["open"] == 14 and b["info"]["n"] == 1 and b["info"]["oldest"] == pytest.approx(1.0)
    held = selectors.backlog(cast.tenant, period, now=now, assignee=broker)
    assert [q for q in b["queues"] if q["key"] != "info_requested"] == held["queues"]
    assert held["info"]["n"] == 0  # not theirs
    eu = selectors.Period(period.start, period.end, "EU")
    assert selectors.backlog(cast.tenant, eu, now=now)["queues"] == []


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_time_to_final_from_bands_is_the_exact_median_and_p90(cast):
    broker = cast.users[Role.BROKER]
    today = timezone.localdate()
    noon = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
    hours = [0.005, 0.05, 0.3, 0.8, 1.0, 1.2, 2.5, 2.5, 5, 7.9, 23, 26, 50, 100, 216, 960]
    rows = [
        {
            "outcome": "needs_review",
            "final": MENS,
            "created": noon - (i % 3) * DAY - h * HOUR,
            "decided": noon - (i % 3) * DAY,
        }
        for i, h in enumerate(hours)
    ]
    # Finalized before the period, and in another jurisdiction: not counted.
    rows.append({"final": MENS, "created": noon - 9 * DAY, "decided": noon - 8 * DAY})
    rows.append({"final": MENS, "created": noon - DAY, "decided": noon, "jurisdiction": "EU"})
    add_decisions(cast.tenant, broker, rows)
    period = selectors.Period(today - 2 * DAY, today, "US")
    t = selectors.backlog(cast.tenant, period, now=noon)["to_final"]
    assert t["n"] == len(hours)
    assert t["median"] == pytest.approx(_percentile(hours, 0.5))
    assert t["p90"] == pytest.approx(_percentile(hours, 0.9))
    held = selectors.backlog(cast.tenant, period, now=noon, assignee=broker)["to_final"]
    assert held == pytest.approx(t)  # percentile_cont over the rows
    one = selectors.Period(today, today, "US")
    assert selectors.backlog(cast.tenant, one, now=noon)["to_final"]["n"] == 6


def test_final_bands_start_at_their_bounds_and_the_migration_knows_them():
    start = timezone.now()
    assert tallies.final_band(start, start + dt.timedelta(seconds=59)) == 0
    assert tallies.final_band(start, start + dt.timedelta(seconds=60)) == 1
    hour = tallies.FINAL_BANDS.index(3600)
    assert tallies.final_band(start, start + HOUR - dt.timedelta(microseconds=1)) == hour - 1
    assert tallies.final_band(start, start + HOUR) == hour
    assert tallies.final_band(start, start + 3 * 365 * DAY) == len(tallies.FINAL_BANDS) - 1
    assert tallies.final_band(start, start - HOUR) == 0
    migration = importlib.import_module("classification.migrations.0015_insight_rollups")
    assert list(tallies.FINAL_BANDS) == migration.BANDS


def test_throughput_of_one_broker_and_per_jurisdiction(cast, make_decision):  # noqa: F811
    broker, lead = cast.users[Role.BROKER], cast.users[Role.COMPLIANCE_LEAD]
    for actor in (broker, broker, lead):
        state = make_decision()
        services.review_accept(actor=actor, state=state, version=state.version)
    period = selectors.last_days(7)
    mix = selectors.outcome_mix(cast.tenant, period)
    everyone = selectors.throughput(cast.tenant, period, mix)
    assert [(p["name"], p["total"], p["active_days"]) for p in everyone["people"]] == [
        (broker.username, 2, 1),
        (lead.username, 1, 1),
    ]
    mine = selectors.throughput(cast.tenant, period, mix, actor=broker)
    assert [(p["name"], p["total"]) for p in mine["people"]] == [(broker.username, 2)]
    eu = selectors.Period(period.start, period.end, "EU")
    assert selectors.throughput(cast.tenant, eu, mix)["actions_total"] == 0
