"""Template helpers for showing audit events and snapshot values."""

import datetime as dt

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


@register.filter
def human_time(value) -> str:
    """A snapshot timestamp as people read it: 2026-12-07T14:05:09+00:00 → 7 December 2026,
    14:05 UTC. Text that is not a timestamp is shown as it is; none is "—"."""
    if value in (None, ""):
        return "—"
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(dt.UTC)
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


@register.filter
def label_in(code, labels) -> str:
    """The label of ``code`` in a mapping of ``audit.renderers.labels``; unknown codes are
    shown with spaces for underscores ("missing_material" → "missing material")."""
    if code in (None, ""):
        return ""
    return (labels or {}).get(code) or str(code).replace("_", " ")
