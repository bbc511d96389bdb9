# Over 500 lines: the XLSX and CSV refusals run in one order of cost over one file.
"""Reading catalog files: refuse unsafe or unreadable files before parsing, then yield rows.

Pure Python over a binary file object (no ORM). Every refusal raises ``FileRefused`` with one
message that says what is wrong and what to do. Checks happen in order of cost: size, file type,
zip directory (declared sizes and compression ratios, before any member is inflated), workbook
XML (through defusedxml), the sheet's extent (``catalog.extent``: no cell too far for a catalog,
before any reader allocates for it), then rows, counted while reading rather than trusting the
file's own dimensions. Workbooks are parsed in a child process with a memory limit
(``catalog.sheetproc``), so that a file the checks let through cannot take this process down.
"""

import csv
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from catalog import extent, sheetpieces, sheetproc

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
PREFERRED_SHEETS = ("products", "catalog", "catalogue")


class FileRefused(Exception):
    """The whole file is refused; ``str(err)`` is the message for the user."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int
    max_uncompressed_bytes: int
    max_compression_ratio: int
    # Memory the sheet-reading child process may use (0: no limit).
    max_reader_mb: int = 0


@dataclass
class Table:
    """A sheet's header and an iterator over its data rows ``(sheet row number, cells)``."""

    sheet: str
    header_row: int
    headers: list[str]
    rows: Iterator[tuple[int, list]]
    # A count, or a callable giving the latest estimate while the sheet is read in pieces.
    estimated_rows: int | Callable[[], int | None] | None = None
    # (sheet row number, 0-based column) of formula cells without a usable cached value.
    formula_problems: dict[tuple[int, int], str] = field(default_factory=dict)

    def estimate(self) -> int | None:
        """Return the number of rows expected, as well as it is known so far."""
        if callable(self.estimated_rows):
            return self.estimated_rows()
        return self.estimated_rows


def column_letter(index: int) -> str:
    """Return the spreadsheet letter of a 0-based column index (0 → A, 27 → AB)."""
    return extent.column_letter(index + 1)


def _size(fileobj) -> int:
    fileobj.seek(0, os.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def open_table(fileobj, filename: str, limits: Limits) -> Table:
    """Check ``fileobj`` and return its product table, or raise ``FileRefused``."""
    size = _size(fileobj)
    if size > limits.max_bytes:
        raise FileRefused(
            f"The file is {_mb(size)}, over the {_mb(limits.max_bytes)} limit. "
            "Split the catalog into smaller files."
        )
    if size == 0:
        raise FileRefused("The file is empty.")
    head = fileobj.read(8)
    fileobj.seek(0)
    ext = os.path.splitext(filename.lower())[1]
    is_zip = head.startswith(b"PK\x03\x04")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            f"'{filename}' is an old-style .xls or a password-protected workbook. "
            "Open it in Excel and save it as an unprotected .xlsx workbook."
        )
    if ext in (".xlsx", ".xlsm"):
        if not is_zip:
            raise FileRefused(
                f"'{filename}' is not an Excel workbook: its content is not an .xlsx file "
                "(was another file renamed?). Save it from Excel as .xlsx, or export CSV."
            )
        return _open_xlsx(fileobj, filename, limits)
    if ext in (".csv", ".txt"):
        if is_zip:
            raise FileRefused(
                f"'{filename}' is a zip archive or an Excel workbook renamed to {ext}; "
                "upload it as .xlsx, or export it from Excel as 'CSV UTF-8'."
            )
        return _open_csv(fileobj, filename, limits)
    raise FileRefused(
        f"'{filename}' is not a spreadsheet: only .xlsx workbooks and .csv files can be imported."
    )


# --- xlsx --------------------------------------------------------------------------------------


