"""Daily tallies of review states and actions, kept in the transactions that write them.

The compliance dashboard reads its figures from ``ReviewTally``: a few dozen rows a day instead
of every state of the period. A row is keyed by tenant, local date (``TIME_ZONE``),
jurisdiction and figure key:

- by the decision's date: ``outcome`` (every state), ``spot`` (spot checks by result), and, once
  a person checked the machine-selected code (``CHECKED_SQL``), ``checked_outcome``,
  ``checked_source``, ``checked_rule``, ``checked_pack``, ``bin`` (confidence tenth) and
  ``moved`` (the code moved to); ``open`` (items open now, per queue: the backlog by age);
  ``duty`` (final decisions with a declared duty: ``known`` with the sum of final minus declared
  duty in ``amount``, or ``unknown``);
- by the date it was finalized: ``final_time`` (final states per band of time from decision to
  final, ``FINAL_BANDS``);
- by the action's date: ``actions`` (a person's review actions, ``PERSON_KINDS``, keyed by the
  person's id).

``tally_opened`` counts new states, ``tally_changed`` what a state's change changes (nothing to
write for most actions), ``tally_action`` a person's action. Each appends delta rows with one
plain ``INSERT``, so no writer waits for another's counter row; readers sum a key's rows, and
``tally_compact`` (a schedule) folds them into one.
``derive_final`` fills the final state's ``final_bucket`` and ``final_duty`` (called by
``tally_changed``). Migration ``classification 0015`` derives and counts the same from the
existing rows (``tally_rebuild``, ``manage.py insights_rebuild``).
"""

import bisect
import datetime as dt
import importlib
import math
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from classification.models import ReviewStatus, SpotCheck

CALIBRATION_BINS = 10
OPEN_STATUSES = (ReviewStatus.OPEN, ReviewStatus.ESCALATED, ReviewStatus.INFO_REQUESTED)
# A person's own review work: the actions that decide, route or check a decision.
PERSON_KINDS = (
    "accept",
    "override",
    "escalate",
    "request_info",
    "spot_check",
    "reopen",
    "sign_off",
)
# Lower bounds, in seconds, of the bands of time from decision to final: a final state's
# ``final_bucket`` is the index of its band. The dashboard's median and p90 read the band
# counts, then sort only the finals of the band that holds each rank.
_MINUTE, _HOUR, _DAY = 60, 3600, 86400
FINAL_BANDS = (
    *(m * _MINUTE for m in (0, 1, 2, 5, 10, 15, 20, 30, 45)),
    *(int(h * _HOUR) for h in (1, 1.5, *range(2, 24), *range(24, 48, 2), *range(48, 96, 3))),
    *(h * _HOUR for h in range(96, 168, 6)),
    *(d * _DAY for d in (7, 8, 9, 10, 12, 14, 17, 21, 25, 30, 35, 40, 50, 60, 75, 90, 120)),
    *(d * _DAY for d in (150, 180, 270, 365)),
)
_BAND_DELTAS = [dt.timedelta(seconds=s) for s in FINAL_BANDS]
# The SQL twin of ``_checked``: a final code decided by a person, or an automatic code confirmed
# or corrected in a spot check; only a machine-selected code can be checked.
CHECKED_SQL = (
    "status = 'final' AND (decided_by_id IS NOT NULL OR spot_check IN ('confirmed', 'corrected'))"
    " AND selected_code <> ''"
)
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _checked(s: dict) -> bool:
    return (
        s["status"] == ReviewStatus.FINAL
        and (
            s["decided_by_id"] is not None
            or s["spot_check"] in (SpotCheck.CONFIRMED, SpotCheck.CORRECTED)
        )
        and bool(s["selected_code"])
    )


def confidence_bin(confidence: float) -> int:
    return min(max(math.floor(confidence * CALIBRATION_BINS), 0), CALIBRATION_BINS - 1)


