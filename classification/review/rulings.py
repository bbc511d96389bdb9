"""Ruling references: the binding ruling a broker cites when overriding the engine's code.

A reference is checked against the forms the customs authority of the decision's jurisdiction
issues, and stored in one spelling (upper case, the collection prefix CBP's citations use), so
that the decision page, the certificate, the export and the webhooks all show the same text.

- US (CBP rulings, as cited from CROSS): New York rulings ``NY N301511`` (``N`` and six digits),
  older ``NY 812345`` and ``NY A80123`` (a letter and five digits); Headquarters rulings
  ``HQ H301234`` and ``HQ W968123`` (a letter and six digits) and older ``HQ 967890``. CROSS lists
  ``N…`` and ``H…`` numbers without the collection, so ``N301511`` becomes ``NY N301511``; six
  digits alone may be either collection and are refused.
- EU (Binding Tariff Information, as listed in EBTI): each member state numbers its own BTIs, so
  only the shape is checked: the issuing state's code (``DE``, ``FR``, ``NL``…, ``XI`` for
  Northern Ireland), then letters, digits and ``/ . -`` or spaces, with at least four digits.
- GB (HMRC Advance Tariff Rulings): the nine-digit ruling number of HMRC's "Search for Advance
  Tariff Rulings" service (``600003124``), optionally written with ``GB`` before it.

These are shape checks: a well-formed reference may still not exist. Other jurisdictions accept
any reference of letters, digits and separators with at least four digits.
"""

import re
from dataclasses import dataclass

# Member states issuing BTIs (Greece as EL or GR) and XI, Northern Ireland (issued by HMRC).
EU_STATES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
)  # fmt: skip


@dataclass(frozen=True)
class RulingForm:
    pattern: re.Pattern
    spelling: str  # a format string over the pattern's named groups
    example: str
    kind: str


def _form(pattern: str, spelling: str, example: str, kind: str) -> RulingForm:
    return RulingForm(re.compile(pattern), spelling, example, kind)


CBP_NY = "CBP New York ruling"
CBP_HQ = "CBP Headquarters ruling"
FORMS: dict[str, tuple[RulingForm, ...]] = {
    "US": (
        _form(r"^(?:NY ?)?(?P<n>N\d{6})$", "NY {n}", "NY N301511", CBP_NY),
        _form(r"^NY ?(?P<n>[A-Z]\d{5}|\d{6})$", "NY {n}", "NY 812345, NY A80123", CBP_NY),
        _form(r"^(?:HQ ?)?(?P<n>[HW]\d{6})$", "HQ {n}", "HQ H301234, HQ W968123", CBP_HQ),
        _form(r"^HQ ?(?P<n>\d{6})$", "HQ {n}", "HQ 967890", CBP_HQ),
    ),
    "EU": (
        _form(
            r"^(?P<n>(?:" + "|".join(EU_STATES) + r")[ -]?[A-Z0-9][A-Z0-9/.\- ]{2,35}[A-Z0-9])$",
            "{n}",
            "DE12345/21-1 (the issuing member state's code first)",
            "EU Binding Tariff Information",
        ),
    ),
    "GB": (
        _form(
            r"^(?P<p>GB)? ?(?P<n>\d{9})$",
            "{p}{n}",
            "600003124 or GB600003124",
            "UK Advance Tariff Ruling",
        ),
    ),
}
GENERIC = _form(r"^(?P<n>[A-Z0-9][A-Z0-9/.\- ]{2,38}[A-Z0-9])$", "{n}", "", "Ruling")
MIN_DIGITS = 4


class RulingError(ValueError):
    """The text is not a ruling reference of the jurisdiction; the message lists its forms."""


def accepted_forms(jurisdiction: str) -> str:
    """Say which references a decision of ``jurisdiction`` accepts (for messages and help)."""
    forms = FORMS.get(jurisdiction)
    if not forms:
        return "letters and digits (with / . - or spaces), at least four digits"
    return "; ".join(f"{f.kind}: {f.example}" for f in forms)


def ruling_normalize(jurisdiction: str, text: str) -> str:
    """Return ``text`` as a ruling reference of ``jurisdiction`` in its stored spelling.

    Empty text stays empty. Raises ``RulingError`` naming the accepted forms otherwise.
    """
    typed = " ".join((text or "").upper().split())
    if not typed:
        return ""
    for form in FORMS.get(jurisdiction, (GENERIC,)):
        match = form.pattern.match(typed)
        if match and sum(c.isdigit() for c in typed) >= MIN_DIGITS:
            groups = {k: v or "" for k, v in match.groupdict().items()}
            return form.spelling.format(**groups)
    hint = ""
    if jurisdiction == "US" and re.fullmatch(r"\d{6}", typed):
        hint = " Six digits alone may be a New York or a Headquarters ruling: write NY or HQ first."
    raise RulingError(
        f"“{text.strip()}” is not a ruling reference for {jurisdiction}. Accepted: "
        f"{accepted_forms(jurisdiction)}.{hint} Cite a ruling of another jurisdiction in the note."
    )


def ruling_kind(jurisdiction: str, reference: str) -> str:
    """Name what a stored reference is (“CBP New York ruling”), or “Ruling” when unknown."""
    for form in FORMS.get(jurisdiction, ()):
        if form.pattern.match(reference or ""):
            return form.kind
    return "Ruling"
