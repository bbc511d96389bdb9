"""Sheets parsed in pieces give exactly what a whole-sheet parse gives (catalog.sheetpieces).

Pieces are made tiny here so that every file is cut many times: at rows, after gaps, where a
piece's first column is empty, in sheets that start below row 1 or right of column A.
"""

import io
import threading
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from catalog import importer, reader, sheetpieces
from catalog.reader import FileRefused
from tests.catalog.conftest import HEADERS, rezip, row

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture
def tiny_pieces(monkeypatch):
    """Cut every sheet, into pieces of a few rows (whatever its shared strings)."""
    real_split = sheetpieces.split
    monkeypatch.setattr(sheetpieces, "FIRST_PIECE_BYTES", 200)
    monkeypatch.setattr(sheetpieces, "MAX_PIECE_BYTES", 700)
    monkeypatch.setattr(sheetpieces, "READ_BYTES", 97)
    monkeypatch.setattr(sheetpieces, "SHARED_STRINGS_RATIO", 0)
    monkeypatch.setattr(sheetpieces, "split", lambda member, _shared=0: real_split(member))


def workbook(rows, *, start="A1", sheet="Products", formulas=()) -> bytes:
    """An openpyxl workbook (shared strings) with ``rows`` placed from cell ``start``."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    col0 = ord(start[0]) - 64
    row0 = int(start[1:])
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if value is not None:
                ws.cell(row=row0 + r, column=col0 + c, value=value)
    for ref, formula in formulas:
        ws[ref] = formula
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def with_sheet_xml(content: bytes, xml: bytes, shared: list | None = None) -> bytes:
    """``content`` with its first sheet's XML replaced, and ``shared`` strings, if given, in
    a shared-strings part (as Excel saves text)."""
    if shared is None:
        return rezip(content, replace={SHEET: lambda _: xml})
    items = "".join(f"<si><t>{text}</t></si>" for text in shared)
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}"/></Types>'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    link = f'<Relationship Id="rIdS" Type="{rel}" Target="sharedStrings.xml"/></Relationships>'
    return rezip(
        content,
        replace={
            SHEET: lambda _: xml,
            "[Content_Types].xml": lambda data: data.replace(b"</Types>", override.encode()),
            "xl/_rels/workbook.xml.rels": lambda data: data.replace(
                b"</Relationships>", link.encode()
            ),
        },
        add={"xl/sharedStrings.xml": f'<sst xmlns="{MAIN_NS}">{items}</sst>'.encode()},
    )


def sheet_xml(rows, *, prefix="", numbered=True, insert_at=None, insert=b"", shared=None) -> bytes:
    """Hand-written sheet XML: ``rows`` is ``[(row number, [(column letter, value)])]``;
    ``insert`` goes in before the row at index ``insert_at``. Text goes inline, or into the
    list ``shared`` (referenced by index) when one is given."""
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {ns}><{p}sheetData>'.encode()]
    for i, (number, cells) in enumerate(rows):
        if i == insert_at:
            parts.append(insert)
        r = f' r="{number}"' if numbered else ""
        xml = f"<{p}row{r}>"
        for col, value in cells:
            ref = f' r="{col}{number}"' if numbered else ""
            if isinstance(value, str) and shared is not None:
                shared.append(value)
                xml += f'<{p}c{ref} t="s"><{p}v>{len(shared) - 1}</{p}v></{p}c>'
            elif isinstance(value, str):
                xml += f'<{p}c{ref} t="inlineStr"><{p}is><{p}t>{value}</{p}t></{p}is></{p}c>'
            else:
                xml += f"<{p}c{ref}><{p}v>{value}</{p}v></{p}c>"
        parts.append((xml + f"</{p}row>").encode())
    parts.append(f"</{p}sheetData></{p}worksheet>".encode())
    return b"".join(parts)


def trimmed(rows) -> list:
    """Rows without blank rows and trailing blank cells (as the importer sees them)."""
    out = []
    for number, cells in rows:
        if reader._blank(cells):
            continue
        cells = list(cells)
        while cells and cells[-1] == "":
            cells.pop()
        out.append((number, cells))
    return out


def both(content: bytes, sheet="Products"):
    """``(rows in pieces, problems), (rows whole, problems)`` of the file's sheet."""
    rows, _estimate, problems = reader._calamine_rows(content, "t.xlsx", sheet, SHEET)
    pieces = trimmed(rows)
    rows, _height, whole_problems = reader._whole_sheet(content, "t.xlsx", sheet, SHEET)
    return (pieces, dict(problems)), (trimmed(rows), whole_problems)