def final_band(created: dt.datetime, decided: dt.datetime) -> int:
    """The band of time from decision to final (index into ``FINAL_BANDS``; 0 below a minute)."""
    return max(bisect.bisect_right(_BAND_DELTAS, decided - created) - 1, 0)


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _final_duty(state) -> Decimal | None:
    """The final code's estimated duty: the suggestion's own when the final code is the
    suggestion, else the first candidate of that code with a duty total (None if not a number).
    """
    if state.final_code == state.selected_code and state.duty_sort >= 0:
        return state.duty_sort
    from classification.models import Decision, ReviewState

    if ReviewState.decision.is_cached(state):
        evidence = state.decision.evidence or {}
    else:
        evidence = Decision.objects.values_list("evidence", flat=True).get(pk=state.pk) or {}
    candidates = evidence.get("candidates")
    for c in candidates if isinstance(candidates, list) else []:
        if not isinstance(c, dict) or c.get("code") != state.final_code:
            continue
        total = (c.get("duty") or {}).get("total") if isinstance(c.get("duty"), dict) else None
        if total is None or total == "":
            continue
        text = str(total).lower() if isinstance(total, bool) else str(total)
        try:
            return Decimal(text) if _NUMBER.fullmatch(text) else None
        except InvalidOperation:
            return None
    return None


def derive_final(state) -> None:
    """Fill ``final_bucket`` and ``final_duty`` of a final state (both None otherwise; the duty
    only where the catalog declared one). The SQL twin is migration 0015's ``DERIVE``."""
    final = state.status == ReviewStatus.FINAL
    state.final_bucket = (
        final_band(state.decision_created_at, state.decided_at)
        if final and state.decided_at
        else None
    )
    duty = (
        _final_duty(state)
        if final and state.declared_duty is not None and state.final_code
        else None
    )
    state.final_duty = (
        None if duty is None else Decimal(duty).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    )


def _counts(s: dict, sign: int, into: dict) -> None:
    """Add ``sign`` × the state's contributions to ``into`` ({(day, figure, key, key2): [n,
    kept, right6, confidence, amount]})."""

    def add(figure, key, key2="", kept=0, right6=0, confidence=0.0, amount=0, day=s["day"]):
        row = into[(day, figure, key, key2)]
        row[0] += sign
        row[1] += sign * kept
        row[2] += sign * right6
        row[3] += sign * confidence
        row[4] += sign * amount

    add("outcome", s["outcome"])
    if s["status"] in OPEN_STATUSES:
        add("open", s["queue"])
    if s["spot_check"]:
        add("spot", s["spot_check"])
    final = s["status"] == ReviewStatus.FINAL
    if final and s["decided_at"] is not None and s["final_bucket"] is not None:
        add("final_time", str(s["final_bucket"]), day=local_day(s["decided_at"]))
    if final and s["declared_duty"] is not None and s["final_code"]:
        if s["final_duty"] is None:
            add("duty", "unknown")
        else:
            add("duty", "known", amount=s["final_duty"] - s["declared_duty"])
    if not _checked(s):
        return
    final, selected = s["final_code"], s["selected_code"]
    kept = int(final == selected)
    add("checked_outcome", s["outcome"], kept=kept)
    add("checked_source", s["evidence_source"], kept=kept)
    if s["rule_id"]:
        add("checked_rule", s["rule_id"], kept=kept)
    if s["rule_pack_version"]:
        add("checked_pack", s["rule_pack_version"], kept=kept)
    if not kept:
        add("moved", final, selected)
    add(
        "bin",
        str(confidence_bin(s["confidence"])),
        right6=int(final[:6] == selected[:6]),
        confidence=s["confidence"],
    )


def _fields(state, mutable: dict | None = None) -> dict:
    from classification.models import TALLIED_FIELDS

    return {
        "day": local_day(state.decision_created_at),
        "outcome": state.outcome,
        "evidence_source": state.evidence_source,
        "rule_id": state.rule_id,
        "rule_pack_version": state.rule_pack_version,
        "selected_code": state.selected_code,
        "confidence": state.confidence,
        "declared_duty": state.declared_duty,
        **(mutable or {f: getattr(state, f) for f in TALLIED_FIELDS}),
    }


def _write(rows: dict) -> None:
    """Append the changes as delta rows: a plain INSERT takes no lock another writer waits for
    (an upsert of a shared row, such as today's open items of a queue, made concurrent brokers
    and workers queue behind each other and could deadlock them). Readers sum the rows;
    ``tally_compact`` folds them."""
    values = [
        (tenant_id, day, jurisdiction, figure, key, key2, *counts)
        for (tenant_id, day, jurisdiction, figure, key, key2), counts in sorted(rows.items())
        if any(counts)
    ]
    if not values:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO classification_reviewtally
                   (tenant_id, day, jurisdiction, figure, key, key2, n, kept, right6, confidence,
                    amount)
               VALUES """
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(values)),
            [v for row in values for v in row],
        )


COMPACT_SQL = """
WITH gone AS (
    DELETE FROM classification_reviewtally t
    WHERE (t.tenant_id, t.day, t.jurisdiction, t.figure, t.key, t.key2) IN (
        SELECT tenant_id, day, jurisdiction, figure, key, key2
        FROM classification_reviewtally
        WHERE %(tenant)s::bigint IS NULL OR tenant_id = %(tenant)s::bigint
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING count(*) > 1
    )
    RETURNING t.*
)
INSERT INTO classification_reviewtally
    (tenant_id, day, jurisdiction, figure, key, key2, n, kept, right6, confidence, amount)
