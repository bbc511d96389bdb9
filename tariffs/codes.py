"""Tariff codes as digit strings: normalising user input and formatting for display. Pure."""

import re
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s.\-]+")
# Lengths a code may have: HS chapter, heading, subheading, national 8 and 10 digits.
VALID_LENGTHS = (2, 4, 6, 8, 10)


@dataclass(frozen=True)
class Normalised:
    digits: str
    error: str = ""


def normalise(raw: str | None) -> Normalised:
    """Strip dots, spaces and dashes; refuse anything else that is not a digit."""
    text = _SEPARATORS.sub("", (raw or "").strip())
    if not text:
        return Normalised("", "Enter a tariff code.")
    if not text.isdigit():
        bad = next(ch for ch in text if not ch.isdigit())
        return Normalised(
            "", f"A tariff code has digits only (with optional dots); {bad!r} is not."
        )
    if len(text) not in VALID_LENGTHS:
        return Normalised(
            text, f"{text} has {len(text)} digits; a tariff code has 2, 4, 6, 8 or 10 digits."
        )
    return Normalised(text)


def fmt(code: str) -> str:
    """Format a digit string the way the schedule prints it: 8507.60.00.30."""
    if len(code) <= 4:
        return code
    parts = [code[:4]] + [code[i : i + 2] for i in range(4, len(code), 2)]
    return ".".join(parts)


def ancestors(code: str) -> list[str]:
    """Return the HS/national prefixes of ``code`` from the chapter down, excluding itself."""
    return [code[:n] for n in VALID_LENGTHS if n < len(code)]
