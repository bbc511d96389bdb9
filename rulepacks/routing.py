"""Outcome routing (DESIGN §5): the one place that turns candidates and signals into an outcome.

Pure and shared: the pack-only path (gates, backtests, impact preview) and the classification
engine call ``route`` with their candidates. Thresholds come from the rule pack, never from here.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rulepacks.format.compiled import REQUIRED_FACTS
from rulepacks.format.normalize import tokens

CLASSIFIED = "classified"
NEEDS_REVIEW = "needs_review"
BLOCKED = "blocked"
OUTCOMES = (CLASSIFIED, NEEDS_REVIEW, BLOCKED)

LOW, MEDIUM, HIGH = "low", "medium", "high"
RISK_BANDS = (LOW, MEDIUM, HIGH)

# Reason codes, exactly as DESIGN §5 names them.
NO_CANDIDATE = "no_candidate"
DENIED_GOODS = "denied_goods"
NO_ACTIVE_RULE_PACK = "no_active_rule_pack"
INCOMPLETE_FACTS = "incomplete_facts"
LOW_CONFIDENCE = "low_confidence"
TIE = "tie"
RESTRICTED_GOODS = "restricted_goods"
AGENCY_REQUIREMENTS = "agency_requirements"
TRADE_REMEDY = "trade_remedy"
HIGH_RISK_ROUTE = "high_risk_route"
VAGUE_DESCRIPTION = "vague_description"
CONFLICTING_EVIDENCE = "conflicting_evidence"

BLOCKING_REASONS = (NO_CANDIDATE, DENIED_GOODS, NO_ACTIVE_RULE_PACK, INCOMPLETE_FACTS)
REVIEW_REASONS = (
    LOW_CONFIDENCE,
    TIE,
    RESTRICTED_GOODS,
    AGENCY_REQUIREMENTS,
    TRADE_REMEDY,
    HIGH_RISK_ROUTE,
    VAGUE_DESCRIPTION,
    CONFLICTING_EVIDENCE,
)
REASON_LABELS = {
    NO_CANDIDATE: "No candidate code",
    DENIED_GOODS: "Denied goods",
    NO_ACTIVE_RULE_PACK: "No active rule pack for the destination",
    INCOMPLETE_FACTS: "Required facts missing",
    LOW_CONFIDENCE: "Confidence below the pack's minimum",
    TIE: "Runner-up within the tie margin",
    RESTRICTED_GOODS: "Restricted goods",
    AGENCY_REQUIREMENTS: "Partner government agency requirements",
    TRADE_REMEDY: "Anti-dumping or countervailing duty",
    HIGH_RISK_ROUTE: "High-risk origin or destination",
    VAGUE_DESCRIPTION: "Description too vague to classify",
    CONFLICTING_EVIDENCE: "Sources contradict each other",
}

# A description needs this many distinct meaningful words to be classifiable.
VAGUE_MIN_WORDS = 3
GENERIC_WORDS = frozenset(
    tokens(
        "a an and the of for with in on to by item items goods product products thing things "
        "stuff misc miscellaneous various assorted other others part parts accessory "
        "accessories sample samples general merchandise set kit unit piece new"
    )
)


@dataclass(frozen=True)
class Candidate:
    """A code proposed by some source (rule ids, precedent ids, "search") with its confidence."""

    code: str
    confidence: float
    risk: str = LOW
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Routing:
    outcome: str
    reasons: tuple[str, ...]
    risk: str
    code: str  # the best candidate's code ("" when there is none); advice even when blocked
    confidence: float
    runner_up: Candidate | None = None
    score: float = 0.0  # the best candidate's evidence score, which the tie margin compares


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Order candidates best first: confidence, then the more specific code, then the code."""
    return sorted(candidates, key=lambda c: (-c.confidence, -len(c.code), c.code))


def raise_risk(*bands: str) -> str:
    """Return the highest of ``bands`` (``low`` when none)."""
    return max(bands, key=RISK_BANDS.index, default=LOW)


def missing_facts(facts: Mapping) -> tuple[str, ...]:
    """Return the required facts that are absent or empty, in ``REQUIRED_FACTS`` order."""
    return tuple(k for k in REQUIRED_FACTS if not facts.get(k))


