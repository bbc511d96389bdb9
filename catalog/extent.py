"""Refuse a worksheet whose extent is unreasonable before any reader allocates for it.

A spreadsheet reader holds a sheet as a dense grid from A1 to its furthest cell with a value:
one cell at ``XFD1048576`` in a 5 KB file asks for 17 billion cells (512 GiB), one at
``Z1048576`` for 27 million (about 1.3 GB). The sheet's declared ``<dimension>`` and every cell
reference are read here from the inflated XML stream, in blocks of bounded size, and the sheet is
refused naming the cell that lies too far. Pure Python, no ORM.

The usual sheet is checked by a byte scan of its ``r="…"`` references (a second or so for 100k
rows); only a sheet that the scan finds too wide or too long, or whose cells do not all name their
position, is parsed cell by cell, so that an empty formatted cell (which no reader allocates) or a
position implied by the cell before it is judged as a reader would judge it.
"""

import re
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
BLOCK = 1 << 20
# The catalog has 16 columns; an export may carry more, which the import ignores. 256 columns
# (A to IV, the old Excel limit) leaves room for those.
MAX_COLUMNS = 256
# ZZZ, the last column openpyxl names (Excel's last is XFD, 16,384).
MAX_NAMED_COLUMN = 18_278
# Rows beyond the product-row limit allowed for a title block, the header and blank lines.
ROW_SLACK = 1000
# Cells from A1 to the furthest cell: a reader needs about 32 bytes for each, so 6 million is
# about 200 MB (200,000 rows × 30 columns).
MAX_CELLS = 6_000_000

_ROW_TAGS = re.compile(rb' r="([0-9]+)"')  # a row's reference: digits only
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*?\sref="([^"]*)"')
_SHEET_DATA = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?sheetData\b")


class ExtentError(Exception):
    """The sheet is refused; ``str(err)`` ends the message that names the file and sheet."""


@dataclass(frozen=True)
class Bounds:
    max_row: int
    max_column: int = MAX_COLUMNS
    max_cells: int = MAX_CELLS


def bounds_for(max_rows: int) -> Bounds:
    """Return the bounds of a sheet that holds at most ``max_rows`` product rows."""
    return Bounds(max_row=max_rows + ROW_SLACK)


def column_letter(number: int) -> str:
    """Return the letters of a 1-based column number (1 → A, 28 → AB); past ZZZ, which no
    spreadsheet reaches, ``#`` and the number."""
    from openpyxl.utils import get_column_letter  # loaded only when a message names a column

    return get_column_letter(number) if 0 < number <= MAX_NAMED_COLUMN else f"#{number}"


