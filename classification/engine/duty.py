"""Duty for the selected code and its two best alternatives, and what choosing wrong would cost."""

from decimal import Decimal, InvalidOperation

from classification.engine.types import jsonable

ALTERNATIVES = 2


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def estimate(reference, code: str, facts) -> dict:
    """Return the schedule's duty estimate for ``code`` on these facts, as JSON-safe data."""
    found = reference.duty(
        code,
        origin=str(facts.get("country_of_origin") or ""),
        customs_value=_decimal(facts.get("customs_value")),
        currency=facts.get("currency") or None,
        quantity=_decimal(facts.get("quantity")),
        quantity_unit=facts.get("quantity_unit") or None,
        net_weight_kg=_decimal(facts.get("net_weight_kg")),
    )
    return jsonable(found)


def money(amount: Decimal, currency: str | None) -> str:
    text = f"{amount:,.2f}"
    return f"${text}" if currency in (None, "USD") else f"{currency} {text}"


def exposure(selected: dict, alternative: dict, label: str) -> str:
    """Say how much more or less ``alternative`` would cost than the selected code."""
    if not (selected.get("computable") and alternative.get("computable")):
        missing = selected if not selected.get("computable") else alternative
        why = "; ".join(missing.get("notes") or []) or "no total"
        return (
            f"{label}: no comparison, the duty of {missing.get('code')} is not computable ({why})."
        )
    diff = Decimal(alternative["total"]) - Decimal(selected["total"])
    currency = selected.get("currency")
    if diff == 0:
        return f"{label} would cost the same on this value."
    word = "more" if diff > 0 else "less"
    return f"{label} would cost {money(abs(diff), currency)} {word} on this value."


def compare(reference, facts, selected: str, alternatives: list[str], fmt) -> dict:
    """Return ``{"selected", "alternatives", "exposure"}`` for the selected and next codes."""
    if reference is None or not selected:
        return {"selected": None, "alternatives": [], "exposure": []}
    chosen = estimate(reference, selected, facts)
    others = [estimate(reference, code, facts) for code in alternatives[:ALTERNATIVES]]
    return {
        "selected": chosen,
        "alternatives": others,
        "exposure": [exposure(chosen, other, fmt(other["code"])) for other in others],
    }
