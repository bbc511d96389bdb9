"""Accuracy evaluation of the engine on labelled cases: pure reading, scoring and metrics.

Cases come from a CSV with ``description`` (required), ``name``, ``materials`` (separated by
``;`` or ``|``), ``intended_use``, ``product_type``, ``country_of_origin``, ``expected_code``
(digits, dots allowed; several codes separated by ``|`` or ``;``, any counts) and optional ``id``.
The ATLAS export's ``all_codes`` column is read as ``expected_code`` when that is absent. Only
these columns are read: anything else in the file (such as model-written reasoning) is ignored.

Scoring: an expected code that the schedule no longer has (a ruling older than the revision) is
scored at 6 digits, since its national digits cannot be reproduced from the current schedule.

Calibration is measured against top-1 hits at 6 digits (``CALIBRATION_LEVEL``): the engine's
confidence is the probability that the selected code is right at 6 digits, so a bin's accuracy
and the expected calibration error compare it with exactly that event, not with full length.

``split`` divides cases reproducibly for the learning evaluation: a seeded shuffle, so the same
file, fraction and seed always finalize the same cases and evaluate the same rest.
"""

import csv
import io
import random
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
# Recall is always reported in the top 5 and top 10 distinct subheadings (plus ``--top``), so
# runs with different options stay comparable.
RECALL_TOPS = (5, 10)
# The level calibration is scored at: the engine's confidence estimates "right at 6 digits".
CALIBRATION_LEVEL = 6
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
    split: str = ""  # the file's own ``split`` column (e.g. validation / test), when it has one


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
    recall: dict = field(default_factory=dict)  # n -> the same among the first n (RECALL_TOPS)


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
    where = {c: header.index(c) for c in (*COLUMNS, code_column, "split") if c in header}
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
        expected = _codes(cell(code_column), line)
        cases.append(Case(cell("id") or str(line), facts, expected, line, cell("split").lower()))
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
    subheadings = list(dict.fromkeys(c[:6] for c in ranked))
    expected6 = {e[:6] for e in case.expected}
    recall = {n: bool(expected6.intersection(subheadings[:n])) for n in {*RECALL_TOPS, top}}
    return Scored(
        case.id,
        case.expected,
        ranked[:top],
        decision.outcome,
        decision.confidence,
        hits,
        recall[top],
        recall,
    )


def split(cases: Sequence[Case], *, fraction: float, seed: int) -> tuple[list[Case], list[Case]]:
    """Return ``(learned, evaluated)``: ``fraction`` of the cases, drawn by a seeded shuffle, and
    the rest, each in file order. Both parts hold at least one case; raise ``CasesError`` for
    fewer than two cases or a fraction outside (0, 1)."""
    if not 0 < fraction < 1:
        raise CasesError(f"the learning fraction must be between 0 and 1 exclusive, not {fraction}")
    if len(cases) < 2:
        raise CasesError("learning needs at least two cases: some to learn, some to evaluate")
    order = list(range(len(cases)))
    random.Random(seed).shuffle(order)
    n = min(max(round(fraction * len(cases)), 1), len(cases) - 1)
    chosen = set(order[:n])
    learned = [c for i, c in enumerate(cases) if i in chosen]
    return learned, [c for i, c in enumerate(cases) if i not in chosen]


def learning_code(case: Case, reference) -> str | None:
    """Return the code a broker would finalize for ``case``: its first expected code when that is
    a declarable line of ``reference``, else the first declarable line under its 6 digits, else
    None (the case cannot be finalized and is not learned)."""
    first = case.expected[0]
    if reference.is_declarable(first):
        return first
    if len(first) < 6:  # a heading alone says nothing a broker could file
        return None
    under = reference.declarable_under(first[:6], limit=1)
    return under[0] if under else None


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
    recall: dict = field(default_factory=dict)  # n -> HS6 recall in the top n
    classified_share: float = 0.0
    classified_precision_hs6: float | None = None

    def as_dict(self) -> dict:
        recall = {f"recall_hs6_top{n}": v for n, v in sorted(self.recall.items())}
        return {
            "cases": self.cases,
            "accuracy": self.accuracy,
            f"recall_hs6_top{self.top}": self.recall_hs6,
            **recall,
            "outcomes": self.outcomes,
            "classified_share": self.classified_share,
            "classified_precision": self.classified_precision,
            "classified_precision_hs6": self.classified_precision_hs6,
            "calibration_scored_at": f"{CALIBRATION_LEVEL} digits",
            "calibration": self.calibration,
            "ece": self.ece,
            "expected_codes_scored_at_6_digits": self.scored_at_6_because_retired,
        }


