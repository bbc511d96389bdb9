"""The pack evaluator: product facts + compiled pack → rule matches, restrictions, denied goods.

Pure (no ORM, no I/O), so a worker, a backtest, the gates and the impact preview run the same
code. ``evaluate`` reports what matched; ``run_pack`` is the pack-only classification path
(candidates from rules only, routed by ``rulepacks.routing.route``). The engine adds precedents
and nomenclature search as further candidate sources and calls ``route`` itself.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from rulepacks import routing
from rulepacks.format.compiled import TEXT_FACTS, CompiledPack, Conditions
from rulepacks.format.normalize import TextIndex


class ReferenceLookup(Protocol):
    """What rule packs need from a tariff schedule (``tariffs.reference.Reference`` fits)."""

    def is_declarable(self, code: str) -> bool: ...

    def line(self, code: str): ...

    def flags(self, code: str): ...

    def duty(self, code: str, **facts): ...


Matched = tuple[tuple[str, tuple[str, ...]], ...]  # ((condition key, (term, ...)), ...)


@dataclass(frozen=True)
class RuleMatch:
    rule_id: str
    code: str
    confidence: float
    risk: str
    rationale: str
    matched: Matched


@dataclass(frozen=True)
class RestrictionHit:
    id: str
    action: str
    risk: str
    reason: str
    matched: Matched


@dataclass(frozen=True)
class DeniedHit:
    id: str
    reason: str
    matched: Matched
    risk: str = routing.HIGH


@dataclass(frozen=True)
class PackEvaluation:
    matches: tuple[RuleMatch, ...]  # best first
    restrictions: tuple[RestrictionHit, ...]
    denied: tuple[DeniedHit, ...]


@dataclass(frozen=True)
class PackOutcome:
    """The pack-only classification of one product."""

    evaluation: PackEvaluation
    routing: routing.Routing

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(m.rule_id for m in self.evaluation.matches if m.code == self.routing.code)


class Facts:
    """Product facts with their text indexes built lazily, once per condition key."""

    __slots__ = ("_indexes", "data")

    def __init__(self, data: Mapping):
        self.data = data
        self._indexes: dict[str, TextIndex] = {}

    def index(self, key: str) -> TextIndex:
        found = self._indexes.get(key)
        if found is None:
            texts: list[str] = []
            for fact in TEXT_FACTS[key]:
                value = self.data.get(fact)
                if isinstance(value, list | tuple):
                    texts.extend(str(v) for v in value)
                elif value:
                    texts.append(str(value))
            found = self._indexes[key] = TextIndex(texts)
        return found


def _value(facts: Mapping) -> Decimal | None:
    try:
        return Decimal(str(facts.get("customs_value"))) if facts.get("customs_value") else None
    except InvalidOperation:
        return None


def match_conditions(when: Conditions, facts: Facts, codes: Sequence[str] = ()) -> Matched | None:
    """Return the terms that matched per condition key, or ``None`` when a condition fails."""
    data = facts.data
    origin = (data.get("country_of_origin") or "").upper()
    if when.origin_any and origin not in when.origin_any:
        return None
    if origin and origin in when.origin_none:
        return None
    if when.value_min is not None or when.value_max is not None:
        value = _value(data)
        if value is None or (when.value_currency and data.get("currency") != when.value_currency):
            return None
        if when.value_min is not None and value < when.value_min:
            return None
        if when.value_max is not None and value > when.value_max:
            return None
    if when.codes and not any(code.startswith(when.codes) for code in codes if code):
        return None
    matched = []
    for cond in when.text:
        grams = facts.index(cond.key).grams
        if cond.none and not grams.isdisjoint(cond.none_words):
            return None
        if cond.all and not cond.all_words <= grams:
            return None
        if cond.any:
            if grams.isdisjoint(cond.any_words):
                return None
            hits = tuple(t.text for t in cond.any if t.words in grams)
        else:
            hits = ()
        if hits or cond.all:
            matched.append((cond.key, tuple(t.text for t in cond.all) + hits))
    if when.origin_any:
        matched.append(("origin", (origin,)))
    return tuple(matched)


def evaluate(
    pack: CompiledPack, facts: Mapping | Facts, *, codes: Sequence[str] | None = None
) -> PackEvaluation:
    """Return the rules, restrictions and denied goods of ``pack`` that match ``facts``.

    Restrictions with code conditions are checked against ``codes``; by default the codes of
    the best rule match and the declared code.
    """
    view = facts if isinstance(facts, Facts) else Facts(facts)
    matches = []
    for rule in pack.rules:
        matched = match_conditions(rule.when, view)
        if matched is not None:
            matches.append(
                RuleMatch(rule.id, rule.code, rule.confidence, rule.risk, rule.rationale, matched)
            )
    matches.sort(key=lambda m: (-m.confidence, -len(m.code), m.code, m.rule_id))
    if codes is None:
        codes = tuple(
            c
            for c in (matches[0].code if matches else "", view.data.get("declared_code") or "")
            if c
        )
    restrictions = tuple(
        RestrictionHit(r.id, r.action, r.risk, r.reason, matched)
        for r in pack.restrictions
        if (matched := match_conditions(r.when, view, codes)) is not None
    )
    denied = tuple(
        DeniedHit(d.id, d.reason, matched)
        for d in pack.denied
        if (matched := match_conditions(d.when, view, codes)) is not None
    )
    return PackEvaluation(tuple(matches), restrictions, denied)


def candidates(matches: Sequence[RuleMatch]) -> list[routing.Candidate]:
    """Return one candidate per code: its best rule's confidence and risk, all its rule ids."""
    by_code: dict[str, routing.Candidate] = {}
    for m in matches:  # best first, so the first match of a code sets its confidence
        found = by_code.get(m.code)
        if found is None:
            by_code[m.code] = routing.Candidate(m.code, m.confidence, m.risk, (m.rule_id,))
        else:
            by_code[m.code] = routing.Candidate(
                m.code, found.confidence, found.risk, (*found.sources, m.rule_id)
            )
    return routing.rank(by_code.values())


def run_pack(pack: CompiledPack, facts: Mapping, reference: ReferenceLookup | None) -> PackOutcome:
    """Classify one product with the pack alone and route the result (DESIGN §5)."""
    view = Facts(facts)
    evaluation = evaluate(pack, view)
    found = candidates(evaluation.matches)
    best = found[0].code if found else ""
    flags = reference.flags(best) if (reference is not None and best) else None
    origin = (facts.get("country_of_origin") or "").upper()
    result = routing.route(
        candidates=found,
        min_confidence=pack.thresholds.min_confidence,
        tie_margin=pack.thresholds.tie_margin,
        missing=routing.missing_facts(facts),
        denied=bool(evaluation.denied),
        restrictions=evaluation.restrictions,
        flags=flags,
        agency_review=pack.agency_review,
        high_risk_route=bool(origin) and origin in pack.high_risk_origins,
        vague=routing.is_vague(facts.get("description")),
    )
    return PackOutcome(evaluation, result)