def is_vague(description: str | None) -> bool:
    """Whether a description has fewer than ``VAGUE_MIN_WORDS`` meaningful distinct words."""
    words = {w for w in tokens(description or "") if w not in GENERIC_WORDS and not w.isdigit()}
    return len(words) < VAGUE_MIN_WORDS


def agency_flags(pga, policy: str = "required") -> tuple[str, ...]:
    """Return the PGA flags (``FD2``, ``AL1``…) that send a product to review under ``policy``.

    CBP flag codes end in a digit: odd means the agency's data *may be* required, even that it
    *is* required (FD1/FD2, FD3/FD4, AL1/AL2, EP7/EP8, FW1/FW2). ``"required"`` reviews only
    the latter (and, to be safe, codes without a digit such as ``AQX``); ``"any"`` reviews all.
    """
    codes = tuple(str(code) for code in (pga or ()))
    if policy == "any":
        return codes
    return tuple(c for c in codes if not c[-1:].isdigit() or int(c[-1]) % 2 == 0)


def route(
    *,
    candidates: Sequence[Candidate],
    min_confidence: float,
    tie_margin: float,
    missing: Sequence[str] = (),
    denied: bool = False,
    restrictions: Sequence = (),
    flags=None,
    agency_review: str = "required",
    has_pack: bool = True,
    high_risk_route: bool = False,
    vague: bool = False,
    conflicting: bool = False,
    confidence: float | None = None,
) -> Routing:
    """Return the outcome, every reason that holds, the risk band and the selected code.

    ``restrictions`` are objects with ``action`` (``review`` | ``block``) and ``risk``;
    ``flags`` has ``pga``, ``antidumping`` and ``countervailing`` (``tariffs.reference.Flags``);
    ``agency_review`` is the pack's policy for PGA flags (see ``agency_flags``).
    Denied goods are always high risk; every blocked outcome is high risk. ``confidence`` is
    the calibrated probability that the best candidate is right (the engine's); without it the
    best candidate's score stands for it. Ties compare the candidates' scores either way.
    """
    ranked = rank(candidates)
    best = ranked[0] if ranked else None
    runner = next((c for c in ranked[1:] if best and c.code != best.code), None)
    blocking: list[str] = []
    review: list[str] = []
    if not has_pack:
        blocking.append(NO_ACTIVE_RULE_PACK)
    if missing:
        blocking.append(INCOMPLETE_FACTS)
    if denied:
        blocking.append(DENIED_GOODS)
    if best is None:
        blocking.append(NO_CANDIDATE)
    risk = best.risk if best else HIGH
    if best is not None and confidence is None:
        confidence = best.confidence
    if best is not None and confidence < min_confidence:
        review.append(LOW_CONFIDENCE)
    if runner is not None and best.confidence - runner.confidence <= tie_margin + 1e-9:
        review.append(TIE)
    blocked_by_restriction = any(r.action == "block" for r in restrictions)
    if restrictions:
        review.append(RESTRICTED_GOODS)
        risk = raise_risk(risk, *(r.risk for r in restrictions))
    if flags is not None and agency_flags(flags.pga, agency_review):
        review.append(AGENCY_REQUIREMENTS)
    if flags is not None and (flags.antidumping or flags.countervailing):
        review.append(TRADE_REMEDY)
    if high_risk_route:
        review.append(HIGH_RISK_ROUTE)
        risk = HIGH
    if vague:
        review.append(VAGUE_DESCRIPTION)
    if conflicting:
        review.append(CONFLICTING_EVIDENCE)
    if review:
        risk = raise_risk(risk, MEDIUM)
    if blocking or blocked_by_restriction:
        outcome, risk = BLOCKED, HIGH
    else:
        outcome = NEEDS_REVIEW if review else CLASSIFIED
    return Routing(
        outcome=outcome,
        reasons=tuple(blocking + review),
        risk=risk,
        code=best.code if best else "",
        confidence=confidence if best else 0.0,
        runner_up=runner,
        score=best.confidence if best else 0.0,
    )