def _check_zip(zf: zipfile.ZipFile, filename: str, size: int, limits: Limits) -> None:
    """Refuse zip bombs from the central directory alone, before inflating anything."""
    infos = zf.infolist()
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise FileRefused(
            f"'{filename}' would expand to {_mb(total)}, over the "
            f"{_mb(limits.max_uncompressed_bytes)} limit for an unpacked workbook; refused unread."
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
            raise FileRefused(
                f"'{filename}' is compressed suspiciously well ({info.filename} expands "
                f"{ratio:.0f}×, the limit is {limits.max_compression_ratio}×); "
                "refused unread as a possible zip bomb."
            )
    if total / max(size, 1) > limits.max_compression_ratio and total > 1024 * 1024:
        raise FileRefused(
            f"'{filename}' expands {total / size:.0f}× (the limit is "
            f"{limits.max_compression_ratio}×); refused unread as a possible zip bomb."
        )


def _parse_xml(zf: zipfile.ZipFile, name: str, filename: str):
    try:
        with zf.open(name) as member:
            return SafeET.parse(member).getroot()
    except KeyError:
        raise FileRefused(
            f"'{filename}' is a zip archive but not an Excel workbook ({name} is missing); "
            "was another file renamed to .xlsx?"
        ) from None
    except DefusedXmlException:
        raise FileRefused(
            f"'{filename}' contains XML entity or DTD declarations, which are refused for safety."
        ) from None
    except (SafeET.ParseError, zipfile.BadZipFile, OSError, EOFError) as err:
        raise FileRefused(f"'{filename}' is damaged ({name}: {err}).") from None


def _choose_sheet(zf: zipfile.ZipFile, filename: str) -> tuple[str, str]:
    """Return ``(sheet name, member path)``: a sheet named Products, else the first visible."""
    workbook = _parse_xml(zf, "xl/workbook.xml", filename)
    rels = _parse_xml(zf, "xl/_rels/workbook.xml.rels", filename)
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{PKG_REL_NS}Relationship")}
    sheets = []
    for sheet in workbook.iter(f"{NS}sheet"):
        target = targets.get(sheet.get(f"{REL_NS}id"), "")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if sheet.get("state", "visible") == "visible" and "worksheets/" in path:
            sheets.append((sheet.get("name", ""), os.path.normpath(path)))
    if not sheets:
        raise FileRefused(f"'{filename}' has no visible worksheet.")
    for name, path in sheets:
        if name.strip().lower() in PREFERRED_SHEETS:
            return name, path
    return sheets[0]


def _cell_ref(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch.upper()) - 64
    return int(ref[len(letters) :]), col - 1


def _damaged(filename: str, detail) -> FileRefused:
    return FileRefused(f"'{filename}' is damaged and cannot be read ({detail}).")


def _formula_problems(zf: zipfile.ZipFile, path: str, filename: str) -> dict:
    """Find formula cells whose cached value is missing or an error (#N/A, #REF!…).

    Values are read as the workbook last calculated them; a formula never calculated (written
    by a script, not Excel) has no value, and the row must not pass as if the cell were blank.
    The quick byte scan keeps the common formula-free file on the fast path.
    """
    try:
        with zf.open(path) as member:
            tail = b""
            while chunk := member.read(1 << 20):
                if _has_formulas(tail + chunk):
                    break
                tail = chunk[-8:]
            else:
                return {}
        with zf.open(path) as member:
            return _scan_formulas(member, path, filename)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:  # bad data, bad CRC
        raise _damaged(filename, f"{path}: {err}") from None


def _has_formulas(xml: bytes) -> bool:
    return b"<f" in xml or b":f>" in xml or b"<x:f" in xml


def _scan_formulas(stream, path: str, filename: str) -> dict:
    problems = {}
    try:
        for _event, elem in SafeET.iterparse(stream, events=("end",)):
            if elem.tag != f"{NS}c":
                continue
            formula = elem.find(f"{NS}f")
            if formula is not None:
                value = elem.find(f"{NS}v")
                if value is None or not (value.text or "").strip():
                    problems[_cell_ref(elem.get("r", "A1"))] = "formula has no calculated value"
                elif elem.get("t") == "e":
                    problems[_cell_ref(elem.get("r", "A1"))] = f"formula gives {value.text}"
            elem.clear()
    except DefusedXmlException:
        raise FileRefused(
            f"'{filename}' contains XML entity or DTD declarations, which are refused for safety."
        ) from None
    except SafeET.ParseError as err:
        raise FileRefused(f"'{filename}' is damaged ({path}: {err}).") from None
    return problems


def _open_xlsx(fileobj, filename: str, limits: Limits) -> Table:
    size = _size(fileobj)
    try:
        zf = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise FileRefused(
            f"'{filename}' is a damaged archive and cannot be opened ({err})."
        ) from None
    _check_zip(zf, filename, size, limits)
    if "[Content_Types].xml" not in zf.namelist():
        raise FileRefused(
            f"'{filename}' is a zip archive but not an Excel workbook; "
            "was another file renamed to .xlsx?"
        )
    sheet_name, path = _choose_sheet(zf, filename)
    if path not in zf.namelist():
        raise FileRefused(f"'{filename}' is damaged: the sheet '{sheet_name}' has no data part.")
    _check_extent(zf, path, filename, sheet_name, limits)
    fileobj.seek(0)
    data = fileobj.read()  # within the size limit, checked above
    rows, estimate, problems = _calamine_rows(
        data, filename, sheet_name, path, limits.max_reader_mb
    )
    return _table(sheet_name, rows, limits, estimate, problems, filename)


def _check_extent(zf: zipfile.ZipFile, path: str, filename: str, sheet: str, limits: Limits):
    """Refuse a sheet whose cells reach too far, before any reader allocates for them."""
    bounds = extent.bounds_for(limits.max_rows)
    try:
        with zf.open(path) as member:
            careful = extent.quick_scan(member, bounds)
        if careful:
            with zf.open(path) as member:
                extent.check_cells(member, bounds)
    except extent.ExtentError as err:
        raise FileRefused(f"The sheet '{sheet}' in '{filename}' {err}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
        raise _damaged(filename, f"{path}: {err}") from None


def _memory_refusal(filename: str, err: sheetproc.OutOfMemory) -> FileRefused:
    return FileRefused(
        f"'{filename}' needs more than {err.limit_mb} MB to read, the limit for one file, and "
        "is refused. Delete the rows and columns after your catalog, or split it into smaller "
        "files."
    )


def _reader_refusal(filename: str, err: sheetproc.SheetProcessError) -> FileRefused:
    if isinstance(err, sheetproc.OutOfMemory):
        return _memory_refusal(filename, err)
    return _damaged(filename, err)


def _calamine_rows(data: bytes, filename: str, sheet_name: str, path: str, limit_mb: int = 0):
    """Return ``(rows, estimated row count, formula problems)`` of the sheet at ``path``.

    The sheet is parsed in pieces on a worker thread (``catalog.sheetpieces``) so that the
    first rows come early; ``estimated row count`` is then a callable, refined as pieces come,
    and the problems dict grows before each piece's rows are handed out. calamine itself runs
    in a child process limited to ``limit_mb`` (``catalog.sheetproc``), ended with the rows.
    """
    try:
        import python_calamine  # noqa: F401
    except ImportError:  # pragma: no cover - calamine ships wheels for every supported platform
        rows, estimate = _openpyxl_rows(io.BytesIO(data), filename, sheet_name)
        return rows, estimate, _formula_problems(zipfile.ZipFile(io.BytesIO(data)), path, filename)
    zf = zipfile.ZipFile(io.BytesIO(data))
    shared_strings = sum(
        info.file_size
        for info in zf.infolist()
        if info.filename.lower().endswith("sharedstrings.xml")
    )
    sheet_bytes = zf.getinfo(path).file_size
    if not sheetpieces.worth_cutting(sheet_bytes, shared_strings):
        return _whole_sheet(data, filename, sheet_name, path, limit_mb)
    member = zf.open(path)
    try:
        split = sheetpieces.split(member, shared_strings)
    except sheetpieces.PieceError as err:
        member.close()
        raise _damaged(filename, err) from None
    if split is None:
        member.close()
        return _whole_sheet(data, filename, sheet_name, path, limit_mb)
    parts = sheetpieces.base_parts(zf, path)
    # Formula elements in this sheet's namespace prefix (unprefixed ones too, if it has one).
    formula_tags = {b"<" + split.prefix + b"f", b"<f"}
    child = sheetproc.SheetProcess(limit_mb)

    def make_piece(xml: bytes) -> sheetpieces.Piece:
        workbook = sheetpieces.piece_workbook(parts, path, xml)
        rows = sheetpieces.parse_piece(workbook, sheet_name, parse=child.piece)
        formulas = any(tag in xml for tag in formula_tags)
        problems = _scan_formulas(io.BytesIO(xml), path, filename) if formulas else {}
        return sheetpieces.Piece(rows, problems, len(xml))

    def whole():
        member.close()
        child.close()
        rows, _estimate, problems = _whole_sheet(data, filename, sheet_name, path, limit_mb)
        reader.problems.update(problems)
        return rows

    reader = sheetpieces.PieceReader(split, sheet_bytes, make_piece, whole)

    def rows():
        try:
            yield from reader.rows()
        except sheetproc.OutOfMemory as err:
            raise _memory_refusal(filename, err) from None
        except sheetpieces.PieceError as err:
            raise _damaged(filename, err) from None
        finally:
            member.close()
            child.close()

    return rows(), lambda: reader.estimate, reader.problems


def _whole_sheet(data: bytes, filename: str, sheet_name: str, path: str, limit_mb: int = 0):
    """Parse the sheet in one go (in a child process): ``(rows, row count, formula problems)``."""
    child = sheetproc.SheetProcess(limit_mb)
    # The formula scan inflates the whole sheet again; it runs here while the child parses.
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-formulas") as pool:
            scan = pool.submit(_formula_problems, zipfile.ZipFile(io.BytesIO(data)), path, filename)
            try:
                start_col, height, sheet_rows = child.whole(data, sheet_name)
            except sheetproc.SheetProcessError as err:
                raise _reader_refusal(filename, err) from None
            finally:
                problems = scan.result()  # raises FileRefused from the scan, too
    except BaseException:
        child.close()
        raise

    def rows():
        try:
            # Rows from row 1, whatever the first row with cells, and from the first column
            # with cells.
            yield from sheetpieces.absolute_rows(0, start_col, sheet_rows)
        except sheetproc.SheetProcessError as err:
            raise _reader_refusal(filename, err) from None
        finally:
            child.close()

    return rows(), height, problems


def _openpyxl_rows(fileobj, filename: str, sheet_name: str):  # pragma: no cover - fallback
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(fileobj, read_only=True, data_only=True)
        sheet = workbook[sheet_name]
    except Exception as err:  # openpyxl raises many types for damaged parts
        raise _damaged(filename, err) from None

    def rows():
        for index, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield index, ["" if c is None else c for c in cells]

    return rows(), sheet.max_row


# --- csv ---------------------------------------------------------------------------------------


def _utf16(data: bytes) -> bool:
    """Whether the bytes are UTF-16 text: a UTF-16 byte-order mark, or (without one) the NUL in
    every other byte that UTF-16 gives Latin text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = data[:512]
    if len(head) < 8:
        return False
    odd, even = head[1::2], head[0::2]
    return odd.count(0) > 0.9 * len(odd) or even.count(0) > 0.9 * len(even)


def _open_csv(fileobj, filename: str, limits: Limits) -> Table:
    data = fileobj.read()
    if _utf16(data):
        raise FileRefused(
            f"'{filename}' is UTF-16 text: save it as UTF-8 (in Excel, Save As › 'CSV UTF-8') "
            "and upload it again."
        )
    if b"\x00" in data[:65536]:
        raise FileRefused(
            f"'{filename}' is not a text file (it contains binary data); "
            "upload an .xlsx workbook or a CSV saved as 'CSV UTF-8'."
        )
    if (nul := data.find(b"\x00")) >= 0:  # no text column can hold one
        line = data[:nul].count(b"\n") + 1
        raise FileRefused(
            f"'{filename}' contains a NUL byte on line {line}, which no text may hold: the file "
            "is damaged or not all text. Remove it, or export the CSV again."
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise FileRefused(
            f"'{filename}' is not UTF-8 text (byte 0x{data[err.start]:02X} on line {line}). "
            "In Excel choose Save As → 'CSV UTF-8 (Comma delimited)', or upload the .xlsx."
        ) from None
    del data
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows():
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as err:
            raise FileRefused(
                f"'{filename}' is not valid CSV near line {reader.line_num}: {err}."
            ) from None

    return _table("CSV", rows(), limits, None, {}, filename)


# --- shared ------------------------------------------------------------------------------------


def _blank(cells) -> bool:
    # Usually settled by the first cell: this runs once per row.
    return not any(c is not None and not (isinstance(c, str) and not c.strip()) for c in cells)


def _table(sheet, rows, limits: Limits, estimate, problems, filename: str) -> Table:
    for number, cells in rows:
        if not _blank(cells):
            headers = [str(c).strip() if c is not None else "" for c in cells]
            return Table(
                sheet, number, headers, _limited(rows, limits, filename), estimate, problems
            )
    raise FileRefused(f"The sheet '{sheet}' in '{filename}' is empty: no header row, no products.")


def _limited(rows, limits: Limits, filename: str):
    """Yield non-blank data rows, refusing the file once it passes the row limit."""
    count = 0
    for number, cells in rows:
        if _blank(cells):
            continue
        count += 1
        if count > limits.max_rows:
            raise FileRefused(
                f"'{filename}' has more than {limits.max_rows:,} product rows (the limit); "
                "split it into smaller files."
            )
        yield number, cells
