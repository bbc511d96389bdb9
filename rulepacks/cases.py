"""Parse an uploaded backtest set (TOML ``[[cases]]`` or an xlsx sheet) into ``Case`` values.

The whole file is checked before anything is stored; every problem names its line (TOML) or
row and column (xlsx). Uploads are size- and compression-ratio-checked before parsing.
"""

import io
import re
import tomllib
import zipfile
from types import MappingProxyType

from rulepacks.backtest import Case
from rulepacks.format.compiled import OUTCOMES
from rulepacks.format.parser import CODE_RE, FACT_KEYS, ID_RE, Problem, complete_facts

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_CASES = 5000
XLSX_COLUMNS = ("id", "expected_code", "expected_outcome", *FACT_KEYS)
_ALIASES = {"code": "expected_code", "outcome": "expected_outcome", "origin": "country_of_origin"}


class CasesError(ValueError):
    """The upload was refused; ``problems`` says where."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:10]))


def parse_cases(filename: str, content: bytes, *, jurisdiction: str) -> list[Case]:
    """Return the cases of an uploaded file, or raise ``CasesError`` listing every problem."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise CasesError(
            [Problem(f"the file is {len(content)} bytes, above the limit of {MAX_UPLOAD_BYTES}")]
        )
    name = filename.lower()
    if name.endswith(".xlsx"):
        cases, problems = _from_xlsx(content, jurisdiction)
    elif name.endswith(".toml"):
        cases, problems = _from_toml(content, jurisdiction)
    else:
        raise CasesError([Problem("upload an .xlsx workbook or a .toml file of [[cases]]")])
    if len(cases) > MAX_CASES:
        problems.append(Problem(f"{len(cases)} cases, above the limit of {MAX_CASES}"))
    if not cases and not problems:
        problems.append(Problem("the file holds no cases"))
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            problems.append(Problem(f"{case.where}: case id {case.id!r} is used twice"))
        seen.add(case.id)
    if problems:
        raise CasesError(problems)
    return cases


def _case(raw_id, code, outcome, facts, where, jurisdiction, problems) -> Case | None:
    before = len(problems)
    ident = str(raw_id or "").strip()
    if not ID_RE.match(ident):
        problems.append(
            Problem(
                f"{where}: id {ident!r} must be 1-64 lower-case letters, digits, '.', '_' or '-'"
            )
        )
    digits = re.sub(r"[.\s]", "", str(code or ""))
    if digits and not CODE_RE.match(digits):
        problems.append(Problem(f"{where}: expected code {code!r} must be 2 to 10 digits"))
    outcome = str(outcome or "").strip()
    if outcome and outcome not in OUTCOMES:
        problems.append(
            Problem(f"{where}: expected outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        )
    full = complete_facts(
        facts,
        jurisdiction=jurisdiction,
        sku=ident,
        on_error=lambda message, key: problems.append(Problem(f"{where}: {message}")),
    )
    if len(problems) > before:
        return None
    return Case(ident, "uploaded", MappingProxyType(full), digits, outcome, where)


def _from_toml(content: bytes, jurisdiction: str):
    problems: list[Problem] = []
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        return [], [Problem(f"not a readable TOML file: {err}")]
    raw = data.get("cases")
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        return [], [Problem("the file must hold [[cases]] tables")]
    headers = [
        n
        for n, text in enumerate(content.decode().splitlines(), 1)
        if re.match(r"^\s*\[\[\s*cases\s*\]\]", text)
    ]
    cases = []
    for index, entry in enumerate(raw):
        where = f"line {headers[index]}" if index < len(headers) else f"case #{index + 1}"
        unknown = set(entry) - {"id", "code", "outcome", "facts"}
        if unknown:
            problems.append(Problem(f"{where}: unknown keys {', '.join(sorted(unknown))}"))
        facts = entry.get("facts") if isinstance(entry.get("facts"), dict) else {}
        bad = set(facts) - set(FACT_KEYS)
        if bad:
            problems.append(Problem(f"{where}: unknown facts {', '.join(sorted(bad))}"))
        case = _case(
            entry.get("id"),
            entry.get("code"),
            entry.get("outcome"),
            facts,
            where,
            jurisdiction,
            problems,
        )
        if case:
            cases.append(case)
    return cases, problems


def _from_xlsx(content: bytes, jurisdiction: str):
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return [], [Problem("not a readable .xlsx workbook")]
    if size > MAX_UNCOMPRESSED_BYTES:
        return [], [
            Problem(
                f"the workbook expands to {size} bytes, above the limit of {MAX_UNCOMPRESSED_BYTES}"
            )
        ]
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(v or "").strip().lower().replace(" ", "_") for v in next(rows, ())]
        header = [_ALIASES.get(h, h) for h in header]
        problems = [
            Problem(
                f"row 1, column {get_column_letter(i + 1)}: unknown column {h!r} "
                f"(known: {', '.join(XLSX_COLUMNS)})"
            )
            for i, h in enumerate(header)
            if h and h not in XLSX_COLUMNS
        ]
        if "id" not in header or "expected_code" not in header:
            problems.append(Problem("row 1: the columns id and expected_code are required"))
        if problems:
            return [], problems
        cases = []
        for number, values in enumerate(rows, start=2):
            row = {h: v for h, v in zip(header, values, strict=False) if h}
            if all(v in (None, "") for v in row.values()):
                continue
            facts = {k: v for k, v in row.items() if k in FACT_KEYS}
            case = _case(
                row.get("id"),
                row.get("expected_code"),
                row.get("expected_outcome"),
                facts,
                f"row {number}",
                jurisdiction,
                problems,
            )
            if case:
                cases.append(case)
        return cases, problems
    finally:
        workbook.close()


EXAMPLE_ROW = {
    "id": "bt-001",
    "expected_code": "6109100012",
    "expected_outcome": "classified",
    "sku": "AP-TS-1001",
    "name": "Men's crew-neck T-shirt",
    "description": "Men's short-sleeve crew-neck T-shirt, knitted single jersey",
    "country_of_origin": "BD",
    "materials": "cotton",
    "intended_use": "Casual wear for adult men",
    "product_type": "T-shirt",
}


def template_xlsx() -> bytes:
    """Return an empty backtest workbook: the known columns, codes as text, one example row."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Backtest cases"
    sheet.append(list(XLSX_COLUMNS))
    sheet.append([EXAMPLE_ROW.get(column, "") for column in XLSX_COLUMNS])
    for column in ("expected_code", "declared_code", "sku"):
        letter = get_column_letter(XLSX_COLUMNS.index(column) + 1)
        for cell in sheet[letter]:
            cell.number_format = "@"  # keep leading zeros of codes
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
