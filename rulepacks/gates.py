"""Activation gates that need no database: each reports pass/fail with located problems.

1. syntax and schema; 2. validity; 3. golden cases; 4. runtime safety; 5. output coverage.
The tariff schedule comes in as a ``ReferenceLookup``; code declarability can be delegated to a
``code_check`` callable (the services pass the tariffs validation service), so tests run the
gates against a fake reference.
"""

import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from rulepacks import backtest
from rulepacks.evaluate import ReferenceLookup
from rulepacks.format import parser
from rulepacks.format.compiled import RISK_BANDS, CompiledPack
from rulepacks.format.normalize import MAX_PHRASE_WORDS
from rulepacks.format.parser import Problem

GATES = (
    ("syntax", "Syntax and schema"),
    ("validity", "Validity"),
    ("golden", "Golden cases"),
    ("safety", "Runtime safety"),
    ("coverage", "Required output coverage"),
)
MIN_GOLDEN_CASES = 10
THRESHOLD_RANGES = {"min_confidence": (0.5, 0.99), "tie_margin": (0.0, 0.2)}
MAX_SOURCE_BYTES = 512 * 1024
MAX_RULES = 2000
MAX_ENTRIES = 1000  # restrictions + denied goods
MAX_TERMS_PER_RULE = 100
MAX_TERM_CHARS = 80
P99_BUDGET_MS = 5.0
MIN_RATIONALE_CHARS = 20

CodeCheck = Callable[[str], str | None]  # code -> None when declarable, else the reason


@dataclass
class GateResult:
    key: str
    title: str
    status: str = "pass"  # pass | fail | skipped
    problems: list[Problem] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def fail(self, message: str, *, line=None, entry="", key="") -> None:
        self.status = "fail"
        prefix = f"{entry}: " if entry and not message.startswith(entry) else ""
        self.problems.append(Problem(prefix + message, line=line, entry=entry, key=key))

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "problems": [p.as_dict() for p in self.problems],
            "details": self.details,
        }


@dataclass
class GateReport:
    sha256: str
    gates: list[GateResult]
    pack: CompiledPack | None = None

    @property
    def passed(self) -> bool:
        return all(g.status == "pass" for g in self.gates)

    def gate(self, key: str) -> GateResult:
        return next(g for g in self.gates if g.key == key)

    def as_dict(self) -> dict:
        return {
            "sha256": self.sha256,
            "passed": self.passed,
            "gates": [g.as_dict() for g in self.gates],
        }


def declarable_in(reference: ReferenceLookup | None) -> CodeCheck:
    """Return a ``CodeCheck`` answering from ``reference`` alone."""

    def check(code: str) -> str | None:
        if reference is None:
            return "no tariff schedule is loaded for this jurisdiction"
        if reference.is_declarable(code):
            return None
        if reference.line(code) is None:
            return f"{code} is not in the schedule"
        return f"{code} is not a declarable line (it has subdivisions)"

    return check


def check_validity(pack: CompiledPack, gate: GateResult, *, jurisdiction, code_check) -> None:
    if pack.jurisdiction != jurisdiction:
        gate.fail(
            f"the pack declares jurisdiction {pack.jurisdiction} but is filed under {jurisdiction}",
            line=pack.line_of.get("jurisdiction"),
        )
    for key, (lo, hi) in THRESHOLD_RANGES.items():
        value = getattr(pack.thresholds, key)
        if not lo <= value <= hi:
            gate.fail(
                f"thresholds.{key} {value:g} is outside {lo}–{hi}",
                entry="[thresholds]",
                key=key,
                line=pack.line_of.get(key),
            )
    sections = (
        ("rule", pack.rules),
        ("restriction", pack.restrictions),
        ("denied good", pack.denied),
        ("golden case", pack.golden),
    )
    for noun, items in sections:
        counts = Counter(item.id for item in items)
        for item in items:
            label = f'{noun} "{item.id}"'
            if counts[item.id] > 1:
                gate.fail(
                    f"id is used by {counts[item.id]} {noun}s",
                    line=item.line,
                    entry=label,
                    key="id",
                )
                counts[item.id] = 1  # report each duplicate once
            when = getattr(item, "when", None)
            if when is not None and when.is_empty:
                gate.fail(
                    "conditions are empty: it would match every product (add any/all "
                    "terms, origins, a value range or codes)",
                    line=item.line,
                    entry=label,
                    key="when",
                )
    checked: dict[str, str | None] = {}
    codes = [("rule", r.id, r.code, r.line) for r in pack.rules] + [
        ("golden case", g.id, g.expect_code, g.line) for g in pack.golden if g.expect_code
    ]
    for noun, ident, code, line in codes:
        if code not in checked:
            checked[code] = code_check(code)
        if checked[code]:
            gate.fail(
                f"code {code}: {checked[code]}", line=line, entry=f'{noun} "{ident}"', key="code"
            )
    gate.details["codes_checked"] = len(checked)


