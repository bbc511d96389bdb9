"""Template filters for decisions: codes, confidences and reason labels."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

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


# Facts whose words a candidate's heading may echo (the product's own wording).
_WORD_FACTS = ("name", "description", "materials", "intended_use", "product_type")
_STOP = frozenset(
    [
        "and",
        "or",
        "the",
        "of",
        "for",
        "with",
        "without",
        "in",
        "on",
        "to",
        "by",
        "other",
        "not",
        "than",
    ]
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def product_words(facts) -> frozenset:
    """The stems of the product's meaningful words (name, description, materials, use, type)."""
    words = set()
    for key in _WORD_FACTS:
        value = (facts or {}).get(key)
        text = " ".join(map(str, value)) if isinstance(value, list | tuple) else str(value or "")
        words.update(_stem(w) for w in _WORD.findall(text) if w.lower() not in _STOP)
    return frozenset(w for w in words if len(w) > 2)


def _marked(text: str, words) -> str:
    """Escape ``text`` and wrap the product's words in <mark>."""
    out, end = [], 0
    for match in _WORD.finditer(text):
        if _stem(match.group()) in words:
            out += [escape(text[end : match.start()]), f"<mark>{escape(match.group())}</mark>"]
            end = match.end()
    out.append(escape(text[end:]))
    return mark_safe("".join(out))  # noqa: S308 (every piece escaped above)


@register.inclusion_tag("classification/_candidate_text.html")
def candidate_text(description: str, facts) -> dict:
    """A candidate's heading told apart from its neighbours: its own line and its parent first
    (the product's words marked), the full path on demand."""
    parts = [p.strip() for p in str(description or "").split(" › ") if p.strip()]
    words = product_words(facts)
    return {
        "line": _marked(parts[-1], words) if parts else "",
        "parent": _marked(parts[-2], words) if len(parts) > 1 else "",
        "full": _marked(" › ".join(parts), words) if len(parts) > 2 else "",
    }


@register.filter
def facts_in_order(facts) -> list:
    """The facts that have a value, as (key, label, value) in the catalog's order, then any
    others: "Country of origin", not "country_of_origin"."""
    facts = facts or {}
    keys = [k for k in catalog_facts.FACT_KEYS if k in facts]
    keys += sorted(k for k in facts if k not in catalog_facts.LABELS)
    return [
        (k, fact_label(k), fact_value(facts[k])) for k in keys if facts[k] not in (None, "", [])
    ]


@register.filter
def fact_list(keys) -> str:
    """["materials", "product_type"] → "materials, product type"."""
    labels = [fact_label(k) for k in keys or []]
    return ", ".join(label if label.isupper() else label.lower() for label in labels)


@register.filter
def action_label(kind: str) -> str:
    """accept → "Accepted" (the review action's own label)."""
    from classification.models import ActionKind

    return dict(ActionKind.choices).get(kind, str(kind).replace("_", " "))
