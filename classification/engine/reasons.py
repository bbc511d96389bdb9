"""Turn ``rulepacks.routing`` reason codes into messages a broker can act on, with detail."""

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


def explain(routed, *, facts, evaluation, flags, pack, thresholds, reference) -> tuple[Reason, ...]:
    """Return one ``Reason`` per routing reason code, in the routing's order."""
    min_confidence, tie_margin = thresholds
    destination = facts.get("destination") or "the destination"
    out = []
    for code in routed.reasons:
        label = routing.REASON_LABELS[code]
        detail: dict = {}
        if code == routing.NO_ACTIVE_RULE_PACK:
            message = f"No active rule pack for {destination}: a compliance lead must activate one."
        elif code == routing.INCOMPLETE_FACTS:
            detail = {"missing": list(routing.missing_facts(facts))}
            message = f"{label}: {', '.join(detail['missing'])}."
        elif code == routing.DENIED_GOODS:
            detail = {"entries": _matched(evaluation.denied)}
            message = "Denied goods: " + "; ".join(d.reason for d in evaluation.denied)
        elif code == routing.NO_CANDIDATE:
            message = "No rule, precedent or schedule text proposed a declarable code."
        elif code == routing.LOW_CONFIDENCE:
            detail = {"confidence": routed.confidence, "minimum": min_confidence}
            message = (
                f"Confidence {routed.confidence:.2f} is below the pack's minimum "
                f"{min_confidence:.2f}."
            )
        elif code == routing.TIE:
            runner = routed.runner_up
            detail = {
                "code": routed.code,
                "runner_up": runner.code,
                "margin": round(routed.confidence - runner.confidence, 4),
                "tie_margin": tie_margin,
            }
            message = (
                f"Runner-up {fmt(runner.code)} ({runner.confidence:.2f}) is within "
                f"{tie_margin:.2f} of {fmt(routed.code)} ({routed.confidence:.2f})."
            )
        elif code == routing.RESTRICTED_GOODS:
            detail = {"entries": _matched(evaluation.restrictions)}
            message = "Restricted goods: " + "; ".join(r.reason for r in evaluation.restrictions)
        elif code == routing.AGENCY_REQUIREMENTS:
            detail = {"pga": list(flags.pga), "agencies": list(flags.agencies)}
            names = ", ".join(flags.agencies) or ", ".join(flags.pga)
            message = f"{fmt(routed.code)} carries partner government agency flags ({names})."
        elif code == routing.TRADE_REMEDY:
            detail = {
                "antidumping": bool(flags.antidumping),
                "countervailing": bool(flags.countervailing),
            }
            kinds = [
                n
                for n, on in (
                    ("anti-dumping", flags.antidumping),
                    ("countervailing", flags.countervailing),
                )
                if on
            ]
            message = (
                f"{fmt(routed.code)} is flagged for {' and '.join(kinds)} duty cases: "
                "check the producer."
            )
        elif code == routing.HIGH_RISK_ROUTE:
            detail = {"origin": str(facts.get("country_of_origin") or "").upper()}
            message = f"Origin {detail['origin']} is a high-risk origin in this pack."
        elif code == routing.VAGUE_DESCRIPTION:
            detail = vague_detail(facts)
            message = (
                "Description too vague to classify; a broker needs "
                + "; ".join(detail["questions"])
                + "."
            )
        else:  # a reason added to routing later still reaches the decision
            message = label
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
