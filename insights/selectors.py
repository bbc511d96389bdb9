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
from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Floor, Greatest, Least, Left, TruncDate
from django.utils import timezone

from classification.models import (
    ActionKind,
    Decision,
    Outcome,
    ReviewAction,
    ReviewState,
    ReviewStatus,
)
from classification.review import selectors as review_selectors
from rulepacks import selectors as rulepack_selectors

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
CALIBRATION_BINS = 10
# A code a broker checked: decided by a person, or an automatic code confirmed or corrected in a
# spot check. What the machine selected is measured against these only.
CHECKED = Q(status=ReviewStatus.FINAL) & (
    Q(decided_by__isnull=False) | Q(spot_check__in=["confirmed", "corrected"])
)


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


def outcome_mix(tenant, period: Period) -> list[dict]:
    """Decisions per day by outcome, with the day's review rate (needs review / all)."""
    counts = (
        _states(tenant, period)
        .annotate(day=TruncDate("decision_created_at"))
        .values_list("day", "outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_day: dict = {day: dict.fromkeys(OUTCOMES, 0) for day in period.days}
    for day, outcome, n in counts:
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
            if pack.status != "active" or (jurisdiction and code != jurisdiction):
                continue
            rate = (pack.backtest_report or {}).get("review_rate")
            out.append({"jurisdiction": code, "version": pack.version, "review_rate": rate})
    return out


def _kept(rows: QuerySet, by: str) -> list[dict]:
    found = (
        rows.values_list(by)
        .annotate(n=Count("pk"), kept=Count("pk", filter=Q(final_code=F("selected_code"))))
        .order_by()
    )
    return sorted(
        (
            {"key": key or "none", "n": n, "kept": kept, "precision": kept / n}
            for key, n, kept in found
        ),
        key=lambda r: (-r["n"], r["key"]),
    )


def precision(tenant, period: Period) -> dict:
    """Share of machine-selected codes that brokers kept, per outcome and per winning source,
    and the spot checks of auto-finalized decisions."""
    checked = _states(tenant, period).filter(CHECKED).exclude(selected_code="")
    spots = dict(
        _states(tenant, period)
        .exclude(spot_check="")
        .values_list("spot_check")
        .annotate(n=Count("pk"))
        .order_by()
    )
    confirmed, corrected = spots.get("confirmed", 0), spots.get("corrected", 0)
    totals = checked.aggregate(
        n=Count("pk"), kept=Count("pk", filter=Q(final_code=F("selected_code")))
    )
    return {
        "n": totals["n"],
        "kept": totals["kept"],
        "precision": _share(totals["kept"], totals["n"]),
        "by_outcome": _kept(checked, "outcome"),
        "by_source": _kept(checked, "evidence_source"),
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
    checked = _states(tenant, period).filter(CHECKED).exclude(selected_code="")
    moved = ~Q(final_code=F("selected_code"))

    def rates(by: str, rows: QuerySet) -> list[dict]:
        found = (
            rows.values_list(by).annotate(n=Count("pk"), moved=Count("pk", filter=moved)).order_by()
        )
        out = [{"key": key, "n": n, "moved": m, "rate": m / n} for key, n, m in found if key]
        return sorted(out, key=lambda r: (-r["moved"], -r["rate"], r["key"]))[:limit]

    targets = (
        checked.filter(moved)
        .values_list("final_code", "selected_code")
        .annotate(n=Count("pk"))
        .order_by("-n", "final_code", "selected_code")
    )
    to_codes: dict[str, dict] = {}
    for final, selected, n in targets:
        row = to_codes.setdefault(final, {"code": final, "n": 0, "from": []})
        row["n"] += n
        row["from"].append((selected, n))
    return {
        "rules": rates("rule_id", checked),
        "packs": rates("rule_pack_version", checked),
        "to_codes": sorted(to_codes.values(), key=lambda r: (-r["n"], r["code"]))[:limit],
    }


def calibration(tenant, period: Period) -> dict:
    """Accuracy at 6 digits of checked decisions per confidence bin, and the expected
    calibration error (the bins' |accuracy − confidence| weighted by their counts)."""
    found = (
        _states(tenant, period)
        .filter(CHECKED)
        .exclude(selected_code="")
        .annotate(
            bin=Least(Greatest(Floor(F("confidence") * CALIBRATION_BINS), Value(0.0)), Value(9.0)),
            sel6=Left("selected_code", 6),
            fin6=Left("final_code", 6),
        )
        .values_list("bin")
        .annotate(
            n=Count("pk"), total=Sum("confidence"), right=Count("pk", filter=Q(sel6=F("fin6")))
        )
        .order_by()
    )
    bins = {int(b): (n, total, right) for b, n, total, right in found}
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
    age = "extract(epoch FROM %s - decision_created_at) / 86400"
    buckets = ", ".join(f"count(*) FILTER (WHERE {age} < {days})" for days, _ in AGE_BUCKETS)
    rows = _sql(
        f"""SELECT queue, count(*), max({age}),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY {age}), {buckets}
              FROM classification_reviewstate WHERE {" AND ".join(open_where)} GROUP BY queue""",
        [now] * (2 + len(AGE_BUCKETS)) + open_params,
    )
    labels = {q.key: q.label for q in review_selectors.QUEUES}
    found = {row[0]: row for row in rows}
    queues = []
    for key in review_selectors.OPEN_QUEUES:
        if key not in found:
            continue
        _, n, oldest, median, *cumulative = found[key]
        cumulative = [*cumulative, n]
        queues.append(
            {
                "key": key,
                "label": labels.get(key, key),
                "n": n,
                "oldest": float(oldest),
                "median": float(median),
                "buckets": [c - (cumulative[i - 1] if i else 0) for i, c in enumerate(cumulative)],
            }
        )
    wait = "extract(epoch FROM %s - updated_at) / 86400"
    [(info_n, info_oldest, info_median)] = _sql(
        f"""SELECT count(*), max({wait}), percentile_cont(0.5) WITHIN GROUP (ORDER BY {wait})
              FROM classification_reviewstate WHERE {" AND ".join(open_where)}
               AND status = 'info_requested'""",
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
    catalog declared another declarable code; the total and the largest ``limit``."""
    rows = list(
        _states(tenant, period)
        .filter(status=ReviewStatus.FINAL, declared_duty__isnull=False)
        .exclude(final_code="")
        .values_list("decision_id", "final_code", "selected_code", "duty_sort", "declared_duty")
    )
    moved = [r[0] for r in rows if r[1] != r[2]]
    evidence = (
        dict(Decision.objects.filter(pk__in=moved).values_list("pk", "evidence")) if moved else {}
    )
    items, unknown = [], 0
    for decision_id, final, selected, duty, declared in rows:
        final_duty = (
            duty
            if final == selected and duty >= 0
            else _candidate_duty(evidence.get(decision_id), final)
        )
        if final_duty is None:
            unknown += 1
            continue
        items.append(
            {
                "decision_id": decision_id,
                "final_code": final,
                "declared": declared,
                "final": final_duty,
                "difference": final_duty - declared,
            }
        )
    items.sort(key=lambda r: (-abs(r["difference"]), r["decision_id"]))
    top = items[:limit]
    codes = dict(
        Decision.objects.filter(pk__in=[r["decision_id"] for r in top]).values_list(
            "pk", "evidence__duty__declared__estimate__code"
        )
    )
    for row in top:
        row["declared_code"] = codes.get(row["decision_id"]) or ""
    return {
        "n": len(items),
        "unknown": unknown,
        "total": sum((r["difference"] for r in items), Decimal(0)),
        "largest": top,
    }


def _candidate_duty(evidence: dict | None, code: str) -> Decimal | None:
    for candidate in (evidence or {}).get("candidates") or []:
        total = (candidate.get("duty") or {}).get("total")
        if candidate.get("code") == code and total not in (None, ""):
            return Decimal(str(total))
    return None


def open_alerts(tenant, jurisdiction: str = "") -> QuerySet:
    """Drift alerts nobody has acknowledged yet, newest first."""
    from insights.models import DriftAlert

    rows = DriftAlert.objects.filter(tenant=tenant, acknowledged_at__isnull=True)
    if jurisdiction:
        rows = rows.filter(jurisdiction=jurisdiction)
    return rows.select_related("rule_pack").order_by("-first_seen_at", "-pk")
