# Over 500 lines: every figure is one short read over the same period and tally helpers.
"""Reads of the compliance dashboard: each figure a read of daily tallies or a short indexed one.

The period figures (outcome mix, precision, overrides, calibration, time to final, duty
exposure, throughput) sum ``ReviewTally`` rows kept by the writers (``review.tallies``); the
backlog sums the open items' tallies by decision date. Where a figure needs rows (the oldest
and median open item, the exact median and p90 of time to final, the ten largest duty
differences, the items waiting for information) it reads a few of them through an index on
``ReviewState``. A broker's own view (their items, their decisions) reads their rows directly.
Periods are whole days in the server's time zone; the jurisdiction filter applies throughout.
"""

import contextlib
import datetime as dt
import math
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils import timezone

from classification.models import Decision, Outcome, ReviewState, ReviewStatus, ReviewTally
from classification.review import selectors as review_selectors
from classification.review import tallies
from rulepacks import selectors as rulepack_selectors
from rulepacks.models import RulePackStatus

OUTCOMES = (Outcome.CLASSIFIED, Outcome.NEEDS_REVIEW, Outcome.BLOCKED)
# A broker's own work: the actions that decide, route or check a decision.
PERSON_KINDS = tallies.PERSON_KINDS
OPEN_STATUSES = (ReviewStatus.OPEN, ReviewStatus.ESCALATED, ReviewStatus.INFO_REQUESTED)
AGE_BUCKETS = ((1, "under a day"), (3, "1–3 days"), (7, "3–7 days"), (30, "7–30 days"))
OPEN_TABLE = "FROM classification_reviewstate WHERE tenant_id = %s AND status = ANY(%s)"
CALIBRATION_BINS = tallies.CALIBRATION_BINS


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    jurisdiction: str = ""

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(self.start, dt.time.min, tzinfo=tz)
        return start, dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def last_days(n: int, jurisdiction: str = "", today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(today - dt.timedelta(days=n - 1), today, jurisdiction)


def _states(tenant, period: Period, field: str = "decision_created_at") -> QuerySet:
    start, end = period.bounds
    rows = ReviewState.objects.filter(
        tenant=tenant, **{f"{field}__gte": start, f"{field}__lt": end}
    )
    if period.jurisdiction:
        rows = rows.filter(jurisdiction=period.jurisdiction)
    return rows


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# The figures summed over the period; inside ``summed()`` all of them are read in one query.
PERIOD_FIGURES = (
    *("spot", "checked_outcome", "checked_source", "checked_rule", "checked_pack"),
    *("moved", "bin", "final_time", "duty"),
)
_summed: ContextVar[dict | None] = ContextVar("insights_summed", default=None)


@contextlib.contextmanager
def summed():
    """Read the period sums of every figure once for the selectors called inside."""
    token = _summed.set({})
    try:
        yield
    finally:
        _summed.reset(token)


def _tallies(tenant, period: Period, figures: tuple[str, ...], *, by_day: bool = False):
    """The period's daily tallies of ``figures`` summed over its days (or per day): per figure,
    rows of (key, key2, n, kept, right6, confidence, day or None, amount)."""
    cache = _summed.get()
    if cache is None or by_day or not set(figures) <= set(PERIOD_FIGURES):
        return _read_tallies(tenant, period, figures, by_day=by_day)
    if (tenant.pk, period) not in cache:
        cache[(tenant.pk, period)] = _read_tallies(tenant, period, PERIOD_FIGURES)
    return {f: cache[(tenant.pk, period)][f] for f in figures}


def _read_tallies(tenant, period: Period, figures: tuple[str, ...], *, by_day: bool = False):
    rows = ReviewTally.objects.filter(
        tenant=tenant, day__gte=period.start, day__lte=period.end, figure__in=figures
    )
    if period.jurisdiction:
        rows = rows.filter(jurisdiction=period.jurisdiction)
    keys = ["figure", "key", "key2", *(["day"] if by_day else [])]
    found = rows.values_list(*keys).annotate(
        total=Sum("n"), k=Sum("kept"), r=Sum("right6"), c=Sum("confidence"), a=Sum("amount")
    )
    out: dict[str, list] = {f: [] for f in figures}
    for row in found.order_by():
        figure, key, key2 = row[:3]
        n, kept, right6, confidence, amount = row[-5:]
        if n:  # a key whose states all moved elsewhere keeps a row of zeros
            day = row[3] if by_day else None
            out[figure].append((key, key2, n, kept, right6, confidence, day, amount))
    return out


def outcome_mix(tenant, period: Period) -> list[dict]:
    """Decisions per day by outcome, with the day's review rate (needs review / all)."""
    by_day: dict = {day: dict.fromkeys(OUTCOMES, 0) for day in period.days}
    rows = _tallies(tenant, period, ("outcome",), by_day=True)["outcome"]
    for outcome, _, n, *_, day, _ in rows:
        if day in by_day:
            by_day[day][outcome] = n
    out = []
    for day, mix in by_day.items():
        total = sum(mix.values())
        out.append(
            {"day": day, **mix, "total": total, "review_rate": _share(mix["needs_review"], total)}
        )
    return out


def backtest_review_rates(tenant, jurisdiction: str = "") -> list[dict]:
    """The active packs' backtest review rates (the rate the pack promised), per jurisdiction."""
    packs = rulepack_selectors.packs_by_jurisdiction(tenant)
    out = []
    for code, rows in sorted(packs.items()):
        for pack in rows:
            if pack.status != RulePackStatus.ACTIVE or (jurisdiction and code != jurisdiction):
                continue
            rate = (pack.backtest_report or {}).get("review_rate")
            out.append({"jurisdiction": code, "version": pack.version, "review_rate": rate})
    return out


def _kept(rows: list) -> list[dict]:
    return sorted(
        (
            {"key": key or "none", "n": n, "kept": kept, "precision": kept / n}
            for key, _, n, kept, *_ in rows
        ),
        key=lambda r: (-r["n"], r["key"]),
    )


def precision(tenant, period: Period) -> dict:
    """Share of machine-selected codes that brokers kept, per outcome and per winning source,
    and the spot checks of auto-finalized decisions."""
    t = _tallies(tenant, period, ("checked_outcome", "checked_source", "spot"))
    spots = {key: n for key, _, n, *_ in t["spot"]}
    confirmed, corrected = spots.get("confirmed", 0), spots.get("corrected", 0)
    n = sum(r[2] for r in t["checked_outcome"])
    kept = sum(r[3] for r in t["checked_outcome"])
    return {
        "n": n,
        "kept": kept,
        "precision": _share(kept, n),
        "by_outcome": _kept(t["checked_outcome"]),
        "by_source": _kept(t["checked_source"]),
        "spot_checks": {
            "pending": spots.get("pending", 0),
            "confirmed": confirmed,
            "corrected": corrected,
            "precision": _share(confirmed, confirmed + corrected),
        },
    }


def overrides(tenant, period: Period, limit: int = 10) -> dict:
    """Override rates per rule and per pack version (a checked code that differs from the
    suggestion), and the codes brokers move to most often."""
    t = _tallies(tenant, period, ("checked_rule", "checked_pack", "moved"))

    def rates(rows: list) -> list[dict]:
        out = [
            {"key": key, "n": n, "moved": n - kept, "rate": (n - kept) / n}
            for key, _, n, kept, *_ in rows
        ]
        return sorted(out, key=lambda r: (-r["moved"], -r["rate"], r["key"]))[:limit]

    to_codes: dict[str, dict] = {}
    for final, selected, n, *_ in sorted(t["moved"], key=lambda r: (-r[2], r[0], r[1])):
        row = to_codes.setdefault(final, {"code": final, "n": 0, "from": []})
        row["n"] += n
        row["from"].append((selected, n))
    return {
        "rules": rates(t["checked_rule"]),
        "packs": rates(t["checked_pack"]),
        "to_codes": sorted(to_codes.values(), key=lambda r: (-r["n"], r["code"]))[:limit],
    }


def calibration(tenant, period: Period) -> dict:
    """Accuracy at 6 digits of checked decisions per confidence bin, and the expected
    calibration error (the bins' |accuracy − confidence| weighted by their counts)."""
    bins = {
        int(key): (n, total, right)
        for key, _, n, _, right, total, *_ in _tallies(tenant, period, ("bin",))["bin"]
    }
    out = []
    for i in range(CALIBRATION_BINS):
        n, total, right = bins.get(i, (0, 0.0, 0))
        out.append(
            {
                "label": f"{i / CALIBRATION_BINS:.1f}–{(i + 1) / CALIBRATION_BINS:.1f}",
                "n": n,
                "confidence": total / n if n else None,
                "accuracy": right / n if n else None,
            }
        )
    n = sum(b["n"] for b in out)
    ece = (
        sum(b["n"] / n * abs(b["accuracy"] - b["confidence"]) for b in out if b["n"]) if n else None
    )
    return {"bins": out, "n": n, "ece": ece}


def _sql(query: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def _day_range(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return _midnight(day), _midnight(day + dt.timedelta(days=1))


def backlog(tenant, period: Period, *, now: dt.datetime | None = None, assignee=None) -> dict:
    """Open items per queue by age (oldest, median, buckets) now; time from decision to final
    (median, p90) for decisions finalized in the period; items waiting for information, and
    for how long since they were asked for. Ages in days, times to final in hours.

    With ``assignee`` (a broker's own view) the figures are of the items they hold and the
    decisions they finalized, read from their rows."""
    now = now or timezone.now()
    if assignee is None:
        queues = _open_queues(tenant, period.jurisdiction, now)
        to_final = _to_final(tenant, period)
    else:
        queues, to_final = _held_queues(tenant, period, now, assignee)
    where, params = "", [tenant.pk, ["info_requested"]]
    if period.jurisdiction:
        where, params = " AND jurisdiction = %s", [*params, period.jurisdiction]
    if assignee is not None:
        where, params = f"{where} AND assignee_id = %s", [*params, assignee.pk]
    wait = "extract(epoch FROM %s - updated_at) / 86400"
    [(info_n, info_oldest, info_median)] = _sql(
        f"""SELECT count(*), max({wait}), percentile_cont(0.5) WITHIN GROUP (ORDER BY {wait})
              {OPEN_TABLE} AND queue = 'info_requested'{where}""",
        [now, now, *params],
    )
    labels = {q.key: q.label for q in review_selectors.QUEUES}
    rows = []
    for key in review_selectors.OPEN_QUEUES:
        if key in queues:
            rows.append({"key": key, "label": labels.get(key, key), **queues[key]})
    return {
        "queues": rows,
        "bucket_labels": [label for _, label in AGE_BUCKETS] + ["over 30 days"],
        "open": sum(q["n"] for q in rows),
        "to_final": to_final,
        "info": {
            "n": info_n,
            "oldest": float(info_oldest) if info_oldest is not None else None,
            "median": info_median,
        },
    }


def _queue_figures(n: int, oldest, middle: list, newer: list, now) -> dict:
    """A queue's figures from its count, oldest item, middle item(s) and, per age bound, the
    count of items newer than it."""
    cumulative = [*newer, n]
    return {
        "n": n,
        "oldest": (now - oldest).total_seconds() / 86400,
        "median": sum((now - m).total_seconds() / 86400 for m in middle) / len(middle),
        "buckets": [c - (cumulative[i - 1] if i else 0) for i, c in enumerate(cumulative)],
    }


def _open_queues(tenant, jurisdiction: str, now) -> dict:
    """The open items per queue from their daily tallies by decision date. A bound's count is
    the tallies of the days after its day plus the items of its own day newer than it; the
    oldest and middle items are found by rank: their day from the tallies, then the row at
    that offset within the day (``review_open_age``)."""
    tally = ReviewTally.objects.filter(tenant=tenant, figure="open")
    if jurisdiction:
        tally = tally.filter(jurisdiction=jurisdiction)
    days: dict[str, list] = {}
    found = tally.values_list("key", "day").annotate(total=Sum("n")).filter(total__gt=0)
    for queue, day, n in found.order_by("key", "day"):
        days.setdefault(queue, []).append((day, n))
    if not days:
        return {}
    scope, scope_params = "", []
    if jurisdiction:
        scope, scope_params = " AND jurisdiction = %s", [jurisdiction]
    statuses = [str(s) for s in OPEN_STATUSES]
    # Items of each bound's own day newer than the bound.
    bounds = [now - dt.timedelta(days=d) for d, _ in AGE_BUCKETS]
    parts, params = [], []
    for i, bound in enumerate(bounds):
        _, end = _day_range(tallies.local_day(bound))
        parts.append(
            f"""(SELECT {i}, queue, count(*) {OPEN_TABLE} AND queue = ANY(%s){scope}
                   AND decision_created_at > %s AND decision_created_at < %s GROUP BY queue)"""
        )
        params += [tenant.pk, statuses, list(days), *scope_params, bound, end]
    partial = {(i, queue): n for i, queue, n in _sql(" UNION ALL ".join(parts), params)}
    # The oldest (rank 0) and middle items of each queue, each the row at its offset in its day.
    wanted = []
    for queue, counts in days.items():
        n = sum(c for _, c in counts)
        for rank in sorted({0, (n - 1) // 2, n // 2}):
            before = 0
            for day, c in counts:
                if rank < before + c:
                    wanted.append((queue, rank, day, rank - before))
                    break
                before += c
    parts, params = [], []
    for queue, rank, day, offset in wanted:
        parts.append(
            f"""(SELECT %s, %s, decision_created_at {OPEN_TABLE} AND queue = %s{scope}
                   AND decision_created_at >= %s AND decision_created_at < %s
                 ORDER BY decision_created_at OFFSET %s LIMIT 1)"""
        )
        params += [queue, rank, tenant.pk, statuses, queue, *scope_params, *_day_range(day)]
        params.append(offset)
    ranked = {
        (queue, rank): created for queue, rank, created in _sql(" UNION ALL ".join(parts), params)
    }
    out = {}
    for queue, counts in days.items():
        n = sum(c for _, c in counts)
        newer = []
        for i, bound in enumerate(bounds):
            bound_day = tallies.local_day(bound)
            whole = sum(c for day, c in counts if day > bound_day)
            newer.append(whole + partial.get((i, queue), 0))
        middle = [
            ranked[(queue, r)] for r in sorted({(n - 1) // 2, n // 2}) if (queue, r) in ranked
        ]
        if (queue, 0) not in ranked or not middle:
            continue  # the tallies ran ahead of the rows (cannot happen in one snapshot)
        out[queue] = _queue_figures(n, ranked[(queue, 0)], middle, newer, now)
    return out


def _percentile(values: dict[int, float], n: int, fraction: float) -> float:
    """``percentile_cont``: the value at ``fraction`` of the way through ``n`` sorted values,
    interpolated between the two nearest ranks (``values`` by rank)."""
    position = fraction * (n - 1)
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def _to_final(tenant, period: Period) -> dict:
    """Time from decision to final (hours; median and p90, as ``percentile_cont``) of the
    decisions finalized in the period: the count per band of time from the tallies, then, for
    each rank needed, the finals of the period in that rank's band sorted (``review_final_band``).
    """
    bands = {
        int(key): n for key, _, n, *_ in _tallies(tenant, period, ("final_time",))["final_time"]
    }
    n = sum(bands.values())
    if not n:
        return {"n": 0, "median": None, "p90": None}
    ranks = sorted(
        {r for f in (0.5, 0.9) for r in (math.floor(f * (n - 1)), math.ceil(f * (n - 1)))}
    )
    scope, scope_params = "", []
    if period.jurisdiction:
        scope, scope_params = " AND jurisdiction = %s", [period.jurisdiction]
    # Each rank's band (the last whose first rank is not above it) and offset within the band.
    firsts, before = {}, 0
    for band in sorted(bands):
        firsts[band], before = before, before + bands[band]
    offsets: dict[int, list[int]] = {}
    for rank in ranks:
        band = max(b for b, first in firsts.items() if first <= rank)
        offsets.setdefault(band, []).append(rank - firsts[band])
    parts, params = [], []
    for band, wanted in offsets.items():
        parts.append(
            f"""(SELECT %s, extract(epoch FROM decided_at - decision_created_at) / 3600
                   FROM classification_reviewstate
                  WHERE tenant_id = %s AND status = 'final' AND final_bucket = %s{scope}
                    AND decided_at >= %s AND decided_at < %s
                  ORDER BY decided_at - decision_created_at OFFSET %s LIMIT %s)"""
        )
        low, high = min(wanted), max(wanted)
        params += [band, tenant.pk, band, *scope_params, *period.bounds, low, high - low + 1]
    found: dict[int, list] = {}
    for band, hours in _sql(" UNION ALL ".join(parts), params):
        found.setdefault(band, []).append(float(hours))
    values = {
        firsts[band] + min(offsets[band]) + i: hours
        for band, rows in found.items()
        for i, hours in enumerate(sorted(rows))
    }
    if not set(ranks) <= set(values):  # the tallies ran ahead of the rows (not in one snapshot)
        return {"n": n, "median": None, "p90": None}
    return {"n": n, "median": _percentile(values, n, 0.5), "p90": _percentile(values, n, 0.9)}


def _held_queues(tenant, period: Period, now, assignee) -> tuple[dict, dict]:
    """A broker's own backlog and time to final, from their rows (``review_assignee``)."""
    where, params = ["tenant_id = %s", "status = ANY(%s)", "assignee_id = %s"], []
    params = [tenant.pk, [str(s) for s in OPEN_STATUSES], assignee.pk]
    if period.jurisdiction:
        where.append("jurisdiction = %s")
        params.append(period.jurisdiction)
    bounds = [now - dt.timedelta(days=days) for days, _ in AGE_BUCKETS]
    buckets = ", ".join("count(*) FILTER (WHERE decision_created_at > %s)" for _ in bounds)
    mine = f"FROM classification_reviewstate WHERE {' AND '.join(where)}"
    rows = _sql(
        f"""SELECT queue, count(*), min(decision_created_at), {buckets},
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY decision_created_at),
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY decision_created_at DESC)
              {mine} GROUP BY queue""",
        [*bounds, *params],
    )
    queues = {}
    for queue, n, oldest, *rest in rows:
        *newer, low, high = rest
        # The lower and upper middle rows (one when n is odd), as the rank lookups give them.
        queues[queue] = _queue_figures(n, oldest, [low] if n % 2 else [low, high], newer, now)
    final_where = ["tenant_id = %s", "status = 'final'", "decided_by_id = %s"]
    final_params = [tenant.pk, assignee.pk]
    if period.jurisdiction:
        final_where.append("jurisdiction = %s")
        final_params.append(period.jurisdiction)
    hours = "extract(epoch FROM decided_at - decision_created_at) / 3600"
    [(final_n, median, p90)] = _sql(
        f"""SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours}),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY {hours})
              FROM classification_reviewstate
             WHERE {" AND ".join(final_where)} AND decided_at >= %s AND decided_at < %s""",
        [*final_params, *period.bounds],
    )
    return queues, {"n": final_n, "median": median, "p90": p90}


def throughput(tenant, period: Period, mix: list[dict], *, actor=None) -> dict:
    """Decisions per day (from ``mix``) and broker actions per person per day (the daily
    tallies of each person's actions)."""
    rows = ReviewTally.objects.filter(
        tenant=tenant, figure="actions", day__gte=period.start, day__lte=period.end
    )
    if period.jurisdiction:
        rows = rows.filter(jurisdiction=period.jurisdiction)
    if actor is not None:
        rows = rows.filter(key=str(actor.pk))
    found = [
        (key, day, n)
        for key, day, n in rows.values_list("key", "day").annotate(total=Sum("n")).order_by()
        if n
    ]
    names = dict(
        get_user_model()
        .objects.filter(pk__in={int(key) for key, _, _ in found})
        .values_list("pk", "username")
    )
    people: dict[str, dict] = {}
    for key, day, n in found:
        name = names[int(key)]
        person = people.setdefault(name, {"name": name, "total": 0, "days": {}})
        person["total"] += n
        person["days"][day] = person["days"].get(day, 0) + n
    days = len(period.days)
    out = []
    for person in sorted(people.values(), key=lambda p: (-p["total"], p["name"])):
        person["per_day"] = person["total"] / days
        person["active_days"] = len(person["days"])
        out.append(person)
    return {
        "decisions": [{"day": d["day"], "n": d["total"]} for d in mix],
        "decisions_total": sum(d["total"] for d in mix),
        "people": out,
        "actions_total": sum(p["total"] for p in out),
    }


def duty_exposure(tenant, period: Period, limit: int = 10) -> dict:
    """Estimated duty of final codes minus that of the codes the catalog declared, where the
    catalog declared another declarable code; the total and the largest ``limit``.

    Counts and total from the daily tallies; the largest differences are the period's rows
    ordered by size (``review_declared_duty``), the final code's duty stored on the state when
    it became final (``review.tallies.derive_final``)."""
    t = {key: (n, amount) for key, _, n, *_, amount in _tallies(tenant, period, ("duty",))["duty"]}
    n, total = t.get("known", (0, Decimal(0)))
    unknown = t.get("unknown", (0, None))[0]
    start, end = period.bounds
    where, params = "", [tenant.pk, start, end]
    if period.jurisdiction:
        where, params = "AND jurisdiction = %s", [*params, period.jurisdiction]
    rows = _sql(
        f"""SELECT decision_id, final_code, declared_duty, final_duty, final_duty - declared_duty
              FROM classification_reviewstate
             WHERE tenant_id = %s AND status = 'final' AND declared_duty IS NOT NULL
               AND final_code <> '' AND final_duty IS NOT NULL
               AND decision_created_at >= %s AND decision_created_at < %s {where}
             ORDER BY abs(final_duty - declared_duty) DESC, decision_id LIMIT %s""",
        [*params, limit],
    )
    top = [
        {
            "decision_id": decision_id,
            "final_code": final_code,
            "declared": declared,
            "final": final,
            "difference": difference,
        }
        for decision_id, final_code, declared, final, difference in rows
    ]
    codes = dict(
        Decision.objects.filter(pk__in=[r["decision_id"] for r in top]).values_list(
            "pk", "evidence__duty__declared__estimate__code"
        )
    )
    for row in top:
        row["declared_code"] = codes.get(row["decision_id"]) or ""
    return {"n": n, "unknown": unknown, "total": total or Decimal(0), "largest": top}


def open_alerts(tenant, jurisdiction: str = "") -> QuerySet:
    """Drift alerts nobody has acknowledged yet, newest first."""
    from insights.models import DriftAlert

    rows = DriftAlert.objects.filter(tenant=tenant, acknowledged_at__isnull=True)
    if jurisdiction:
        rows = rows.filter(jurisdiction=jurisdiction)
    return rows.select_related("rule_pack").order_by("-first_seen_at", "-pk")
