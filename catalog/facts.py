# Over 500 lines: each fact's check beside its key, headers and limits: one validator.
"""Product facts: the keys, their spreadsheet headers, and the one validator every path uses.

``validate_row`` is pure (no ORM, no I/O): the spreadsheet import, the edit form and the JSON API
all call it, so a fact accepted in one place is accepted everywhere. Facts are normalised so that
the same product always yields the same canonical JSON and therefore the same SHA-256.
"""

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

import pycountry
from django.conf import settings

REQUIRED = (
    "sku",
    "name",
    "description",
    "country_of_origin",
    "materials",
    "intended_use",
    "product_type",
    "destination",
)
OPTIONAL = (
    "customs_value",
    "currency",
    "quantity",
    "quantity_unit",
    "net_weight_kg",
    "supplier",
    "declared_code",
    "notes",
)
FACT_KEYS = REQUIRED + OPTIONAL
# Facts that hold tariff or identifier digits: Excel must store them as text.
CODE_FIELDS = ("sku", "declared_code")

LABELS = {
    "sku": "SKU",
    "name": "Name",
    "description": "Description",
    "country_of_origin": "Country of origin",
    "materials": "Materials",
    "intended_use": "Intended use",
    "product_type": "Product type",
    "destination": "Destination",
    "customs_value": "Customs value",
    "currency": "Currency",
    "quantity": "Quantity",
    "quantity_unit": "Quantity unit",
    "net_weight_kg": "Net weight (kg)",
    "supplier": "Supplier",
    "declared_code": "Declared code",
    "notes": "Notes",
}
HELP = {
    "sku": "Your unique product identifier (part number). Stored as text.",
    "name": "Short commercial name.",
    "description": "What the product is, what it is made of and how it works.",
    "country_of_origin": (
        "ISO 3166 alpha-2 code where the goods were made, e.g. CN, VN, DE (XK for Kosovo)."
    ),
    "materials": "One or more materials, separated by ';' — main material first.",
    "intended_use": "What the product is used for and by whom.",
    "product_type": "The kind of product, e.g. 'T-shirt', 'Lithium-ion power bank'.",
    "destination": "Import jurisdiction.",
    "customs_value": "Transaction value per unit, e.g. 12.50.",
    "currency": "ISO 4217 code of the customs value, e.g. USD, EUR.",
    "quantity": "Quantity per declared unit.",
    "quantity_unit": "Unit of the quantity, e.g. pcs, pairs, kg.",
    "net_weight_kg": "Net weight in kilograms.",
    "supplier": "Supplier or manufacturer name.",
    "declared_code": "Previously declared tariff code (digits; dots allowed). Kept as evidence.",
    "notes": "Anything a classifier should know.",
}

# Header spellings brokers use, normalised by ``normalise_header``.
_ALIASES = {
    "sku": [
        "sku",
        "item",
        "item number",
        "item no",
        "item code",
        "part number",
        "part no",
        "product code",
        "article",
        "article number",
        "style",
        "style number",
        "material number",
    ],
    "name": ["name", "product name", "item name", "title", "short description"],
    "description": [
        "description",
        "product description",
        "item description",
        "long description",
        "goods description",
        "description of goods",
    ],
    "country_of_origin": [
        "country of origin",
        "coo",
        "origin",
        "origin country",
        "country",
        "made in",
        "country of manufacture",
    ],
    "materials": [
        "materials",
        "material",
        "material composition",
        "composition",
        "fabric content",
        "fibre content",
        "fiber content",
    ],
    "intended_use": ["intended use", "use", "end use", "function", "usage"],
    "product_type": ["product type", "type", "category", "product category", "item type"],
    "destination": [
        "destination",
        "destination jurisdiction",
        "jurisdiction",
        "import country",
        "destination country",
        "market",
    ],
    "customs_value": [
        "customs value",
        "value",
        "unit value",
        "unit price",
        "price",
        "declared value",
        "fob value",
    ],
    "currency": ["currency", "currency code", "ccy"],
    "quantity": ["quantity", "qty"],
    "quantity_unit": ["quantity unit", "unit", "uom", "unit of measure", "qty unit"],
    "net_weight_kg": ["net weight kg", "net weight", "weight kg", "weight", "net wt", "net wt kg"],
    "supplier": ["supplier", "vendor", "manufacturer", "supplier name", "vendor name"],
    "declared_code": [
        "declared code",
        "hts",
        "hts code",
        "htsus",
        "hs",
        "hs code",
        "commodity code",
        "tariff code",
        "cn code",
        "taric",
        "taric code",
        "prior code",
        "classification",
        "hts number",
        "schedule b",
    ],
    "notes": ["notes", "note", "comments", "comment", "remarks"],
}