def check_golden(pack: CompiledPack, gate: GateResult, reference) -> None:
    count = len(pack.golden)
    gate.details["count"] = count
    if count < MIN_GOLDEN_CASES:
        gate.fail(f"the pack has {count} golden cases; at least {MIN_GOLDEN_CASES} are required")
    for case in pack.golden:
        outcome, _ = backtest.timed_run(pack, case.facts, reference, repeats=1)
        r = outcome.routing
        if r.code != case.expect_code or r.outcome != case.expect_outcome:
            got_reasons = f" ({', '.join(r.reasons)})" if r.reasons else ""
            gate.fail(
                f"expected {case.expect_code or 'no code'} {case.expect_outcome}, got "
                f"{r.code or 'no code'} {r.outcome}{got_reasons}",
                line=case.line,
                entry=f'golden case "{case.id}"',
            )


def check_safety(pack, gate, reference, cases: Sequence[backtest.Case]) -> None:
    limits = {
        "source_bytes": (pack.source_bytes, MAX_SOURCE_BYTES),
        "rules": (len(pack.rules), MAX_RULES),
        "restrictions_and_denied": (len(pack.restrictions) + len(pack.denied), MAX_ENTRIES),
    }
    for name, (value, limit) in limits.items():
        if value > limit:
            gate.fail(f"{name.replace('_', ' ')}: {value} is above the limit of {limit}")
    entries = [("rule", r) for r in pack.rules] + [("restriction", r) for r in pack.restrictions]
    entries += [("denied good", d) for d in pack.denied]
    for noun, item in entries:
        label = f'{noun} "{item.id}"'
        if item.when.term_count > MAX_TERMS_PER_RULE:
            gate.fail(
                f"{item.when.term_count} terms, above the limit of {MAX_TERMS_PER_RULE}",
                line=item.line,
                entry=label,
                key="when",
            )
        for cond in item.when.text:
            for term in cond.terms:
                if len(term.text) > MAX_TERM_CHARS:
                    gate.fail(
                        f"term {term.text[:30]!r}… is {len(term.text)} characters, above "
                        f"{MAX_TERM_CHARS}",
                        line=item.line,
                        entry=label,
                        key=cond.key,
                    )
                elif len(term.words) > MAX_PHRASE_WORDS:
                    gate.fail(
                        f"term {term.text!r} has {len(term.words)} words, above {MAX_PHRASE_WORDS}",
                        line=item.line,
                        entry=label,
                        key=cond.key,
                    )
    times = [backtest.timed_run(pack, c.facts, reference)[1] for c in cases]
    p99 = backtest.percentile(times, 99)
    gate.details.update(
        {
            "cases_timed": len(times),
            "p99_ms": round(p99, 3),
            "budget_ms": P99_BUDGET_MS,
            "limits": {k: v[1] for k, v in limits.items()},
        }
    )
    if p99 > P99_BUDGET_MS:
        gate.fail(
            f"evaluation p99 is {p99:.2f} ms per product over {len(times)} cases, above "
            f"the budget of {P99_BUDGET_MS} ms"
        )


