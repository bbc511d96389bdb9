"""Backtest: run a pack over labelled cases and measure it against the activation thresholds.

Pure: cases are plain ``Case`` values (golden cases, an uploaded backtest set, the tenant's
finalized decisions), the result is a JSON-ready dict stored on the pack and shown in the UI.
"""

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

from rulepacks import routing
from rulepacks.evaluate import ReferenceLookup, run_pack
from rulepacks.format.compiled import CompiledPack

MIN_CASES = 20
MIN_ACCURACY = 0.85
MAX_REVIEW_RATE = 0.20
MAX_DENIED_LOW_RISK = 0


@dataclass(frozen=True)
class Case:
    """Product facts with the expected code (``""`` for none) and, optionally, outcome."""

    id: str
    source: str  # "golden" | "uploaded" | "decision"
    facts: MappingProxyType
    expect_code: str
    expect_outcome: str = ""
    where: str = ""  # "line 12", "row 4" — where the case is written

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "source": self.source,
            "facts": dict(self.facts),
            "expect_code": self.expect_code,
            "expect_outcome": self.expect_outcome,
            "where": self.where,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Case":
        return cls(
            id=data["id"],
            source=data.get("source", "uploaded"),
            facts=MappingProxyType(dict(data["facts"])),
            expect_code=data.get("expect_code", ""),
            expect_outcome=data.get("expect_outcome", ""),
            where=data.get("where", ""),
        )


def golden_cases(pack: CompiledPack) -> list[Case]:
    """Return the pack's golden cases as backtest cases."""
    return [
        Case(g.id, "golden", g.facts, g.expect_code, g.expect_outcome, f"line {g.line}")
        for g in pack.golden
    ]


def percentile(values: Sequence[float], pct: float) -> float:
    """Return the nearest-rank percentile of ``values`` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def timed_run(pack, facts, reference, repeats: int = 3):
    """Run the pack-only path ``repeats`` times; return the outcome and the fastest time in ms.

    The fastest of a few runs measures the pack's cost rather than the machine's noise.
    """
    best = math.inf
    outcome = None
    for _ in range(repeats):
        start = time.perf_counter()
        outcome = run_pack(pack, facts, reference)
        best = min(best, (time.perf_counter() - start) * 1000)
    return outcome, best


def _case_row(case: Case, outcome, ms: float) -> dict:
    r = outcome.routing
    denied = bool(outcome.evaluation.denied)
    return {
        "id": case.id,
        "source": case.source,
        "where": case.where,
        "name": case.facts.get("name") or "",
        "expect_code": case.expect_code,
        "expect_outcome": case.expect_outcome,
        "code": r.code,
        "outcome": r.outcome,
        "risk": r.risk,
        "reasons": list(r.reasons),
        "rules": list(outcome.rule_ids),
        "denied": [d.id for d in outcome.evaluation.denied],
        "restrictions": [x.id for x in outcome.evaluation.restrictions],
        "code_ok": r.code == case.expect_code,
        "outcome_ok": not case.expect_outcome or r.outcome == case.expect_outcome,
        "denied_low_risk": (denied or case.expect_outcome == routing.BLOCKED)
        and r.risk == routing.LOW,
        "ms": round(ms, 3),
    }


def _per_rule(rows: list[dict]) -> list[dict]:
    """Precision of each rule behind a selected code, worst first (a list: JSONB keeps no order)."""
    stats: dict[str, dict] = {}
    for row in rows:
        if not row["rules"]:
            continue
        rule_id = row["rules"][0]  # the best rule behind the selected code
        entry = stats.setdefault(
            rule_id, {"rule": rule_id, "fired": 0, "correct": 0, "cases": [], "wrong": []}
        )
        entry["fired"] += 1
        entry["cases"].append(row["id"])
        if row["code_ok"]:
            entry["correct"] += 1
        else:
            entry["wrong"].append(row["id"])
    for entry in stats.values():
        entry["precision"] = round(entry["correct"] / entry["fired"], 4)
    return sorted(stats.values(), key=lambda e: (e["precision"], e["rule"]))


def run_backtest(
    pack: CompiledPack, cases: Sequence[Case], reference: ReferenceLookup | None
) -> dict:
    """Run ``pack`` over ``cases``; return the report with its activation checks.

    Accuracy is exact-code agreement over all cases; the review rate is the share routed to
    ``needs_review``; a denied good (or a case expected blocked) rated low risk is counted.
    """
    rows = []
    for case in cases:
        outcome, ms = timed_run(pack, case.facts, reference)
        rows.append(_case_row(case, outcome, ms))
    n = len(rows)
    correct = sum(r["code_ok"] for r in rows)
    review = sum(r["outcome"] == routing.NEEDS_REVIEW for r in rows)
    blocked = sum(r["outcome"] == routing.BLOCKED for r in rows)
    denied_low = [r["id"] for r in rows if r["denied_low_risk"]]
    accuracy = correct / n if n else 0.0
    review_rate = review / n if n else 0.0
    checks = [
        _check("cases", n, f"≥ {MIN_CASES}", n >= MIN_CASES),
        _check("accuracy", round(accuracy, 4), f"≥ {MIN_ACCURACY}", n and accuracy >= MIN_ACCURACY),
        _check(
            "review_rate",
            round(review_rate, 4),
            f"≤ {MAX_REVIEW_RATE}",
            n and review_rate <= MAX_REVIEW_RATE,
        ),
        _check(
            "denied_low_risk",
            len(denied_low),
            f"= {MAX_DENIED_LOW_RISK}",
            len(denied_low) <= MAX_DENIED_LOW_RISK,
        ),
    ]
    sources: dict[str, int] = {}
    for row in rows:
        sources[row["source"]] = sources.get(row["source"], 0) + 1
    times = [r["ms"] for r in rows]
    return {
        "sha256": pack.sha256,
        "passed": all(c["passed"] for c in checks),
        "checks": checks,
        "cases_total": n,
        "sources": sources,
        "accuracy": round(accuracy, 4),
        "review_rate": round(review_rate, 4),
        "blocked_rate": round(blocked / n, 4) if n else 0.0,
        "denied_low_risk": denied_low,
        "wrong": [r["id"] for r in rows if not r["code_ok"]],
        "per_rule": _per_rule(rows),
        "p50_ms": round(percentile(times, 50), 3),
        "p99_ms": round(percentile(times, 99), 3),
        "cases": rows,
    }


def _check(name: str, value, threshold: str, passed) -> dict:
    return {"name": name, "value": value, "threshold": threshold, "passed": bool(passed)}


def failed_checks(report: dict) -> list[str]:
    """Return one sentence per activation check the report fails."""
    labels = {
        "cases": "backtest cases",
        "accuracy": "exact-code accuracy",
        "review_rate": "review rate",
        "denied_low_risk": "denied goods rated low risk",
    }
    return [
        f"{labels[c['name']]} is {c['value']}, needs {c['threshold']}"
        for c in report.get("checks", [])
        if not c["passed"]
    ]