def catalog_rows(n: int) -> list:
    rows = [HEADERS]
    for i in range(n):
        values = row(f"SKU-{i:04d}")
        if i % 7 == 3:
            values[0] = None  # a piece may begin with an empty first column
        if i % 5 == 0:
            values[8] = 4.5 + i  # numbers among text
        rows.append(values)
    return rows


def test_pieces_give_what_a_whole_parse_gives(tiny_pieces):
    content = workbook(catalog_rows(60))
    (pieces, _), (whole, _) = both(content)
    assert len(whole) == 61
    assert pieces == whole


def test_pieces_of_a_sheet_that_starts_below_and_right_keep_sheet_row_numbers_and_columns(
    tiny_pieces,
):
    rows = catalog_rows(40)
    rows[10:13] = [[None] * len(HEADERS)] * 3  # a gap of blank rows
    content = workbook(rows, start="C4")
    (pieces, _), (whole, _) = both(content)
    assert pieces == whole
    header_number, header = pieces[0]
    assert header_number == 4
    assert header[:3] == ["", "", "SKU"]  # column C is index 2, as in the sheet


def test_types_survive_pieces(tiny_pieces):
    rows = [["SKU", "When", "Flag", "Count", "Price"]]
    rows += [[f"S{i}", date(2024, 1, 1 + i % 28), i % 2 == 0, i, i / 4] for i in range(50)]
    rows.append(["S-dt", datetime(2024, 5, 6, 7, 8, 9), False, 0, 0.1])
    content = workbook(rows)
    (pieces, _), (whole, _) = both(content)
    assert pieces == whole
    assert {type(cells[1]) for _, cells in pieces[1:]} == {date, datetime}


@pytest.mark.parametrize("prefix", ["", "x"])
def test_hand_written_xml_with_and_without_a_namespace_prefix(tiny_pieces, prefix):
    rows = [(1, [("A", "SKU"), ("B", "Name")])]
    rows += [
        (n, [("B", f"name {n}")] if n % 4 == 0 else [("A", f"S{n}"), ("B", n)])
        for n in range(2, 60)
    ]
    content = with_sheet_xml(workbook([["x"]]), sheet_xml(rows, prefix=prefix))
    (pieces, _), (whole, _) = both(content)
    assert pieces == whole
    assert pieces[3] == (4, ["", "name 4"])
    assert pieces[-1] == (59, ["S59", 59.0])


def test_rows_without_numbers_are_not_cut_apart(tiny_pieces):
    rows = [(n, [("A", f"S{n}"), ("B", n)]) for n in range(1, 60)]
    content = with_sheet_xml(workbook([["x"]]), sheet_xml(rows, numbered=False))
    xml = sheet_xml(rows, numbered=False)
    split = sheetpieces.split(io.BytesIO(xml))
    assert len(list(split.bodies)) == 1
    (pieces, _), (whole, _) = both(content)
    assert pieces == whole
    assert [number for number, _ in pieces] == list(range(1, 60))


@pytest.mark.parametrize(
    "insert",
    [
        b"<!-- <row r='99'><c r='A99'><v>1</v></c></row> -->",
        b"<?note <row r='99'> ?>",
    ],
)
def test_no_cut_after_a_comment_or_instruction_that_might_hide_a_row_tag(tiny_pieces, insert):
    rows = [(n, [("A", f"S{n}"), ("B", n)]) for n in range(1, 60)]
    xml = sheet_xml(rows, insert_at=20, insert=insert)
    bodies = list(sheetpieces.split(io.BytesIO(xml)).bodies)
    assert len(bodies) > 2  # cut before the comment…
    assert insert in bodies[-1]  # …and not after it
    content = with_sheet_xml(workbook([["x"]]), xml)
    (pieces, _), (whole, _) = both(content)
    assert pieces == whole
    assert len(pieces) == 59


def test_formula_problems_are_found_in_every_piece(tiny_pieces):
    rows = catalog_rows(40)
    content = workbook(rows, formulas=[("D30", "=D2"), ("H2", "=H3")])
    (pieces, problems), (whole, whole_problems) = both(content)
    assert pieces == whole
    assert problems == whole_problems
    assert problems == {
        (30, 3): "formula has no calculated value",
        (2, 7): "formula has no calculated value",
    }