def normalise_header(text: object) -> str:
    """Return a header's comparable form: lower case, punctuation and runs of spaces folded."""
    text = str(text or "").strip().lower().replace("#", " number ")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


HEADER_ALIASES: dict[str, str] = {
    normalise_header(alias): key for key, aliases in _ALIASES.items() for alias in aliases
}


def field_for_header(header: object) -> str | None:
    """Return the fact key a spreadsheet header means, or None for a column to ignore."""
    return HEADER_ALIASES.get(normalise_header(header))


@dataclass(frozen=True)
class FactError:
    field: str
    message: str


MAX_LENGTHS = {
    "sku": 64,
    "name": 200,
    "description": 4000,
    "intended_use": 1000,
    "product_type": 200,
    "quantity_unit": 20,
    "supplier": 200,
    "notes": 4000,
}
CODE_LENGTHS = (6, 8, 10)
_CODE_SEPARATORS = re.compile(r"[\s.\-]")
_DECIMAL_RE = re.compile(r"^\d{1,15}(\.\d{1,6})?$")


@cache
def _countries() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}


@cache
def _currencies() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def _country_hint(text: str) -> str:
    try:
        match = pycountry.countries.lookup(text)
    except LookupError:
        return " (use the two-letter code, e.g. CN, VN, DE)"
    return f" (did you mean {match.alpha_2}?)"


def _text(value: object) -> str:
    """Return a cell's text: integral floats without '.0', everything stripped."""
    if type(value) is str:  # the common case first: this runs for every cell of a file
        return (value.replace("\r\n", "\n") if "\r" in value else value).strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").strip()


_PLAIN_NUMBER = re.compile(r"(\d{1,15})(?:\.(\d{1,6}))?")

# Each fact's check: cell value → (normalised value or None, error messages). ``validate_row``
# runs them one row at a time; ``RowChecker`` runs them a column at a time. Both use these only.
Check = Callable[[object], tuple[object, tuple[str, ...]]]
_OK: tuple[str, ...] = ()


def _text_check(key: str) -> Check:
    limit = MAX_LENGTHS[key]

    def check(value: object) -> tuple[str | None, tuple[str, ...]]:
        text = _text(value)
        if len(text) > limit:
            return text or None, (f"is {len(text)} characters long (at most {limit})",)
        if "\x00" in text:  # no text column can hold one
            return text or None, ("contains a NUL character (U+0000), which no text may hold",)
        return text or None, _OK

    return check


_sku_text = _text_check("sku")


def _check_sku(value: object) -> tuple[str | None, tuple[str, ...]]:
    if isinstance(value, float) and not value.is_integer():
        return _text(value) or None, (f"{value!r} was stored as a number; use text",)
    sku, messages = _sku_text(value)
    if sku and ("\n" in sku or "\t" in sku):
        messages += ("must be on one line",)
    elif sku and (hidden := _hidden_character(sku)):
        messages += (hidden,)
    return sku, messages


def _hidden_character(text: str) -> str:
    """Name the first control or formatting character of an identifier ("" when there is none).

    Bidirectional overrides and zero-width characters make two SKUs look alike, or one look like
    another, on every screen and printout: an identifier may not hold them.
    """
    if text.isascii() and text.isprintable():
        return ""
    for position, char in enumerate(text, 1):
        if unicodedata.category(char) in ("Cc", "Cf"):
            name = unicodedata.name(char, "a control character")
            return (
                f"contains U+{ord(char):04X} ({name}) at character {position}, an invisible "
                "character no identifier may hold; type the SKU again"
            )
    return ""