def check_coverage(pack: CompiledPack, gate: GateResult, reference, code_check) -> None:
    if not pack.denied_declared:
        gate.fail(
            "the denied-goods list is not declared: add [[denied]] entries or "
            "`denied = []` to say there are none"
        )
    origins = [g.facts.get("country_of_origin") for g in pack.golden]
    sample_origin = next((o for o in origins if o), "CN")
    duties = {}
    for rule in pack.rules:
        label = f'rule "{rule.id}"'
        if code_check(rule.code):
            gate.fail(
                f"code {rule.code} does not yield a valid code",
                line=rule.line,
                entry=label,
                key="code",
            )
            continue
        if rule.risk not in RISK_BANDS:
            gate.fail("no risk band", line=rule.line, entry=label, key="risk")
        if len(rule.rationale) < MIN_RATIONALE_CHARS:
            gate.fail(
                f"rationale is missing or shorter than {MIN_RATIONALE_CHARS} characters "
                "(write the GRI and legal-note reasoning)",
                line=rule.line,
                entry=label,
                key="rationale",
            )
        if rule.code not in duties:
            duties[rule.code] = _duty_summary(reference, rule.code, rule, sample_origin)
        if duties[rule.code] is None:
            gate.fail(
                f"code {rule.code} gives neither a duty estimate nor a reason it is not computable",
                line=rule.line,
                entry=label,
                key="code",
            )
    gate.details["duty"] = {k: v for k, v in duties.items() if v}


def _duty_summary(reference, code, rule, sample_origin) -> str | None:
    origin = min(rule.when.origin_any) if rule.when.origin_any else sample_origin
    try:
        estimate = reference.duty(
            code,
            origin=origin,
            customs_value=Decimal("1000.00"),
            currency="USD",
            quantity=Decimal("1"),
            quantity_unit=None,
            net_weight_kg=Decimal("1"),
        )
    except Exception:  # a broken estimate is a coverage failure, not a crash
        return None
    if estimate is None:
        return None
    if estimate.computable and estimate.total is not None:
        return f"{estimate.total} {estimate.currency} on 1000.00 USD from {origin}"
    notes = [n for n in (estimate.notes or []) if n]
    return f"not computable: {'; '.join(notes)}" if notes else None


def run_gates(
    source: str,
    *,
    jurisdiction: str,
    reference: ReferenceLookup | None,
    code_check: CodeCheck | None = None,
    cases: Sequence[backtest.Case] = (),
) -> GateReport:
    """Run the five gates over ``source``; gates after a failed parse are ``skipped``."""
    # Validity and coverage both ask about every code: ask the schedule once per code.
    check = functools.lru_cache(maxsize=None)(code_check or declarable_in(reference))
    result = parser.parse(source)
    gates = [GateResult(key, title) for key, title in GATES]
    syntax, validity, golden, safety, coverage = gates
    for problem in result.problems:
        syntax.status = "fail"
        syntax.problems.append(problem)
    pack = result.pack
    if pack is None or syntax.status == "fail":
        for gate in gates[1:]:
            gate.status = "skipped"
            gate.details["why"] = "needs a pack that passes syntax and schema"
        return GateReport(sha256=_sha(source), gates=gates, pack=None)
    check_validity(pack, validity, jurisdiction=jurisdiction, code_check=check)
    if reference is not None and not getattr(reference, "national", True):
        validity.details["note"] = (
            f"No national {jurisdiction} schedule is loaded: codes were checked against "
            f"{getattr(reference, 'revision', 'the HS nomenclature')} at six digits; the "
            "national digits are unverified."
        )
    check_golden(pack, golden, reference)
    check_safety(pack, safety, reference, [*backtest.golden_cases(pack), *cases])
    check_coverage(pack, coverage, reference, check)
    return GateReport(sha256=pack.sha256, gates=gates, pack=pack)


def _sha(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()
