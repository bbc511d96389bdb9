"""Spreadsheet output that cannot run anything: text stays text, formulas never appear.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return could be read by a
spreadsheet as a formula (CSV/XLSX injection), so it is written with a leading apostrophe and
typed as a string. Numbers stay numbers; everything else is written as text.
"""

import io
import re
from collections.abc import Iterable
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Control characters that the XLSX format cannot hold at all.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# Excel refuses cells longer than this; the JSON snapshot stays the complete record.
CELL_MAX = 32_767


def neutralise(text: str) -> str:
    """Return ``text`` safe for a spreadsheet cell (formula-like text gets a leading ')."""
    text = _ILLEGAL.sub("\ufffd", text)
    if len(text) > CELL_MAX - 1:
        text = text[: CELL_MAX - 40] + " … [truncated: see the JSON export]"
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def cell(sheet, value, *, bold: bool = False):
    """Return a write-only cell: numbers as numbers, anything else as neutralised text."""
    if value is None:
        out = WriteOnlyCell(sheet, value=None)
    elif isinstance(value, bool):
        out = WriteOnlyCell(sheet, value="yes" if value else "no")
        out.data_type = "s"
    elif isinstance(value, int | float | Decimal):
        out = WriteOnlyCell(sheet, value=value)
    else:
        out = WriteOnlyCell(sheet, value=neutralise(str(value)))
        out.data_type = "s"  # never "f", whatever the text looks like
    if bold:
        out.font = Font(bold=True)
    return out


class SheetBook:
    """A write-only workbook whose rows go through ``cell``: ``add(title, header, rows)``."""

    def __init__(self):
        self.book = Workbook(write_only=True)

    def add(self, title: str, header: list[str], rows: Iterable[Iterable]) -> None:
        sheet = self.book.create_sheet(title=title[:31])
        sheet.append([cell(sheet, h, bold=True) for h in header])
        for row in rows:
            sheet.append([cell(sheet, v) for v in row])

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.book.save(buffer)
        return buffer.getvalue()

    def save(self, path_or_file) -> None:
        self.book.save(path_or_file)
