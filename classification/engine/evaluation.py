"""Accuracy evaluation of the engine on labelled cases: pure reading, scoring and metrics.

Cases come from a CSV with ``description`` (required), ``name``, ``materials`` (separated by
``;`` or ``|``), ``intended_use``, ``product_type``, ``country_of_origin``, ``expected_code``
(digits, dots allowed; several codes separated by ``|`` or ``;``, any counts) and optional ``id``.
The ATLAS export's ``all_codes`` column is read as ``expected_code`` when that is absent. Only
these columns are read: anything else in the file (such as model-written reasoning) is ignored.

Scoring: an expected code that the schedule no longer has (a ruling older than the revision) is
scored at 6 digits, since its national digits cannot be reproduced from the current schedule.
"""

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

COLUMNS = (
    "id",
    "name",
    "description",
    "materials",
    "intended_use",
    "product_type",
    "country_of_origin",
    "expected_code",
)
LEVELS = (2, 4, 6)
BINS = 10
_SPLIT_CODES = re.compile(r"[|;]")
_SPLIT_LIST = re.compile(r"[|;]")


class CasesError(ValueError):
    """The cases file cannot be evaluated; the message says where."""


@dataclass(frozen=True)
class Case:
    id: str
    facts: dict
    expected: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Scored:
    """One evaluated case: what the engine ranked and which levels it got right."""

    case_id: str
    expected: tuple[str, ...]
    ranked: tuple[str, ...]
    outcome: str
    confidence: float
    hits: dict  # level (2, 4, 6, "full") -> bool
    recall_hs6: bool  # an expected HS6 among the first ``top`` distinct HS6 of the ranking


def _codes(raw: str, line: int) -> tuple[str, ...]:
    out = []
    for part in _SPLIT_CODES.split(raw or ""):
        digits = re.sub(r"[\s.]", "", part)
        if not digits:
            continue
        if not digits.isdigit() or len(digits) < 2:
            raise CasesError(f"line {line}, column expected_code: {part.strip()!r} is not a code")
        out.append(digits)
    if not out:
        raise CasesError(f"line {line}, column expected_code: no code given")
    return tuple(dict.fromkeys(out))