def calibration(scored: Sequence[Scored], bins: int = BINS) -> tuple[list[dict], float]:
    """Top-1 accuracy at 6 digits per confidence bin and the expected calibration error.

    Scored at ``CALIBRATION_LEVEL`` digits because that is what the confidence estimates.
    """
    buckets: list[list[Scored]] = [[] for _ in range(bins)]
    for s in scored:
        buckets[min(int(s.confidence * bins), bins - 1)].append(s)
    out, ece = [], 0.0
    for i, bucket in enumerate(buckets):
        if not bucket:
            continue
        confidence = sum(s.confidence for s in bucket) / len(bucket)
        accuracy = sum(s.hits[CALIBRATION_LEVEL] for s in bucket) / len(bucket)
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


def _share(scored: Sequence[Scored], hit) -> float | None:
    return round(sum(1 for s in scored if hit(s)) / len(scored), 4) if scored else None


def report(scored: Iterable[Scored], *, top: int, retired: int = 0) -> Report:
    """Aggregate scored cases into the figures the command prints."""
    scored = list(scored)
    n = len(scored) or 1
    accuracy = {str(k): round(sum(s.hits[k] for s in scored) / n, 4) for k in LEVELS}
    accuracy["full"] = round(sum(s.hits["full"] for s in scored) / n, 4)
    classified = [s for s in scored if s.outcome == "classified"]
    bins, ece = calibration(scored)
    tops = sorted({*RECALL_TOPS, top})
    return Report(
        cases=len(scored),
        accuracy=accuracy,
        recall_hs6=round(sum(s.recall_hs6 for s in scored) / n, 4),
        top=top,
        outcomes=dict(sorted(Counter(s.outcome for s in scored).items())),
        classified_precision=_share(classified, lambda s: s.hits["full"]),
        calibration=bins,
        ece=ece,
        scored_at_6_because_retired=retired,
        recall={k: round(sum(s.recall.get(k, False) for s in scored) / n, 4) for k in tops},
        classified_share=round(len(classified) / n, 4),
        classified_precision_hs6=_share(classified, lambda s: s.hits[6]),
    )


def render(rep: Report, *, mode: str) -> str:
    """Plain-text report for the terminal."""
    pct = lambda v: "n/a" if v is None else f"{100 * v:5.1f} %"  # noqa: E731
    lines = [
        f"Cases: {rep.cases}   mode: {mode}",
        "Top-1 exact match:  "
        + "   ".join(f"{k} digits {pct(rep.accuracy[k])}" for k in ("2", "4", "6"))
        + f"   full length {pct(rep.accuracy['full'])}",
        "HS6 recall " + "   ".join(f"in top {k} {pct(v)}" for k, v in sorted(rep.recall.items())),
        "Outcomes: " + ", ".join(f"{k} {v}" for k, v in rep.outcomes.items()),
        f"Share routed 'classified': {pct(rep.classified_share)}",
        f"Precision of 'classified': full length {pct(rep.classified_precision)}"
        f"   6 digits {pct(rep.classified_precision_hs6)}",
        "Expected codes not in the schedule (scored at 6 digits): "
        f"{rep.scored_at_6_because_retired}",
        f"Calibration against top-1 hits at {CALIBRATION_LEVEL} digits "
        "(confidence bin: cases, mean confidence, accuracy):",
    ]
    for b in rep.calibration:
        lines.append(
            f"  {b['bin']}: {b['cases']:4d}  {b['mean_confidence']:.2f}  {pct(b['accuracy'])}"
        )
    lines.append(f"Expected calibration error ({CALIBRATION_LEVEL} digits): {rep.ece:.3f}")
    return "\n".join(lines)
