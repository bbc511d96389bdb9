"""Parse duty rate text from a tariff schedule into a computable form. Pure Python, no ORM.

A rate is ``Free``, ad valorem (``6.8%``), specific (``1.9¢/kg``, ``$1.02/head``, ``37.5¢/doz.``)
or compound (``2.8¢/kg + 5%``). Anything else (``4.4¢/kg on drained weight``, "The duty provided
in the applicable subheading + 25%") stays text and is flagged ``readable = False``: it is never
read as zero. Specific amounts are kept in US dollars.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

FREE = "free"
AD_VALOREM = "ad_valorem"
SPECIFIC = "specific"
COMPOUND = "compound"
TEXT = "text"
EMPTY = "empty"

_NUMBER = r"(\d+(?:\.\d+)?)"
_AD_VALOREM = re.compile(rf"^{_NUMBER}\s*%$")
_CENTS = re.compile(rf"^{_NUMBER}\s*¢\s*(?:/\s*(.+)|(each))$")
_DOLLARS = re.compile(r"^\$\s*(\d[\d,]*(?:\.\d+)?)\s*(?:/\s*(.+)|(each))$")
# Units a specific rate is expressed in, normalised; each maps to the quantity it needs.
UNITS = {
    "kg": "kg",
    "t": "t",
    "liter": "liter",
    "l": "liter",
    "pf.liter": "pf.liter",
    "pf. liter": "pf.liter",
    "head": "head",
    "doz.": "doz.",
    "doz": "doz.",
    "pr.": "pr.",
    "doz. pr.": "doz. pr.",
    "each": "each",
    "no.": "each",
    "gross": "gross",
    "bbl": "bbl",
    "m2": "m2",
    "m3": "m3",
    "clean kg": "clean kg",
    "1000": "1000",
    "thousand": "1000",
    "kg of total sugars": "kg of total sugars",
    "gram": "g",
    "g": "g",
}


@dataclass(frozen=True)
class SpecificPart:
    """An amount in US dollars per ``unit`` (normalised, see ``UNITS``)."""

    amount_usd: Decimal
    unit: str


@dataclass(frozen=True)
class Rate:
    text: str
    kind: str
    ad_valorem: Decimal | None = None  # percent, e.g. Decimal("6.8")
    specific: tuple[SpecificPart, ...] = ()
    reason: str = ""  # why the text could not be read, when kind == TEXT

    @property
    def readable(self) -> bool:
        return self.kind not in (TEXT, EMPTY)

    @property
    def units_needed(self) -> tuple[str, ...]:
        return tuple(part.unit for part in self.specific)


def _unit(raw: str) -> str | None:
    key = re.sub(r"\s+", " ", raw.strip().lower())
    return UNITS.get(key)


def _component(text: str) -> tuple[str, object] | None:
    """Read one ``+``-separated component, or return None when it is not a plain rate."""
    text = text.strip()
    if text.endswith("%."):
        text = text[:-1]
    if match := _AD_VALOREM.match(text):
        return "pct", Decimal(match.group(1))
    for pattern, scale in ((_CENTS, Decimal("0.01")), (_DOLLARS, Decimal(1))):
        if match := pattern.match(text):
            unit = "each" if match.group(3) else _unit(match.group(2))
            if unit is None:
                return None
            return "spec", SpecificPart(Decimal(match.group(1).replace(",", "")) * scale, unit)
    return None


def parse(text: str | None) -> Rate:
    """Parse one rate cell; unreadable text is returned with ``kind = TEXT`` and a reason."""
    raw = (text or "").strip()
    if not raw:
        return Rate(raw, EMPTY, reason="no rate given")
    if raw.rstrip(".").lower() == "free":
        return Rate(raw, FREE, ad_valorem=Decimal(0))
    percent: Decimal | None = None
    specific: list[SpecificPart] = []
    for part in raw.split("+"):
        read = _component(part)
        if read is None:
            return Rate(raw, TEXT, reason=f"cannot read {part.strip()!r} as a rate")
        kind, value = read
        if kind == "pct":
            if percent is not None:
                return Rate(raw, TEXT, reason="two ad valorem parts")
            percent = value
        else:
            specific.append(value)
    if specific and percent is not None:
        kind = COMPOUND
    elif specific:
        kind = SPECIFIC
    else:
        kind = AD_VALOREM
    return Rate(raw, kind, ad_valorem=percent, specific=tuple(specific))


_ADDITIONAL = re.compile(r"applicable subheading\s*(?:\+|plus)\s*" + _NUMBER + r"\s*%(?!\s*upon)")


def additional_percent(text: str) -> Decimal | None:
    """Read the ad valorem surcharge of a chapter 99 heading ("… applicable subheading + 25%")."""
    match = _ADDITIONAL.search(text or "")
    return Decimal(match.group(1)) if match else None


_PROGRAMMES = re.compile(r"\(([^)]*)\)")


def special_programmes(text: str) -> list[tuple[str, list[str]]]:
    """Split a special-rate cell into ``[(rate, [programme codes])]``, stray spaces removed.

    ``"Free (A+,AU,BH, CL) 2.5% (JP)"`` → ``[("Free", ["A+","AU","BH","CL"]), ("2.5%", ["JP"])]``.
    """
    out: list[tuple[str, list[str]]] = []
    pos = 0
    raw = text or ""
    for match in _PROGRAMMES.finditer(raw):
        rate = raw[pos : match.start()].strip()
        codes = [c.strip() for c in match.group(1).split(",") if c.strip()]
        out.append((rate, codes))
        pos = match.end()
    return out


def normalise_special(text: str) -> str:
    """Rewrite a special-rate cell with its programme lists cleaned of stray spaces."""
    parts = special_programmes(text)
    if not parts:
        return (text or "").strip()
    return " ".join(f"{rate} ({','.join(codes)})" for rate, codes in parts)