def read_cases(text: str, *, jurisdiction: str) -> list[Case]:
    """Parse a cases CSV; raise ``CasesError`` naming the line and column of the first problem."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(rows, [])]
    if "description" not in header:
        raise CasesError("line 1: the header has no 'description' column")
    code_column = "expected_code" if "expected_code" in header else "all_codes"
    if code_column not in header:
        raise CasesError("line 1: the header has no 'expected_code' column")
    where = {c: header.index(c) for c in (*COLUMNS, code_column) if c in header}
    cases = []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name, row=row):
            i = where.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        description = cell("description")
        if not description:
            raise CasesError(f"line {line}, column description: empty")
        materials = [m.strip() for m in _SPLIT_LIST.split(cell("materials")) if m.strip()]
        facts = {
            "sku": cell("id") or f"case-{line}",
            "name": cell("name") or "",
            "description": description,
            "country_of_origin": cell("country_of_origin").upper() or None,
            "materials": materials,
            "intended_use": cell("intended_use") or None,
            "product_type": cell("product_type") or None,
            "destination": jurisdiction,
            "customs_value": None,
            "currency": None,
            "quantity": None,
            "quantity_unit": None,
            "net_weight_kg": None,
            "supplier": None,
            "declared_code": None,
            "notes": None,
        }
        cases.append(Case(cell("id") or str(line), facts, _codes(cell(code_column), line), line))
    if not cases:
        raise CasesError("the file has a header but no cases")
    return cases


def score_case(case: Case, decision, *, top: int, known) -> Scored:
    """Score one decision; ``known(code)`` says whether the schedule still has an expected code."""
    ranked = tuple(c.code for c in decision.candidates)
    best = ranked[0] if ranked else ""
    hits: dict = {
        n: any(best[:n] == e[:n] and len(best) >= n for e in case.expected) for n in LEVELS
    }
    hits["full"] = bool(best) and any(
        best.startswith(e) if known(e) else best[:6] == e[:6] for e in case.expected
    )
    subheadings = list(dict.fromkeys(c[:6] for c in ranked))[:top]
    recall = any(c == e[:6] for c in subheadings for e in case.expected)
    return Scored(
        case.id, case.expected, ranked[:top], decision.outcome, decision.confidence, hits, recall
    )


@dataclass
class Report:
    cases: int
    accuracy: dict  # "2", "4", "6", "full" -> share of cases
    recall_hs6: float
    top: int
    outcomes: dict
    classified_precision: float | None
    calibration: list = field(default_factory=list)
    ece: float = 0.0
    scored_at_6_because_retired: int = 0

    def as_dict(self) -> dict:
        return {
            "cases": self.cases,
            "accuracy": self.accuracy,
            f"recall_hs6_top{self.top}": self.recall_hs6,
            "outcomes": self.outcomes,
            "classified_precision": self.classified_precision,
            "calibration": self.calibration,
            "ece": self.ece,
            "expected_codes_scored_at_6_digits": self.scored_at_6_because_retired,
        }


def calibration(scored: Sequence[Scored], bins: int = BINS) -> tuple[list[dict], float]:
    """Accuracy (full length) per confidence bin and the expected calibration error."""
    buckets: list[list[Scored]] = [[] for _ in range(bins)]
    for s in scored:
        buckets[min(int(s.confidence * bins), bins - 1)].append(s)
    out, ece = [], 0.0
    for i, bucket in enumerate(buckets):
        if not bucket:
            continue
        confidence = sum(s.confidence for s in bucket) / len(bucket)
        accuracy = sum(s.hits["full"] for s in bucket) / len(bucket)
        ece += len(bucket) / len(scored) * abs(accuracy - confidence)
        out.append(
            {
                "bin": f"{i / bins:.1f}-{(i + 1) / bins:.1f}",
                "cases": len(bucket),
                "mean_confidence": round(confidence, 4),
                "accuracy": round(accuracy, 4),
            }
        )
    return out, round(ece, 4)


def report(scored: Iterable[Scored], *, top: int, retired: int = 0) -> Report:
    """Aggregate scored cases into the figures the command prints."""
    scored = list(scored)
    n = len(scored) or 1
    accuracy = {str(k): round(sum(s.hits[k] for s in scored) / n, 4) for k in LEVELS}
    accuracy["full"] = round(sum(s.hits["full"] for s in scored) / n, 4)
    classified = [s for s in scored if s.outcome == "classified"]
    bins, ece = calibration(scored)
    return Report(
        cases=len(scored),
        accuracy=accuracy,
        recall_hs6=round(sum(s.recall_hs6 for s in scored) / n, 4),
        top=top,
        outcomes=dict(sorted(Counter(s.outcome for s in scored).items())),
        classified_precision=(
            round(sum(s.hits["full"] for s in classified) / len(classified), 4)
            if classified
            else None
        ),
        calibration=bins,
        ece=ece,
        scored_at_6_because_retired=retired,
    )


def render(rep: Report, *, mode: str) -> str:
    """Plain-text report for the terminal."""
    pct = lambda v: "n/a" if v is None else f"{100 * v:5.1f} %"  # noqa: E731
    lines = [
        f"Cases: {rep.cases}   mode: {mode}",
        "Top-1 exact match:  "
        + "   ".join(f"{k} digits {pct(rep.accuracy[k])}" for k in ("2", "4", "6"))
        + f"   full length {pct(rep.accuracy['full'])}",
        f"HS6 recall in top {rep.top}: {pct(rep.recall_hs6)}",
        "Outcomes: " + ", ".join(f"{k} {v}" for k, v in rep.outcomes.items()),
        f"Precision of 'classified': {pct(rep.classified_precision)}",
        "Expected codes not in the schedule (scored at 6 digits): "
        f"{rep.scored_at_6_because_retired}",
        "Calibration (confidence bin: cases, mean confidence, accuracy):",
    ]
    for b in rep.calibration:
        lines.append(
            f"  {b['bin']}: {b['cases']:4d}  {b['mean_confidence']:.2f}  {pct(b['accuracy'])}"
        )
    lines.append(f"Expected calibration error: {rep.ece:.3f}")
    return "\n".join(lines)