def _check_origin(value: object) -> tuple[str | None, tuple[str, ...]]:
    origin = _text(value)
    if not origin:
        return None, _OK
    if len(origin) == 2 and origin.upper() in _countries():
        return origin.upper(), _OK
    return None, (f"{origin!r} is not an ISO 3166 country code{_country_hint(origin)}",)


def _check_materials(given: object) -> tuple[list[str] | None, tuple[str, ...]]:
    parts = given if isinstance(given, list | tuple) else _text(given).split(";")
    materials = [m.strip() if type(m) is str else _text(m) for m in parts]
    return [m for m in materials if m] or None, _OK


def _check_destination(value: object) -> tuple[str | None, tuple[str, ...]]:
    destination = _text(value).upper()
    if not destination:
        return None, _OK
    allowed = settings.JURISDICTIONS
    if destination in allowed:
        return destination, _OK
    return None, (f"{destination!r} is not a destination ({', '.join(allowed)})",)


def _check_decimal(value: object) -> tuple[str | None, tuple[str, ...]]:
    """A non-negative decimal as its shortest plain text ('4.80' → '4.8')."""
    if type(value) is float:  # what a numeric spreadsheet cell gives
        if value.is_integer():
            text = str(int(value))
            if 0 <= value < 1e15:
                return text, _OK
        else:
            text = repr(value)  # the shortest text that reads back as this float
            if 0 < value < 1e15 and "e" not in text and len(text) - text.index(".") <= 7:
                return text, _OK  # already plain: no leading or trailing zeros to drop
    elif isinstance(value, bool):
        return None, (f"{value!r} is not a number",)
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    else:
        text = _text(value)
        if " " in text or "\u00a0" in text:
            text = text.replace(" ", "").replace("\u00a0", "")
    if not text:
        return None, _OK
    plain = _PLAIN_NUMBER.fullmatch(text)
    if plain:  # fast path, same result as Decimal(text).normalize() without the Decimal
        whole, fraction = plain[1].lstrip("0") or "0", (plain[2] or "").rstrip("0")
        return (f"{whole}.{fraction}" if fraction else whole), _OK
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not _DECIMAL_RE.match(f"{abs(number):f}"):
        return None, (f"{text!r} is not a number (use digits and a '.' decimal point)",)
    if number < 0:
        return None, (f"{text!r} must not be negative",)
    normal = number.normalize()
    return (f"{normal:f}" if normal != 0 else "0"), _OK


def _check_currency(value: object) -> tuple[str | None, tuple[str, ...]]:
    currency = _text(value).upper()
    if not currency:
        return None, _OK
    if currency in _currencies():
        return currency, _OK
    return None, (f"{currency!r} is not an ISO 4217 currency code",)