SELECT tenant_id, day, jurisdiction, figure, key, key2,
       sum(n), sum(kept), sum(right6), sum(confidence), sum(amount)
FROM gone
GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(n) <> 0 OR sum(kept) <> 0 OR sum(right6) <> 0 OR sum(confidence) <> 0
    OR sum(amount) <> 0
"""


def tally_compact(tenant_id: int | None = None) -> int:
    """Fold each key's delta rows into one (a key whose deltas cancel out leaves none); return
    the rows written. Sums are unchanged, so readers in any snapshot see the same figures, and
    writers are never blocked: rows they insert meanwhile are simply left for the next run.
    A schedule runs it (``classification.tasks.compact_tallies``)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(COMPACT_SQL, {"tenant": tenant_id})
        return cursor.rowcount


def _rows() -> defaultdict:
    return defaultdict(lambda: [0, 0, 0, 0.0, Decimal(0)])


def _keyed(state, counts: dict, into: dict) -> None:
    for (day, *key), row in counts.items():
        total = into[(state.tenant_id, day, state.jurisdiction, *key)]
        for i, v in enumerate(row):
            total[i] += v


def tally_opened(states, *, superseded=()) -> None:
    """Count newly created review states and the unsaved change of the older states they
    supersede (the caller's transaction; one statement)."""
    rows = _rows()
    for state in states:
        counts = _rows()
        _counts(_fields(state), 1, counts)
        _keyed(state, counts, rows)
    _changed_into(superseded, rows)
    _write(rows)


def tally_changed(state) -> None:
    """Count what the unsaved change of a loaded review state changes, after deriving its final
    columns (the caller's transaction; one statement, or none when nothing counted changed)."""
    tally_changed_many([state])


def tally_changed_many(states) -> None:
    """``tally_changed`` for several states, in one statement."""
    rows = _rows()
    _changed_into(states, rows)
    _write(rows)


def _changed_into(states, rows: dict) -> None:
    from classification.models import TALLIED_FIELDS, ReviewState

    if not states:
        return

    unread = [s.pk for s in states if getattr(s, "_tallied", None) is None]
    stored = (
        {
            row["pk"]: row
            for row in ReviewState.objects.filter(pk__in=unread).values("pk", *TALLIED_FIELDS)
        }
        if unread
        else {}
    )
    for state in states:
        before = getattr(state, "_tallied", None) or stored[state.pk]
        before = {f: before[f] for f in TALLIED_FIELDS}
        derive_final(state)
        after = _fields(state)
        counts = _rows()
        _counts(_fields(state, before), -1, counts)
        _counts(after, 1, counts)
        _keyed(state, counts, rows)
        state._tallied = {f: after[f] for f in TALLIED_FIELDS}


def tally_action(action, state) -> None:
    """Count a person's review action on its local date (the caller's transaction)."""
    if action.actor_id is None or action.kind not in PERSON_KINDS:
        return
    day = local_day(action.created_at)
    rows = _rows()
    rows[(state.tenant_id, day, state.jurisdiction, "actions", str(action.actor_id), "")][0] = 1
    _write(rows)


def tally_rebuild(tenant_id: int) -> None:
    """Derive a tenant's final columns and count its tallies again from scratch (states and
    actions written in bulk or by hand; ``manage.py insights_rebuild``), in one transaction."""
    migration = importlib.import_module("classification.migrations.0015_insight_rollups")
    params = {"tz": settings.TIME_ZONE, "tenant": tenant_id}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            migration.DERIVE.replace("WHERE true", "WHERE s.tenant_id = %(tenant)s"), params
        )
        # Writers wait from here to the caller's commit, then add their changes to the new count.
        cursor.execute("LOCK TABLE classification_reviewtally IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("DELETE FROM classification_reviewtally WHERE tenant_id = %s", [tenant_id])
        for sql in migration.REBUILD:
            cursor.execute(sql.replace("WHERE true", "WHERE s.tenant_id = %(tenant)s"), params)
