"""Template filters for decisions: codes, confidences and reason labels."""

from django import template

from catalog import facts as catalog_facts
from classification.engine import precedents
from rulepacks import routing
from tariffs import codes

register = template.Library()


@register.filter
def tariff_code(value) -> str:
    """8507600030 → 8507.60.00.30 (empty stays empty)."""
    return codes.fmt(str(value)) if value else ""


@register.filter
def percent(value) -> int:
    """0.8734 → 87 (for confidence bars)."""
    try:
        return max(0, min(100, round(float(value) * 100)))
    except (TypeError, ValueError):
        return 0


@register.filter
def reason_label(code: str) -> str:
    """no_candidate → "No candidate code"."""
    return routing.REASON_LABELS.get(code, str(code).replace("_", " "))


REJECTION_LABELS = {
    "lower_score": "Lower score",
    "tie": "Tie",
    "excluded_by_rule": "Excluded by a rule",
    "not_declarable_in_schedule": "Not declarable in the schedule",
}


@register.filter
def precedent_label(kind: str) -> str:
    """similar_meaning → "similar product by meaning"."""
    return precedents.KIND_LABELS.get(kind, str(kind).replace("_", " "))


@register.filter
def rejection_label(code: str) -> str:
    """lower_score → "Lower score"."""
    return REJECTION_LABELS.get(code, str(code).replace("_", " "))


@register.filter
def fact_label(key: str) -> str:
    """intended_use → "Intended use" (the catalog's own labels)."""
    return catalog_facts.LABELS.get(key, str(key).replace("_", " ").capitalize())


@register.filter
def fact_value(value) -> str:
    """Lists (materials) joined with "; ", everything else as text."""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


@register.filter
def ruling_kind(reference: str, jurisdiction: str) -> str:
    """NY N301511 (US) → "CBP New York ruling"."""
    from classification.review import rulings

    return rulings.ruling_kind(jurisdiction, reference)


@register.filter
def cut_period(text) -> str:
    """Drop a sentence's final full stop, for a text quoted inside another sentence."""
    return str(text or "").rstrip().removesuffix(".")
