"""Template filters for decisions: codes, confidences and reason labels."""

from django import template

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