def column_number(letters: str) -> int:
    """Return the 1-based number of column ``letters`` (A → 1, XFD → 16384)."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


def _too_far(row: int, col: int, bounds: Bounds) -> str | None:
    """Why a sheet reaching (row, col) reaches too far, or None."""
    if col > bounds.max_column:
        return f"beyond column {column_letter(bounds.max_column)}, the last a catalog may use"
    if row > bounds.max_row:
        return f"beyond row {bounds.max_row:,}, the last a catalog may use"
    if row * col > bounds.max_cells:
        return (
            f"so that the sheet spans A1:{column_letter(col)}{row} ({row * col / 1e6:.1f} million "
            f"cells, where a catalog may span {bounds.max_cells / 1e6:.0f} million)"
        )
    return None


_FIX = (
    "Delete the rows and columns after your catalog (in Excel, Ctrl+End shows the last cell "
    "in use), save, and upload again."
)


def quick_scan(stream, bounds: Bounds) -> bool:
    """Read a worksheet's XML ``stream`` once; raise ``ExtentError`` for a declared dimension
    that reaches too far, and return whether the cells need the careful pass (``check_cells``):
    a row or column beyond the bounds, or a cell that does not name its position first thing
    (``<c r="…"``, as every writer puts it), whose position a reader works out.

    Only references that could be too far are collected: columns of two letters or more, and
    row numbers of as many digits as the last row allowed. Columns of one letter (at most Z)
    times the rows allowed are within the cells allowed, so the usual catalog collects nothing.
    """
    carry, head = b"", True
    digits = len(str(bounds.max_row))
    # A literal space before r= lets the search skip ahead fast; every writer puts one there.
    far = re.compile(rb' r="(?:([A-Z]{2,})[0-9]|[A-Z]*([0-9]{%d,})")' % digits)
    unnamed = None
    far_col = far_row = 0
    while True:
        block = stream.read(BLOCK)
        data = carry + block
        if head:
            _check_dimension(data, bounds)
            if match := _SHEET_DATA.search(data):
                head, prefix = False, re.escape(match.group(1) + b":" if match.group(1) else b"")
                # A cell tag not followed by r="…" (but not <cols>, <cfRule>…: a name goes on).
                unnamed = re.compile(rb'<%sc(?![\w.-]| r=")' % prefix)
        # Up to the last complete tag; the rest begins the next block.
        end = len(data) if not block else data.rfind(b">") + 1
        for letters, row in set(far.findall(data, 0, end)):
            if letters:
                far_col = max(far_col, column_number(letters.decode()))
            else:
                far_row = max(far_row, int(row))
        if far_col and not far_row:  # a wide sheet: its rows matter, whatever their digits
            far_row = max(map(int, _ROW_TAGS.findall(data, 0, end)), default=0)
        if unnamed is not None and unnamed.search(data, 0, end):
            return True
        carry = data[end:]
        if not block:
            break
    return bool(_too_far(far_row, max(far_col, 26), bounds))


def _check_dimension(head: bytes, bounds: Bounds) -> None:
    match = _DIMENSION.search(head)
    if not match:
        return
    ref = match.group(1).decode("ascii", "replace").split(":")[-1].replace("$", "")
    letters = "".join(ch for ch in ref if ch.isalpha())
    if not letters.isascii() or not ref[len(letters) :].isdigit():
        return  # not a cell reference: readers ignore it too
    row, col = int(ref[len(letters) :]), column_number(letters)
    why = _too_far(row, col, bounds)
    if why:
        raise ExtentError(f"declares that its cells reach {letters.upper()}{row}, {why}. {_FIX}")


def check_cells(stream, bounds: Bounds) -> None:
    """Parse the sheet cell by cell and raise ``ExtentError`` naming the first cell with a value
    that lies too far. Positions follow the reader's rules: a cell or row without ``r`` follows
    the one before; an empty cell (no value) is not allocated and not counted. A damaged sheet
    is left for the reader to refuse with its own message."""
    row = col = cell_row = far_row = far_col = 0
    parent = None
    try:
        for event, elem in SafeET.iterparse(stream, events=("start", "end")):
            tag = elem.tag
            if event == "start":
                if tag == f"{NS}sheetData":
                    parent = elem
                elif tag == f"{NS}row":
                    r = elem.get("r", "")
                    row, col = (int(r) if r.isdigit() else row + 1), 0
                elif tag == f"{NS}c":
                    ref = elem.get("r", "")
                    letters = ref.rstrip("0123456789")
                    digits = ref[len(letters) :]
                    col = column_number(letters) if letters.isalpha() else col + 1
                    cell_row = int(digits) if digits.isdigit() else row
            elif tag == f"{NS}c":
                value = elem.find(f"{NS}v")
                if elem.find(f"{NS}is") is not None or (value is not None and value.text):
                    far_row, far_col = max(far_row, cell_row), max(far_col, col)
                    why = _too_far(far_row, far_col, bounds)
                    if why:
                        raise ExtentError(
                            f"has a value in cell {column_letter(col)}{cell_row}, {why}. {_FIX}"
                        )
                elem.clear()
            elif tag == f"{NS}row" and parent is not None:
                parent.clear()  # rows done with: memory stays flat however many there are
    except (SafeET.ParseError, DefusedXmlException, ValueError):
        return