def test_an_import_in_pieces_names_rows_and_columns_as_the_sheet_does(tiny_pieces):
    rows = catalog_rows(30)
    rows[26][3] = "Chna"  # data row 25: sheet row 5 + 25 = 30, Country of origin in column F
    content = workbook(rows, start="C4", formulas=[("J10", "=J11")])  # J: Destination
    result = importer.read_catalog(io.BytesIO(content), "catalog.xlsx")
    lines = importer.row_error_lines(result.refused)
    assert "row 10, Destination: formula has no calculated value" in lines
    assert any(
        line.startswith("row 30, Country of origin: 'Chna' is not an ISO 3166 country code")
        for line in lines
    )
    no_sku = [i for i in range(30) if i % 7 == 3]
    assert sorted(r["row"] for r in result.refused) == sorted([10, 30] + [5 + i for i in no_sku])
    refused = next(r for r in result.refused if r["row"] == 30)
    assert refused["values"][2:6] == [rows[26][0], rows[26][1], rows[26][2], "Chna"]


def test_sheet_data_that_never_ends_is_refused_as_damaged(tiny_pieces):
    rows = [(n, [("A", f"S{n}")]) for n in range(1, 60)]
    xml = sheet_xml(rows).replace(b"</sheetData></worksheet>", b"")
    content = with_sheet_xml(workbook([["x"]]), xml)
    with pytest.raises(FileRefused, match="damaged"):
        rows, _estimate, _problems = reader._calamine_rows(content, "t.xlsx", "Products", SHEET)
        list(rows)


def test_a_first_piece_that_will_not_parse_falls_back_to_the_whole_sheet(tiny_pieces, monkeypatch):
    def refuse(workbook, sheet_name, **_):
        raise sheetpieces.PieceError("not this way")

    monkeypatch.setattr(sheetpieces, "parse_piece", refuse)
    content = workbook(catalog_rows(20), formulas=[("D5", "=D6")])
    rows, _estimate, problems = reader._calamine_rows(content, "t.xlsx", "Products", SHEET)
    got = trimmed(rows)
    assert len(got) == 21
    assert problems == {(5, 3): "formula has no calculated value"}


