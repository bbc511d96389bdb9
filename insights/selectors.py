"""Reads of the compliance dashboard: each figure one indexed aggregate over the period.

Everything reads ``ReviewState`` (the decision's outcome, suggested and final codes, confidence,
winning evidence and ages, denormalised when the state opened) and ``ReviewAction``, never the
evidence JSON, except the ten rows of the duty exposure table. Periods are whole days in the
server's time zone; the jurisdiction filter applies to every figure.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from classification.models import (
    ActionKind,
    Decision,
    Outcome,
    ReviewAction,
    ReviewState,
    ReviewStatus,
    ReviewTally,
)
from classification.review import selectors as review_selectors
from classification.review import tallies
from rulepacks import selectors as rulepack_selectors
from rulepacks.models import RulePackStatus

OUTCOMES = (Outcome.CLASSIFIED, Outcome.NEEDS_REVIEW, Outcome.BLOCKED)
# A broker's own work: the actions that decide, route or check a decision.
PERSON_KINDS = (
    ActionKind.ACCEPT,
    ActionKind.OVERRIDE,
    ActionKind.ESCALATE,
    ActionKind.REQUEST_INFO,
    ActionKind.SPOT_CHECK,
    ActionKind.REOPEN,
    ActionKind.SIGN_OFF,
)
OPEN_STATUSES = (ReviewStatus.OPEN, ReviewStatus.ESCALATED, ReviewStatus.INFO_REQUESTED)
AGE_BUCKETS = ((1, "under a day"), (3, "1–3 days"), (7, "3–7 days"), (30, "7–30 days"))
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


def _tallies(tenant, period: Period, figures: tuple[str, ...], *, by_day: bool = False):
    """The period's daily tallies of ``figures`` summed over its days (or per day):
    rows of (figure, key, key2, n, kept, right6, confidence[, day])."""
    rows = ReviewTally.objects.filter(
        tenant=tenant, day__gte=period.start, day__lte=period.end, figure__in=figures
    )
    if period.jurisdiction:
        rows = rows.filter(jurisdiction=period.jurisdiction)
    keys = ["figure", "key", "key2", *(["day"] if by_day else [])]
    found = rows.values_list(*keys).annotate(
        total=Sum("n"), k=Sum("kept"), r=Sum("right6"), c=Sum("confidence")
    )
    out: dict[str, list] = {f: [] for f in figures}
    for row in found.order_by():
        figure, key, key2 = row[:3]
        n, kept, right6, confidence = row[-4:]
        if n:  # a key whose states all moved elsewhere keeps a row of zeros
            out[figure].append((key, key2, n, kept, right6, confidence, row[3] if by_day else None))
    return out


def outcome_mix(tenant, period: Period) -> list[dict]:
    """Decisions per day by outcome, with the day's review rate (needs review / all)."""
    by_day: dict = {day: dict.fromkeys(OUTCOMES, 0) for day in period.days}
    for outcome, _, n, *_, day in _tallies(tenant, period, ("outcome",), by_day=True)["outcome"]:
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
        for key, _, n, _, right, total, _ in _tallies(tenant, period, ("bin",))["bin"]
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