def declared_code(value: object) -> tuple[str | None, str | None]:
    """Return ``(digits, error)`` for a declared tariff code cell.

    A code typed into a numeric Excel cell has lost its leading zeros (0901.21 → 90121) or its
    trailing zeros (8471.30 → 8471.3). Such a number is accepted only when its digits are
    unambiguous: a whole number of 6, 8 or 10 digits.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        digits = str(int(value)) if float(value).is_integer() else None
        if digits and len(digits) in CODE_LENGTHS:
            return digits, None
        hint = f" (perhaps 0{digits}?)" if digits and len(digits) + 1 in CODE_LENGTHS else ""
        return None, (
            f"{digits or repr(value)} was stored as a number, so its leading or trailing zeros "
            f"may be lost{hint}; format the column as text and type the code again "
            "(e.g. 0901.21.0020)"
        )
    text = _CODE_SEPARATORS.sub("", _text(value))
    if not text:
        return None, None
    if not text.isdigit() or len(text) not in CODE_LENGTHS:
        return None, f"{_text(value)!r} is not a tariff code (6, 8 or 10 digits; dots allowed)"
    return text, None


def _check_declared_code(value: object) -> tuple[str | None, tuple[str, ...]]:
    code, error = declared_code(value)
    return code, ((error,) if error else _OK)


# In the order their messages are listed.
CHECKS: dict[str, Check] = {
    "sku": _check_sku,
    **{
        key: _text_check(key)
        for key in (
            "name",
            "description",
            "intended_use",
            "product_type",
            "quantity_unit",
            "supplier",
            "notes",
        )
    },
    "country_of_origin": _check_origin,
    "materials": _check_materials,
    "destination": _check_destination,
    "customs_value": _check_decimal,
    "quantity": _check_decimal,
    "net_weight_kg": _check_decimal,
    "currency": _check_currency,
    "declared_code": _check_declared_code,
}
assert set(CHECKS) == set(FACT_KEYS)


def validate_row(raw: Mapping[str, object]) -> tuple[dict | None, list[FactError]]:
    """Validate and normalise one product's facts; return ``(facts, [])`` or ``(None, errors)``.

    ``raw`` maps fact keys to cell values (text, numbers, or None). The facts returned carry
    exactly ``FACT_KEYS``, absent optional facts as None, Decimals as strings, codes as digits.
    """
    errors: list[FactError] = []
    facts: dict[str, object] = dict.fromkeys(FACT_KEYS)
    get = raw.get
    for key, check in CHECKS.items():
        facts[key], messages = check(get(key))
        for message in messages:
            errors.append(FactError(key, message))
    _check_required(facts, errors)
    _check_pairs(facts, errors)
    if errors:
        return None, errors
    return facts, []


def _check_required(facts: dict, errors: list[FactError]) -> None:
    missing = [key for key in REQUIRED if not facts[key]]
    if not missing:  # the common case, kept cheap: this runs for every row of a file
        return
    failed = {e.field for e in errors}
    for key in missing:
        if key not in failed:
            message = "at least one material is required" if key == "materials" else "is required"
            errors.append(FactError(key, message))


# Optional facts that need another: (fact, the one it needs, the message for the latter).
PAIRS = (
    ("customs_value", "currency", "is required when a customs value is given"),
    ("quantity", "quantity_unit", "is required when a quantity is given"),
)


def _check_pairs(facts: dict, errors: list[FactError]) -> None:
    failed = {e.field for e in errors}
    for given, needed, message in PAIRS:
        if facts[given] is not None and not facts[needed] and needed not in failed:
            errors.append(FactError(needed, message))


# Normalised facts hold only strings, lists of strings and None, for which this encoder writes
# exactly what ``audit.canonical.dumps`` writes; reusing one instance saves its set-up per row.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
# How that encoder writes a string (it calls this very function).
_string = json.encoder.encode_basestring


def facts_json(facts: Mapping) -> str:
    """Return the canonical JSON text of normalised facts (the form that is hashed)."""
    return _CANONICAL(facts)


def facts_sha256(facts: Mapping) -> str:
    """Return the SHA-256 of the facts' canonical JSON."""
    return hashlib.sha256(facts_json(facts).encode("utf-8")).hexdigest()


def describe_errors(errors: Iterable[FactError]) -> str:
    """Return errors as one line: ``Country of origin: 'Chna' is not…; Name: is required``."""
    return "; ".join(f"{LABELS.get(e.field, e.field)}: {e.message}" for e in errors)


# Facts whose cells repeat down a catalog (origins, materials, units, suppliers…): their checks
# are remembered per distinct text, up to this many per column and file.
_REPEATING = (
    "country_of_origin",
    "materials",
    "intended_use",
    "product_type",
    "destination",
    "currency",
    "quantity",
    "quantity_unit",
    "supplier",
    "declared_code",
    "notes",
)
MEMO_LIMIT = 4096
_MISSING = object()
_SORTED_KEYS = tuple(sorted(FACT_KEYS))
# What RowChecker returns for a row that passes: the row's canonical facts JSON and the facts a
# product row keeps beside its current version.
Checked = tuple[str, str, str, str, str, str]  # json, sku, name, description, destination, origin