def test_a_later_piece_that_will_not_parse_refuses_the_file(tiny_pieces, monkeypatch):
    real, calls = sheetpieces.parse_piece, []

    def second_fails(workbook, sheet_name, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise sheetpieces.PieceError("bad cell")
        return real(workbook, sheet_name, **kwargs)

    monkeypatch.setattr(sheetpieces, "parse_piece", second_fails)
    rows, _estimate, _problems = reader._calamine_rows(
        workbook(catalog_rows(40)), "t.xlsx", "Products", SHEET
    )
    with pytest.raises(FileRefused, match=r"damaged and cannot be read \(bad cell\)"):
        list(rows)


def test_stopping_early_stops_the_parsing_thread(tiny_pieces):
    rows, _estimate, _problems = reader._calamine_rows(
        workbook(catalog_rows(200)), "t.xlsx", "Products", SHEET
    )
    next(rows)
    rows.close()  # what a refusal halfway through does
    assert not [t for t in threading.enumerate() if t.name == "catalog-pieces"]


def test_the_row_estimate_is_refined_as_pieces_come(tiny_pieces):
    content = workbook(catalog_rows(300))
    table = reader.open_table(io.BytesIO(content), "t.xlsx", importer.default_limits())
    assert table.estimate() is not None
    count = sum(1 for _ in table.rows)
    assert count == 300
    assert abs(table.estimate() - 301) <= 301 * 0.2


def test_pieces_grow_with_the_shared_strings_they_repeat(monkeypatch):
    monkeypatch.setattr(sheetpieces, "FIRST_PIECE_BYTES", 200)
    monkeypatch.setattr(sheetpieces, "MAX_PIECE_BYTES", 700)
    monkeypatch.setattr(sheetpieces, "READ_BYTES", 97)
    rows = [(n, [("A", f"S{n}"), ("B", "x" * 50)]) for n in range(1, 400)]
    xml = sheet_xml(rows)
    plain = [len(body) for body in sheetpieces.split(io.BytesIO(xml), 0).bodies]
    shared = [len(body) for body in sheetpieces.split(io.BytesIO(xml), 1000).bodies]
    assert sum(plain) == sum(shared)
    assert max(plain) < 1000  # up to 700 bytes and the row that crosses it
    assert shared[0] >= 1000  # at least the shared strings' size…
    assert max(shared) > 8000  # …growing to sixteen times it
    assert len(shared) < len(plain) / 4


def test_sheet_sizes_decide_whether_to_cut():
    assert sheetpieces.worth_cutting(64 * 1000, 1000)
    assert not sheetpieces.worth_cutting(64 * 1000 - 1, 1000)
    assert sheetpieces.worth_cutting(10, 0)


def shared_strings_workbook(n: int) -> bytes:
    shared: list = []
    rows = [(1, [("A", "SKU"), ("B", "Name"), ("C", "Price")])]
    rows += [(r, [("A", f"S{r}"), ("B", f"name {r % 9}"), ("C", r / 2)]) for r in range(2, n)]
    xml = sheet_xml(rows, shared=shared)
    return with_sheet_xml(workbook([["x"]]), xml, shared)


def test_a_workbook_with_shared_strings_gives_the_same_rows_in_pieces(tiny_pieces):
    (pieces, _), (whole, _) = both(shared_strings_workbook(80))
    assert pieces == whole
    assert pieces[5] == (6, ["S6", "name 6", 3.0])


def test_a_workbook_whose_shared_strings_outweigh_the_gain_is_parsed_whole(monkeypatch):
    def no_pieces(*args, **kwargs):
        raise AssertionError("cut a sheet that should be parsed whole")

    monkeypatch.setattr(sheetpieces, "PieceReader", no_pieces)
    # Here the shared strings are a fifth of the sheet, as in a catalog saved by Excel.
    rows, estimate, _problems = reader._calamine_rows(
        shared_strings_workbook(80), "t.xlsx", "Products", SHEET
    )
    assert estimate == 79
    assert len(trimmed(rows)) == 79


def test_pieces_of_a_workbook_with_other_sheets_and_images(tiny_pieces):
    wb = Workbook()
    ws = wb.active
    ws.title = "Instructions"
    ws.append(["Fill in the Products sheet"])
    products = wb.create_sheet("Products")
    for values in catalog_rows(30):
        products.append(values)
    out = io.BytesIO()
    wb.save(out)
    image = b"\x89PNG" + bytes(range(256)) * 64
    packed = io.BytesIO(rezip(out.getvalue(), add={"xl/media/image1.png": image}))
    sheet = "xl/worksheets/sheet2.xml"
    assert sheet in zipfile.ZipFile(packed).namelist()
    pieces = trimmed(reader._calamine_rows(packed.getvalue(), "t.xlsx", "Products", sheet)[0])
    whole = trimmed(reader._whole_sheet(packed.getvalue(), "t.xlsx", "Products", sheet)[0])
    assert pieces == whole
    assert len(pieces) == 31
    assert "xl/media/image1.png" not in sheetpieces.base_parts(zipfile.ZipFile(packed), sheet)


def corrupted(content: bytes, at: float) -> bytes:
    """``content`` with bytes of its sheet's compressed data flipped (the zip directory intact)."""
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(SHEET)
    data = bytearray(content)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    spot = start + int(info.compress_size * at)
    data[spot : spot + 8] = bytes(b ^ 0xFF for b in data[spot : spot + 8])
    return bytes(data)


@pytest.mark.parametrize("at", [0.02, 0.5, 0.97])
@pytest.mark.parametrize("pieces", [True, False])
def test_a_sheet_with_damaged_data_is_refused_as_damaged(monkeypatch, at, pieces):
    monkeypatch.setattr(sheetpieces, "READ_BYTES", 97)
    if pieces:
        monkeypatch.setattr(sheetpieces, "FIRST_PIECE_BYTES", 200)
        monkeypatch.setattr(sheetpieces, "MAX_PIECE_BYTES", 700)
    else:
        monkeypatch.setattr(sheetpieces, "worth_cutting", lambda *sizes: False)
    content = corrupted(workbook(catalog_rows(80)), at)
    with pytest.raises(FileRefused, match="damaged"):
        table = reader.open_table(io.BytesIO(content), "t.xlsx", importer.default_limits())
        list(table.rows)
