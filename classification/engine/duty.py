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


def duty_facts(facts) -> dict:
    """The keyword arguments ``Reference.duty`` takes, read from product facts."""
    return {
        "origin": str(facts.get("country_of_origin") or ""),
        "customs_value": _decimal(facts.get("customs_value")),
        "currency": facts.get("currency") or None,
        "quantity": _decimal(facts.get("quantity")),
        "quantity_unit": facts.get("quantity_unit") or None,
        "net_weight_kg": _decimal(facts.get("net_weight_kg")),
    }


def estimate(reference, code: str, arguments: dict) -> dict:
    """Return the schedule's duty estimate for ``code`` as JSON-safe data."""
    found = reference.duty(code, **arguments)
    return {
        "code": found.code,
        "computable": found.computable,
        "total": None if found.total is None else str(found.total),
        "currency": found.currency,
        "lines": [jsonable(line) for line in getattr(found, "lines", ())],
        "notes": list(found.notes),
        "preferences": list(getattr(found, "preferences", ())),
    }


def money(amount: Decimal, currency: str | None) -> str:
    text = f"{amount:,.2f}"
    return f"${text}" if currency in (None, "USD") else f"{currency} {text}"


def exposure(selected: dict, alternative: dict, fmt) -> str:
    """Say how much more or less ``alternative`` would cost than the selected code."""
    label = fmt(alternative["code"])
    if not (selected.get("computable") and alternative.get("computable")):
        missing = selected if not selected.get("computable") else alternative
        why = "; ".join(missing.get("notes") or []) or "no total"
        return (
            f"{label}: no comparison, the duty of {fmt(missing['code'])} is not computable ({why})."
        )
    diff = Decimal(alternative["total"]) - Decimal(selected["total"])
    currency = selected.get("currency")
    if diff == 0:
        return f"{label} would cost the same on this value."
    word = "more" if diff > 0 else "less"
    return f"{label} would cost {money(abs(diff), currency)} {word} on this value."


def compare(reference, facts, selected: str, alternatives: list[str], fmt) -> dict:
    """Return ``{"selected", "alternatives", "exposure", "declared"}`` for the selected code,
    the next two, and the importer's declared code when it is another declarable line (what
    keeping the old code would cost or save is what a broker is asked first)."""
    empty = {"selected": None, "alternatives": [], "exposure": [], "declared": None}
    if reference is None or not selected:
        return empty
    arguments = duty_facts(facts)
    chosen = estimate(reference, selected, arguments)
    others = [estimate(reference, code, arguments) for code in alternatives[:ALTERNATIVES]]
    result = {
        "selected": chosen,
        "alternatives": others,
        "exposure": [exposure(chosen, other, fmt) for other in others],
        "declared": None,
    }
    declared = str(facts.get("declared_code") or "")
    if declared and declared != selected and reference.is_declarable(declared):
        found = estimate(reference, declared, arguments)
        message = exposure(chosen, found, fmt).replace(
            fmt(declared), f"The declared code {fmt(declared)}", 1
        )
        result["declared"] = {"estimate": found, "exposure": message}
    return result