def _decimal_cell(prefix: str, cell: Callable) -> Callable:
    """``cell`` for a decimal fact, with ``_check_decimal``'s answer for plain floats (what a
    numeric spreadsheet cell gives) worked out here, saving two calls per cell."""

    def decimal_cell(value):
        if type(value) is float and 0 <= value < 1e15:
            if value.is_integer():
                text = str(int(value))
                return f'{prefix}"{text}"', text
            text = repr(value)
            if "e" not in text and len(text) - text.index(".") <= 7:
                return f'{prefix}"{text}"', text
        return cell(value)

    return decimal_cell


class RowChecker:
    """``validate_row`` plus ``facts_json`` for a file's rows, a column at a time.

    An import checks 100k rows; per row, ``validate_row`` builds a dict of raw cells, a dict of
    facts and then their JSON. This runs the same ``CHECKS`` down each column instead, remembers
    the results for repeating cells, and assembles each row's canonical JSON from per-cell pieces.
    It only says which rows pass: for a row that does not, it returns None and the caller asks
    ``validate_row`` for the messages. Tests hold the two to the same answers.
    """

    def __init__(self, columns: Mapping[str, int]):
        self.columns = dict(columns)
        self.memos = {key: {} for key in _REPEATING}

    def check(self, rows: list) -> list[Checked | None]:
        """Check rows of cells (each at least as wide as the last mapped column)."""
        n = len(rows)
        if not n:
            return []
        cells = list(zip(*rows, strict=False))
        by_key = {}
        for key in _SORTED_KEYS:
            index = self.columns.get(key)
            values = cells[index] if index is not None else (None,) * n
            by_key[key] = self._column(key, values)
        bad = set()
        for column in by_key.values():
            if None in column:
                bad.update(i for i, cell in enumerate(column) if cell is None)
        for given, needed, _ in PAIRS:  # a cell already failed has its row in ``bad``
            for i, (a, u) in enumerate(zip(by_key[given], by_key[needed], strict=True)):
                if a is not None and u is not None and a[1] is not None and u[1] is None:
                    bad.add(i)
        pieces = [[cell[0] if cell is not None else "" for cell in by_key[k]] for k in _SORTED_KEYS]
        values = [
            [cell[1] if cell is not None else None for cell in by_key[k]]
            for k in ("sku", "name", "description", "destination", "country_of_origin")
        ]
        jsons = ["{" + ",".join(parts) + "}" for parts in zip(*pieces, strict=True)]
        return [
            None if i in bad else (jsons[i], *plain)
            for i, plain in enumerate(zip(*values, strict=True))
        ]

    def _column(self, key: str, values) -> list[tuple[str, object] | None]:
        """Each cell as ``('"key":<JSON>', normalised value)``, or None where it fails (an
        error, or a required fact missing)."""
        check, prefix, required = CHECKS[key], f'"{key}":', key in REQUIRED
        memo, null = self.memos.get(key), (f"{prefix}null", None)

        def cell(value):
            normal, messages = check(value)
            if messages or (required and normal is None):
                return None
            if normal is None:
                return null
            if type(normal) is str:
                return prefix + _string(normal), normal
            return prefix + _CANONICAL(normal), normal

        if key in MAX_LENGTHS and memo is None:  # SKU, name, description: nearly all distinct
            # Cells that are already clean text pass their check unchanged: skip the calls.
            limit, sku = MAX_LENGTHS[key], key == "sku"
            return [
                (prefix + _string(v), v)
                if type(v) is str
                and 0 < len(v) <= limit
                and "\r" not in v
                and v.strip() == v
                and not (sku and ("\n" in v or "\t" in v))
                else cell(v)
                for v in values
            ]
        if check is _check_decimal:
            cell = _decimal_cell(prefix, cell)
        if memo is None:
            return [cell(value) for value in values]
        # The memo holds text keys only, and no number or date equals a text: a lookup of any
        # cell is safe. Misses (new texts, numbers) are filled in after.
        seen = memo.get
        out = [seen(value, _MISSING) for value in values]
        if _MISSING in out:
            for i, value in enumerate(values):
                if out[i] is _MISSING:
                    out[i] = result = cell(value)
                    if type(value) is str and len(memo) < MEMO_LIMIT:
                        memo[value] = result
        return out
