"""Template helpers for showing audit events and snapshot values."""

from django import template

from audit import canonical

register = template.Library()


def _text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return canonical.dumps(value)


@register.filter
def event_fields(data) -> list[dict]:
    """Return an event's data as rows; ``[old, new]`` pairs become changes (old → new)."""
    rows = []
    for key in sorted(data or {}):
        value = data[key]
        if isinstance(value, list) and len(value) == 2:
            rows.append(
                {"field": key, "old": _text(value[0]), "new": _text(value[1]), "change": True}
            )
        else:
            rows.append({"field": key, "value": _text(value), "change": False})
    return rows


@register.filter
def as_text(value) -> str:
    """Render a snapshot value (list, dict, number, None) as readable text."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value) or "—"
    return _text(value)


@register.filter
def code_dots(code) -> str:
    """Format a digit code for display: 8471300100 → 8471.30.01.00."""
    code = str(code or "")
    if not code.isdigit() or len(code) <= 4:
        return code
    head, rest = code[:4], code[4:]
    return ".".join([head, *(rest[i : i + 2] for i in range(0, len(rest), 2))])
