"""Spreadsheet output that cannot run anything: text stays text, formulas never appear.

The workbook is written directly as SpreadsheetML (each sheet spooled to a temporary file, so
several can be filled in one pass over the data, then deflated into the zip), with every text
cell an inline string: the writer has no way to emit a formula at all. On top of
that, text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return could still
turn into a formula when someone re-saves the sheet as CSV (CSV/XLSX injection), so it is
written with a leading apostrophe. Numbers stay numbers. The output is deterministic (fixed zip
timestamps, no creation date), so the same rows always give the same bytes.

Written by hand rather than with openpyxl because openpyxl's pure-Python XML serialiser spends
about 30 µs per cell: a 50,000-decision export has millions of cells.
"""

import functools
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from xml.sax.saxutils import escape

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Control characters that XML 1.0 (and so XLSX) cannot hold at all.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel refuses cells longer than this; the JSON snapshot stays the complete record.
CELL_MAX = 32_767
_ESCAPES = {"\r": "&#13;", '"': "&quot;"}
_NEEDS_ESCAPE = re.compile(r'[&<>"\r]')
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_NS}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def neutralise(text: str) -> str:
    """Return ``text`` safe for a spreadsheet cell (formula-like text gets a leading ')."""
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("\ufffd", text)
    if len(text) > CELL_MAX - 1:
        text = text[: CELL_MAX - 40] + " … [truncated: see the JSON export]"
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


@functools.cache
def _columns() -> list[str]:
    """Column letters A… by index; openpyxl is loaded only once a workbook is written."""
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i + 1) for i in range(200)]


_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)
# Anything that needs neutralising, escaping or replacing; most cells contain none of it.
_SPECIAL = re.compile(r'[&<>"\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')


def _text(value: str) -> str:
    text = neutralise(value)
    if _NEEDS_ESCAPE.search(text):
        text = escape(text, _ESCAPES)
    return text


def _row_xml(n: int, row, style: str = "") -> str:
    """Return one ``<row>``: numbers as numbers, everything else as neutralised inline text."""
    out, columns = [f'<row r="{n}">'], _columns()
    for i, value in enumerate(row):
        if value is None:
            continue
        kind = type(value)
        if kind is str:
            if value[:1] in _FORMULA_FIRST or len(value) >= CELL_MAX or _SPECIAL.search(value):
                value = _text(value)
        elif kind is int or kind is Decimal or (kind is float and math.isfinite(value)):
            out.append(f'<c r="{columns[i]}{n}"{style}><v>{value}</v></c>')
            continue
        else:
            value = _text(("yes" if value else "no") if kind is bool else str(value))
        out.append(
            f'<c r="{columns[i]}{n}" t="inlineStr"{style}><is><t xml:space="preserve">'
            f"{value}</t></is></c>"
        )
    out.append("</row>")
    return "".join(out)


class Sheet:
    """One sheet's XML, spooled to a temporary file so that several can be filled at once."""

    def __init__(self, title: str, header: list[str]):
        self.title = title[:31]
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by SheetBook.close)
        self.rows = 1
        self.parts = [f'{_HEAD}<worksheet xmlns="{_NS}"><sheetData>']
        self.parts.append(_row_xml(1, header, ' s="1"'))

    def append(self, row) -> None:
        self.rows += 1
        self.parts.append(_row_xml(self.rows, row))
        if len(self.parts) > 2000:
            self._flush()

    def _flush(self) -> None:
        self.file.write("".join(self.parts).encode("utf-8"))
        self.parts.clear()

    def finish(self):
        self.parts.append("</sheetData></worksheet>")
        self._flush()
        self.file.seek(0)
        return self.file


class SheetBook:
    """A workbook streamed to ``out`` (a path or binary file): ``add`` sheets, then ``close``."""

    def __init__(self, out):
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.sheets: list[Sheet] = []

    def _open(self, name: str):
        info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        return self.zip.open(info, "w", force_zip64=True)

    def _write(self, name: str, text: str) -> None:
        with self._open(name) as handle:
            handle.write(text.encode("utf-8"))

    def sheet(self, title: str, header: list[str]) -> Sheet:
        """Start a sheet (sheets keep the order they were started in); fill it with append."""
        sheet = Sheet(title, header)
        self.sheets.append(sheet)
        return sheet

    def add(self, title: str, header: list[str], rows: Iterable[Iterable]) -> None:
        """Write one whole sheet: a bold header row, then ``rows``."""
        sheet = self.sheet(title, header)
        for row in rows:
            sheet.append(row)

    def close(self) -> None:
        """Write the sheets, the workbook's index, relationships and styles; finish the zip."""
        for i, sheet in enumerate(self.sheets, start=1):
            with sheet.finish() as spooled, self._open(f"xl/worksheets/sheet{i}.xml") as handle:
                shutil.copyfileobj(spooled, handle, 1 << 20)
        count = len(self.sheets)
        sheets = "".join(
            f'<sheet name="{escape(s.title, _ESCAPES)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(self.sheets, start=1)
        )
        self._write(
            "xl/workbook.xml",
            f'{_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>',
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, count + 1)
        )
        rels += f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        self._write(
            "xl/_rels/workbook.xml.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>',
        )
        self._write("xl/styles.xml", _STYLES)
        sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
            for i in range(1, count + 1)
        )
        self._write(
            "[Content_Types].xml",
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>",
        )
        self._write(
            "_rels/.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        self.zip.close()
