"""Daily tallies of review states, kept in the transactions that write the states.

The compliance dashboard reads its period figures (outcome mix, precision of automation,
overrides, calibration) from ``ReviewTally``: a few dozen rows a day instead of every state of
the period. A state counts towards rows keyed by its decision's local date (``TIME_ZONE``) and
jurisdiction: its outcome, its spot check, and, once a person checked its machine-selected code
(``CHECKED_SQL``), its outcome, evidence source, rule, pack version, confidence bin and the code
it moved to. ``tally_opened`` counts new states; ``tally_changed`` counts what a state's change
changes (nothing to write for most actions). Each is one ``INSERT … ON CONFLICT DO UPDATE``,
rows in key order so that concurrent writers lock them in the same order. Migration
``classification 0013`` computes the same rows from the states (``tally_rebuild``).
"""

import importlib
import math
from collections import defaultdict

from django.conf import settings
from django.db import connection
from django.utils import timezone

CALIBRATION_BINS = 10
# The SQL twin of ``_checked``: a final code decided by a person, or an automatic code confirmed
# or corrected in a spot check; only a machine-selected code can be checked.
CHECKED_SQL = (
    "status = 'final' AND (decided_by_id IS NOT NULL OR spot_check IN ('confirmed', 'corrected'))"
    " AND selected_code <> ''"
)


def _checked(s: dict) -> bool:
    return (
        s["status"] == "final"
        and (s["decided_by_id"] is not None or s["spot_check"] in ("confirmed", "corrected"))
        and bool(s["selected_code"])
    )


def confidence_bin(confidence: float) -> int:
    return min(max(math.floor(confidence * CALIBRATION_BINS), 0), CALIBRATION_BINS - 1)


def _counts(s: dict, sign: int, into: dict) -> None:
    """Add ``sign`` × the state's contributions to ``into`` ({(figure, key, key2): [n, kept,
    right6, confidence]})."""

    def add(figure, key, key2="", kept=0, right6=0, confidence=0.0):
        row = into[(figure, key, key2)]
        row[0] += sign
        row[1] += sign * kept
        row[2] += sign * right6
        row[3] += sign * confidence

    add("outcome", s["outcome"])
    if s["spot_check"]:
        add("spot", s["spot_check"])
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
    return {
        "outcome": state.outcome,
        "evidence_source": state.evidence_source,
        "rule_id": state.rule_id,
        "rule_pack_version": state.rule_pack_version,
        "selected_code": state.selected_code,
        "confidence": state.confidence,
        **(
            mutable
            or {
                "status": state.status,
                "final_code": state.final_code,
                "decided_by_id": state.decided_by_id,
                "spot_check": state.spot_check,
            }
        ),
    }


def _day(state):
    return timezone.localtime(state.decision_created_at, timezone.get_default_timezone()).date()


def _write(rows: dict) -> None:
    values = [
        (tenant_id, day, jurisdiction, figure, key, key2, *counts)
        for (tenant_id, day, jurisdiction, figure, key, key2), counts in sorted(rows.items())
        if any(counts)
    ]
    if not values:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO classification_reviewtally AS t
                   (tenant_id, day, jurisdiction, figure, key, key2, n, kept, right6, confidence)
               VALUES """
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(values))
            + """ ON CONFLICT (tenant_id, day, jurisdiction, figure, key, key2) DO UPDATE
                  SET n = t.n + EXCLUDED.n, kept = t.kept + EXCLUDED.kept,
                      right6 = t.right6 + EXCLUDED.right6,
                      confidence = t.confidence + EXCLUDED.confidence""",
            [v for row in values for v in row],
        )


def _keyed(state, counts: dict, into: dict) -> None:
    scope = (state.tenant_id, _day(state), state.jurisdiction)
    for key, row in counts.items():
        total = into[(*scope, *key)]
        for i, v in enumerate(row):
            total[i] += v


def tally_opened(states) -> None:
    """Count newly created review states (the caller's transaction; one statement)."""
    rows: dict = defaultdict(lambda: [0, 0, 0, 0.0])
    for state in states:
        counts: dict = defaultdict(lambda: [0, 0, 0, 0.0])
        _counts(_fields(state), 1, counts)
        _keyed(state, counts, rows)
    _write(rows)


def tally_changed(state) -> None:
    """Count what the unsaved change of a loaded review state changes (the caller's
    transaction; one statement, or none when nothing counted changed)."""
    from classification.models import ReviewState

    before = getattr(state, "_tallied", None)
    if before is None:  # not loaded with its tallied fields: read them
        before = (
            ReviewState.objects.filter(pk=state.pk)
            .values("status", "final_code", "decided_by_id", "spot_check")
            .get()
        )
    after = _fields(state)
    counts: dict = defaultdict(lambda: [0, 0, 0, 0.0])
    _counts(_fields(state, before), -1, counts)
    _counts(after, 1, counts)
    rows: dict = defaultdict(lambda: [0, 0, 0, 0.0])
    _keyed(state, counts, rows)
    _write(rows)
    state._tallied = {k: after[k] for k in before}


def tally_rebuild(tenant_id: int) -> None:
    """Count a tenant's review states again from scratch (states written in bulk, by hand)."""
    migration = importlib.import_module("classification.migrations.0013_review_tally")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM classification_reviewtally WHERE tenant_id = %s", [tenant_id])
        cursor.execute(
            migration.REBUILD.replace("WHERE true", "WHERE s.tenant_id = %(tenant)s"),
            {"tz": settings.TIME_ZONE, "tenant": tenant_id},
        )
