"""Parse a big worksheet in pieces, so that its first rows are ready long before its last.

python-calamine parses a whole sheet before it hands back the first row; on a 100k-row catalog
that is two seconds in which PostgreSQL has nothing to do. Here the sheet's XML is inflated as a
stream and cut at ``<row`` tags into pieces; each piece is wrapped in a small stored workbook
(the original's workbook, styles and shared strings, with the piece as the sheet) and parsed by
calamine, in the reading child process (``catalog.sheetproc``), for a worker thread while the
importer checks the rows of the piece before. Rows come back with their sheet row numbers and
in absolute columns (column A is index 0), exactly as a whole-sheet parse gives them
(``tests/catalog/test_sheet_pieces.py``).

A piece is cut only where it is safe: at a ``<row>`` tag that names its row number (``r="…"``),
and never after a comment, CDATA section or processing instruction (``<!`` or ``<?``), inside
which ``<row`` might not be a tag. Past such a point the rest of the sheet is one piece.
``split`` returns None when the sheet's layout is not one it knows how to cut, and
``worth_cutting`` says whether cutting pays; otherwise the caller parses the sheet whole.

Formula cells are checked per piece, as the whole-sheet scan does: a formula without a cached
value, or whose value is an error, is a problem for its cell (``reader._formula_problems``).
"""

import io
import queue
import re
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# The first piece is small so that rows reach the database soon; later ones are bigger so that
# per-piece costs (opening the workbook, parsing its shared strings) stay a small share.
FIRST_PIECE_BYTES = 512 * 1024
MAX_PIECE_BYTES = 4 * 1024 * 1024
READ_BYTES = 1024 * 1024
# A sheet at least this many times the size of its workbook's shared strings is cut.
SHARED_STRINGS_RATIO = 64
# Parsed pieces waiting for the importer; bounds memory when the importer is the slower side.
AHEAD = 1
# Every piece's workbook repeats the original's parts, but for its worksheets (the others become
# empty) and the folders of images, embedded files and drawings, which values never need.
_LEFT_OUT = ("xl/worksheets/", "xl/media/", "xl/embeddings/", "xl/drawings/", "xl/activeX/")
_EMPTY_SHEET = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData/></worksheet>"
)
_SHEET_DATA = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?sheetData\b[^>]*?(/?)>")
_HAS_R = re.compile(rb"\sr\s*=")
_TAG_END = frozenset(b" \t\r\n>/")


_WHOLE = object()  # the first piece failed: read the sheet whole


class PieceError(Exception):
    """A piece could not be parsed; ``str(err)`` says why, for the damaged-file message."""


@dataclass
class Piece:
    """Rows of one piece: ``(sheet row number, cells in absolute columns)``; formula problems
    ``{(row, column): message}`` of its cells; XML bytes it covered (for estimates)."""

    rows: list
    problems: dict
    xml_bytes: int


def _read(member) -> bytes:
    """Inflate the next block of the sheet; a damaged part (bad data, CRC) is a PieceError."""
    try:
        return member.read(READ_BYTES)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
        raise PieceError(f"its sheet is damaged: {err}") from None


def _head(member, limit: int) -> tuple[bytes, bytes, bytearray] | None:
    """Read up to ``<sheetData>``: return ``(head, namespace prefix, rest read so far)``."""
    buf = bytearray()
    while len(buf) < limit:
        block = _read(member)
        if not block:
            break
        buf += block
        match = _SHEET_DATA.search(buf)
        if match:
            if match.group(2):  # <sheetData/>: no rows at all
                return None
            prefix = match.group(1) + b":" if match.group(1) else b""
            return bytes(buf[: match.end()]), prefix, buf[match.end() :]
    return None


def _cut(buf: bytearray, row_open: bytes, target: int) -> int | None:
    """Return the offset of the first ``<row>`` tag at or after ``target``: -1 when ``buf``
    holds no complete one yet, None when that row does not name its number (``r="…"``), so
    that a piece starting there would be numbered from its own start."""
    start = buf.find(row_open, target)
    while start >= 0:
        after = start + len(row_open)
        if after >= len(buf):
            return -1
        if buf[after] in _TAG_END:
            close = buf.find(b">", after)
            if close < 0:
                return -1
            return start if _HAS_R.search(buf, after, close) else None
        start = buf.find(row_open, after)  # <rowSomething>: not a row
    return -1


@dataclass
class Split:
    """A worksheet cut up: ``head + body + tail`` is a worksheet for each body; ``prefix`` is
    the namespace prefix of its elements (``b"x:"``, usually ``b""``)."""

    head: bytes
    tail: bytes
    prefix: bytes
    bodies: Iterator[bytes]


def _opens(buf: bytearray, char: bytes, end: int) -> bool:
    """Whether ``<`` + ``char`` occurs in ``buf[:end]``: found by the rare ``char`` first
    (memchr), which is ten times faster on sheet XML than searching for the pair."""
    i = buf.find(char, 1, end)
    while i > 0:
        if buf[i - 1] == 0x3C:  # "<"
            return True
        i = buf.find(char, i + 1, end)
    return False


def worth_cutting(sheet_bytes: int, shared_strings_bytes: int) -> bool:
    """Whether a sheet gains from being parsed in pieces.

    Excel keeps a sheet's text in the workbook's shared strings, which every piece repeats and
    calamine parses again. A catalog of distinct descriptions has shared strings a tenth of its
    sheet's size: parsed once per piece they would cost more than the pieces save, and more
    memory. Sheets with inline text (as openpyxl and many exports write them), or whose text
    repeats, have little or none.
    """
    return shared_strings_bytes * SHARED_STRINGS_RATIO <= sheet_bytes


