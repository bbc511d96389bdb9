"""Turn ``rulepacks.routing`` reason codes into messages a broker can act on, with detail."""

from dataclasses import dataclass

from classification.engine.types import Reason
from rulepacks import routing
from rulepacks.format.normalize import tokens
from tariffs.codes import fmt

# What a broker needs when a description is too vague, per fact, in the order they would ask.
NEEDED_FACTS = {
    "description": "what the article is and what it does (e.g. 'knitted cotton pullover')",
    "materials": "what it is made of, with the main material first",
    "intended_use": "what it is used for and by whom",
    "product_type": "the kind of product (finished article, part of a named machine, kit…)",
}


def _vague(value) -> bool:
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    words = [w for w in tokens(str(value or "")) if w not in routing.GENERIC_WORDS]
    return not words


def vague_detail(facts) -> dict:
    """Name the facts a broker would need to classify a vaguely described product."""
    description = str(facts.get("description") or "")
    needed = ["description"] + [
        k for k in ("materials", "intended_use", "product_type") if _vague(facts.get(k))
    ]
    meaningful = sorted({w for w in tokens(description) if w not in routing.GENERIC_WORDS})
    return {
        "description": description,
        "meaningful_words": meaningful,
        "minimum_words": routing.VAGUE_MIN_WORDS,
        "needed": needed,
        "questions": [NEEDED_FACTS[k] for k in needed],
    }


def _matched(hits) -> list[dict]:
    return [
        {
            "id": h.id,
            "reason": h.reason,
            "risk": h.risk,
            "action": getattr(h, "action", "block"),
            "matched": {k: list(t) for k, t in h.matched},
        }
        for h in hits
    ]


@dataclass(frozen=True)
class _Context:
    routed: object
    facts: object
    evaluation: object
    flags: object
    min_confidence: float
    tie_margin: float
    agency_policy: str
    conflicts: tuple = ()


def _no_pack(c: _Context):
    destination = c.facts.get("destination") or "the destination"
    return f"No active rule pack for {destination}: a compliance lead must activate one.", {}


def _incomplete(c: _Context):
    missing = list(routing.missing_facts(c.facts))
    return f"{routing.REASON_LABELS[routing.INCOMPLETE_FACTS]}: {', '.join(missing)}.", {
        "missing": missing
    }


def _denied(c: _Context):
    hits = c.evaluation.denied
    return "Denied goods: " + "; ".join(d.reason for d in hits), {"entries": _matched(hits)}


def _no_candidate(c: _Context):
    return "No rule, precedent or schedule text proposed a declarable code.", {}


def _low_confidence(c: _Context):
    score, minimum = c.routed.confidence, c.min_confidence
    message = f"Confidence {score:.2f} is below the pack's minimum {minimum:.2f}."
    return message, {"confidence": score, "minimum": minimum}


def _tie(c: _Context):
    # The margin compares evidence scores, not the calibrated confidence of the best.
    best, runner = c.routed, c.routed.runner_up
    message = (
        f"Runner-up {fmt(runner.code)} (evidence score {runner.confidence:.2f}) is within "
        f"{c.tie_margin:.2f} of {fmt(best.code)} ({best.score:.2f})."
    )
    margin = round(best.score - runner.confidence, 4)
    return message, {
        "code": best.code,
        "runner_up": runner.code,
        "margin": margin,
        "tie_margin": c.tie_margin,
    }


def _restricted(c: _Context):
    hits = c.evaluation.restrictions
    return "Restricted goods: " + "; ".join(r.reason for r in hits), {"entries": _matched(hits)}


def _agency(c: _Context):
    flags = c.flags
    triggered = list(routing.agency_flags(flags.pga, c.agency_policy))
    names = ", ".join(flags.agencies) or ", ".join(flags.pga)
    message = (
        f"{fmt(c.routed.code)} carries partner government agency flags "
        f"{', '.join(triggered)} ({names})."
    )
    detail = {
        "pga": list(flags.pga),
        "review_flags": triggered,
        "policy": c.agency_policy,
        "agencies": list(flags.agencies),
    }
    return message, detail


def _trade_remedy(c: _Context):
    detail = {
        "antidumping": bool(c.flags.antidumping),
        "countervailing": bool(c.flags.countervailing),
    }
    kinds = " and ".join(
        name
        for name, on in (
            ("anti-dumping", detail["antidumping"]),
            ("countervailing", detail["countervailing"]),
        )
        if on
    )
    message = f"{fmt(c.routed.code)} is flagged for {kinds} duty cases: check the producer."
    return message, detail


def _high_risk(c: _Context):
    origin = str(c.facts.get("country_of_origin") or "").upper()
    return f"Origin {origin} is a high-risk origin in this pack.", {"origin": origin}


def _vague_description(c: _Context):
    detail = vague_detail(c.facts)
    message = "Description too vague to classify; a broker needs " + "; ".join(detail["questions"])
    return message + ".", detail


def _conflicting(c: _Context):
    message = " ".join(x["message"] for x in c.conflicts) or "Sources contradict each other."
    return message + " A broker must decide which holds.", {"conflicts": list(c.conflicts)}


_EXPLAIN = {
    routing.NO_ACTIVE_RULE_PACK: _no_pack,
    routing.INCOMPLETE_FACTS: _incomplete,
    routing.DENIED_GOODS: _denied,
    routing.NO_CANDIDATE: _no_candidate,
    routing.LOW_CONFIDENCE: _low_confidence,
    routing.TIE: _tie,
    routing.RESTRICTED_GOODS: _restricted,
    routing.AGENCY_REQUIREMENTS: _agency,
    routing.TRADE_REMEDY: _trade_remedy,
    routing.HIGH_RISK_ROUTE: _high_risk,
    routing.VAGUE_DESCRIPTION: _vague_description,
    routing.CONFLICTING_EVIDENCE: _conflicting,
}


def explain(
    routed, *, facts, evaluation, flags, thresholds, agency_policy="required", conflicts=()
) -> tuple[Reason, ...]:
    """Return one ``Reason`` per routing reason code, in the routing's order."""
    context = _Context(
        routed, facts, evaluation, flags, *thresholds, agency_policy, tuple(conflicts)
    )
    out = []
    for code in routed.reasons:
        handler = _EXPLAIN.get(code)
        if handler is None:  # a reason added to routing later still reaches the decision
            out.append(Reason(code, routing.REASON_LABELS.get(code, code), {}))
            continue
        message, detail = handler(context)
        out.append(Reason(code, message, detail))
    return tuple(out)


def summary(routed, best, reasons, fmt) -> str:
    """One paragraph: outcome, the code and its support, and every reason."""
    if best is None:
        head = "No candidate code."
    else:
        kinds = ", ".join(dict.fromkeys(e.kind for e in best.sources))
        head = f"Best candidate {fmt(best.code)} at {best.score:.2f} (from {kinds})."
    outcome = routed.outcome.replace("_", " ")
    tail = " ".join(r.message for r in reasons)
    return f"{outcome.capitalize()}. {head} {tail}".strip()