def backlog(tenant, period: Period, *, now: dt.datetime | None = None, assignee=None) -> dict:
    """Open items per queue by age (oldest, median, buckets) now; time from decision to final
    (median, p90) for decisions finalized in the period; items waiting for information, and
    for how long since they were asked for. Ages in days, times to final in hours."""
    now = now or timezone.now()
    where, params = ["tenant_id = %s"], [tenant.pk]
    if period.jurisdiction:
        where.append("jurisdiction = %s")
        params.append(period.jurisdiction)
    open_where = [*where, "status = ANY(%s)"]
    open_params = [*params, [str(s) for s in OPEN_STATUSES]]
    if assignee is not None:
        open_where.append("assignee_id = %s")
        open_params.append(assignee.pk)
    # Plain comparisons over the ``review_open_age`` index (ordered by queue and age): each
    # bucket a count of items newer than its bound, the median the middle one or two rows.
    bounds = [now - dt.timedelta(days=days) for days, _ in AGE_BUCKETS]
    buckets = ", ".join("count(*) FILTER (WHERE decision_created_at > %s)" for _ in bounds)
    open_sql = f"FROM classification_reviewstate WHERE {' AND '.join(open_where)}"
    rows = _sql(
        f"SELECT queue, count(*), min(decision_created_at), {buckets} {open_sql} GROUP BY queue",
        [*bounds, *open_params],
    )
    middles = (
        _sql(
            " UNION ALL ".join(
                f"""(SELECT %s, decision_created_at {open_sql} AND queue = %s
                  ORDER BY decision_created_at OFFSET %s LIMIT %s)"""
                for _ in rows
            ),
            [
                p
                for row in rows
                for p in (row[0], *open_params, row[0], (row[1] - 1) // 2, 2 - row[1] % 2)
            ],
        )
        if rows
        else []
    )
    middle: dict[str, list] = {}
    for queue, created in middles:
        middle.setdefault(queue, []).append((now - created).total_seconds() / 86400)
    labels = {q.key: q.label for q in review_selectors.QUEUES}
    found = {row[0]: row for row in rows}
    queues = []
    for key in review_selectors.OPEN_QUEUES:
        if key not in found:
            continue
        _, n, oldest, *cumulative = found[key]
        cumulative = [*cumulative, n]
        queues.append(
            {
                "key": key,
                "label": labels.get(key, key),
                "n": n,
                "oldest": (now - oldest).total_seconds() / 86400,
                "median": sum(middle[key]) / len(middle[key]),
                "buckets": [c - (cumulative[i - 1] if i else 0) for i, c in enumerate(cumulative)],
            }
        )
    wait = "extract(epoch FROM %s - updated_at) / 86400"
    [(info_n, info_oldest, info_median)] = _sql(
        f"""SELECT count(*), max({wait}), percentile_cont(0.5) WITHIN GROUP (ORDER BY {wait})
              {open_sql} AND status = 'info_requested'""",
        [now, now, *open_params],
    )
    final_where = [*where, "status = 'final'", "decided_at >= %s", "decided_at < %s"]
    final_params = [*params, *period.bounds]
    if assignee is not None:
        final_where.append("decided_by_id = %s")
        final_params.append(assignee.pk)
    hours = "extract(epoch FROM decided_at - decision_created_at) / 3600"
    [(final_n, median, p90)] = _sql(
        f"""SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours}),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY {hours})
              FROM classification_reviewstate WHERE {" AND ".join(final_where)}""",
        final_params,
    )
    return {
        "queues": queues,
        "bucket_labels": [label for _, label in AGE_BUCKETS] + ["over 30 days"],
        "open": sum(q["n"] for q in queues),
        "to_final": {"n": final_n, "median": median, "p90": p90},
        "info": {"n": info_n, "oldest": info_oldest, "median": info_median},
    }


def throughput(tenant, period: Period, mix: list[dict], *, actor=None) -> dict:
    """Decisions per day (from ``mix``) and broker actions per person per day."""
    start, end = period.bounds
    actions = ReviewAction.objects.filter(
        tenant=tenant,
        created_at__gte=start,
        created_at__lt=end,
        actor__isnull=False,
        kind__in=PERSON_KINDS,
    )
    if period.jurisdiction:
        actions = actions.filter(decision__jurisdiction=period.jurisdiction)
    if actor is not None:
        actions = actions.filter(actor=actor)
    found = (
        actions.annotate(day=TruncDate("created_at"))
        .values_list("actor__username", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    people: dict[str, dict] = {}
    for name, day, n in found:
        person = people.setdefault(name, {"name": name, "total": 0, "days": {}})
        person["total"] += n
        person["days"][day] = n
    days = len(period.days)
    rows = []
    for person in sorted(people.values(), key=lambda p: (-p["total"], p["name"])):
        person["per_day"] = person["total"] / days
        person["active_days"] = len(person["days"])
        rows.append(person)
    return {
        "decisions": [{"day": d["day"], "n": d["total"]} for d in mix],
        "decisions_total": sum(d["total"] for d in mix),
        "people": rows,
        "actions_total": sum(p["total"] for p in rows),
    }


def duty_exposure(tenant, period: Period, limit: int = 10) -> dict:
    """Estimated duty of final codes minus that of the codes the catalog declared, where the
    catalog declared another declarable code; the total and the largest ``limit``.

    The final code's duty is the state's own when the broker kept the suggestion, else the
    matching candidate's (read in the database, for the moved decisions only)."""
    start, end = period.bounds
    where, params = "", [tenant.pk, start, end]
    if period.jurisdiction:
        where, params = "AND s.jurisdiction = %s", [*params, period.jurisdiction]
    # The counts and total over every row, the largest differences as rows: one statement.
    rows = _sql(
        f"""SELECT decision_id, final_code, declared, final, final - declared,
                   count(final) OVER (), count(*) FILTER (WHERE final IS NULL) OVER (),
                   sum(final - declared) OVER ()
              FROM (SELECT s.decision_id, s.final_code, s.declared_duty AS declared,
                           CASE WHEN s.final_code = s.selected_code AND s.duty_sort >= 0
                                THEN s.duty_sort
                                WHEN m.total ~ '^-?[0-9]+(\\.[0-9]+)?$'
                                THEN m.total::numeric END AS final
                      FROM classification_reviewstate s
                      LEFT JOIN LATERAL (
                           SELECT c -> 'duty' ->> 'total' AS total
                             FROM classification_decision d,
                                  jsonb_array_elements(
                                      CASE WHEN jsonb_typeof(d.evidence -> 'candidates') = 'array'
                                           THEN d.evidence -> 'candidates' ELSE '[]' END) c
                            WHERE d.id = s.decision_id
                              AND NOT (s.final_code = s.selected_code AND s.duty_sort >= 0)
                              AND c ->> 'code' = s.final_code
                              AND coalesce(c -> 'duty' ->> 'total', '') <> ''
                            LIMIT 1) m ON true
                     WHERE s.tenant_id = %s AND s.status = 'final'
                       AND s.declared_duty IS NOT NULL AND s.final_code <> ''
                       AND s.decision_created_at >= %s AND s.decision_created_at < %s {where}) r
             ORDER BY final IS NULL, abs(final - declared) DESC, decision_id LIMIT %s""",
        [*params, limit],
    )
    n, unknown, total = rows[0][5:] if rows else (0, 0, None)
    top = [
        {
            "decision_id": decision_id,
            "final_code": final_code,
            "declared": declared,
            "final": final,
            "difference": difference,
        }
        for decision_id, final_code, declared, final, difference, *_ in rows
        if final is not None
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