def split(member, shared_strings_bytes: int = 0) -> Split | None:
    """Cut a worksheet XML stream into bodies of whole ``<row>`` elements, or return None
    when there is no ``<sheetData>`` to cut. Raises ``PieceError`` for a damaged part (as do
    the bodies, and when the sheet data never ends).

    Every piece's workbook repeats the shared strings, which calamine parses again for each
    piece: pieces are then at least as big as the shared strings and grow to sixteen times
    their size (see ``worth_cutting``).
    """
    first = max(FIRST_PIECE_BYTES, shared_strings_bytes)
    biggest = max(MAX_PIECE_BYTES, 16 * shared_strings_bytes)
    found = _head(member, 4 * 1024 * 1024)
    if found is None:
        return None
    head, prefix, buf = found
    row_open = b"<" + prefix + b"row"
    end_tag = b"</" + prefix + b"sheetData>"

    def bodies() -> Iterator[bytes]:
        nonlocal buf
        target, cutting, searched = first, True, 0
        while True:
            end = buf.find(end_tag, max(0, searched - len(end_tag)))
            if end >= 0:
                yield bytes(buf[:end])
                return
            searched = len(buf)
            if cutting and len(buf) > target:
                cut = _cut(buf, row_open, target)
                if cut is None:
                    cutting = False  # rows without numbers: cut no more
                elif cut > 0:
                    if _opens(buf, b"!", cut) or _opens(buf, b"?", cut):
                        cutting = False  # a comment, CDATA or instruction: cut no more
                    else:
                        yield bytes(buf[:cut])
                        del buf[:cut]
                        searched = len(buf)
                        target = min(target * 2, biggest)
                        continue
            block = _read(member)
            if not block:
                raise PieceError("the sheet's data does not end")
            buf += block

    return Split(head, end_tag + b"</" + prefix + b"worksheet>", prefix, bodies())


def base_parts(zf: zipfile.ZipFile, sheet_path: str) -> dict[str, bytes]:
    """Return the parts of the workbook that every piece's workbook repeats."""
    parts = {}
    for info in zf.infolist():
        name = info.filename
        if name == sheet_path or name.endswith("/"):
            continue
        if name.startswith("xl/worksheets/") and name.endswith(".xml") and name.count("/") == 2:
            parts[name] = _EMPTY_SHEET
        elif not name.startswith(_LEFT_OUT):
            parts[name] = zf.read(name)
    return parts


def piece_workbook(parts: dict[str, bytes], sheet_path: str, xml: bytes) -> bytes:
    """Return a stored (uncompressed) workbook of ``parts`` with ``xml`` as the sheet."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
        zf.writestr(sheet_path, xml)
    return out.getvalue()


def parse_piece(workbook: bytes, sheet_name: str, *, parse) -> list:
    """Parse one piece's workbook: ``[(sheet row number, cells in absolute columns)]``.

    ``parse(workbook, sheet_name)`` is ``sheetproc.SheetProcess.piece``: calamine in the child
    process, which gives ``(first row, first column, rows)`` from the piece's first cell (its
    ``OutOfMemory`` passes through: no other way of reading the sheet would need less).
    """
    from catalog import sheetproc

    try:
        start_row, start_col, rows = parse(workbook, sheet_name)
    except sheetproc.OutOfMemory:
        raise
    except sheetproc.SheetProcessError as err:
        raise PieceError(str(err)) from None
    return list(absolute_rows(start_row, start_col, rows))


def absolute_rows(start_row: int, start_col: int, rows) -> Iterator[tuple[int, list]]:
    """Number rows that begin at 0-based ``start_row`` and pad them to begin at column A."""
    if start_col:
        pad = [""] * start_col
        return ((start_row + i, pad + cells) for i, cells in enumerate(rows, start=1))
    return enumerate(rows, start=start_row + 1)


class PieceReader:
    """Parse pieces on a worker thread, a piece ahead of the rows being consumed.

    Iterate ``rows()`` for ``(sheet row number, cells)``. ``problems`` grows with each piece
    before its rows are handed out; ``estimate`` is the row count expected, refined as pieces
    come in. Closing the iterator early (a refused file) stops the worker. Should the first
    piece fail to parse, the sheet is read by ``whole()`` instead, which says best what is wrong
    with it (a later piece's failure is the file's: its start parsed).
    """

    def __init__(
        self,
        split: Split,
        total_xml_bytes: int,
        make_piece: Callable[[bytes], Piece],
        whole: Callable[[], Iterator[tuple[int, list]]],
    ):
        self.problems: dict = {}
        self._whole = whole
        self.estimate: int | None = None
        self._head, self._tail, self._bodies = split.head, split.tail, split.bodies
        self._total = max(total_xml_bytes, 1)
        self._make = make_piece
        self._queue: queue.Queue = queue.Queue(maxsize=AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="catalog-pieces", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        first = True
        try:
            for body in self._bodies:
                try:
                    piece = self._make(self._head + body + self._tail)
                except PieceError:
                    if first:
                        self._put(_WHOLE)
                        return
                    raise
                first = False
                if not self._put(piece):
                    return
            self._put(None)
        except BaseException as err:  # handed to the consumer, which raises it
            self._put(err)

    def rows(self) -> Iterator[tuple[int, list]]:
        done_bytes = done_rows = 0
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                if item is _WHOLE:
                    self._stop.set()
                    self._thread.join()
                    yield from self._whole()
                    return
                if isinstance(item, BaseException):
                    raise item
                self.problems.update(item.problems)
                done_bytes += item.xml_bytes
                done_rows += len(item.rows)
                self.estimate = max(done_rows, round(done_rows * self._total / done_bytes))
                yield from item.rows
        finally:
            self._stop.set()
            self._thread.join()
