"""A crafted workbook must not take the serving process down (issue 18, item 1).

The files are written by hand: a few KB whose one far cell (``XFD1048576``, ``Z1048576``) would
make a reader allocate a grid of 17 billion or 27 million cells. They are refused before any
reader allocates, naming the cell; what gets past that check is parsed in a child process whose
memory is limited, and refused when it needs more.
"""

import io
import os
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog import reader
from catalog.models import ImportBatch, ImportStatus, Product, ProductVersion
from tests.catalog.conftest import HEADERS, row
from workbench.roles import Role

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Target="xl/workbook.xml" '
        f'Type="{REL}/officeDocument"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        '<sheet name="Products" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _cell(ref: str, value) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def crafted_xlsx(far: str | None, *, dimension: str | None = None, far_xml: str = "") -> bytes:
    """A catalog of 20 good products and, alone at ``far``, one more cell."""
    rows = [HEADERS] + [row(f"C-{n}") for n in range(20)]
    xml = []
    for number, values in enumerate(rows, start=1):
        cells = "".join(
            _cell(f"{reader.column_letter(i)}{number}", v) for i, v in enumerate(values)
        )
        xml.append(f'<row r="{number}">{cells}</row>')
    if far:
        number = far.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        xml.append(f'<row r="{number}">{far_xml or _cell(far, "x")}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = f'<worksheet xmlns="{MAIN}">{dim}<sheetData>{"".join(xml)}</sheetData></worksheet>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in {**PARTS, "xl/worksheets/sheet1.xml": sheet}.items():
            zf.writestr(name, data)
    return out.getvalue()


FAR_CELLS = ["XFD1048576", "Z1048576"]


def _nothing_written():
    assert Product.objects.count() == 0 and ProductVersion.objects.count() == 0


@pytest.mark.parametrize("far", FAR_CELLS)
def test_a_far_cell_is_refused_through_the_web_upload_naming_it(cast, far):
    content = crafted_xlsx(far)
    assert len(content) < 8 * 1024
    pid = os.getpid()
    client = cast.client(Role.ANALYST)
    response = client.post(
        reverse("catalog:import_upload", args=["acme"]),
        {"file": SimpleUploadedFile("crafted.xlsx", content)},
    )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.REFUSED
    assert f"has a value in cell {far}" in batch.message
    assert "Ctrl+End" in batch.message
    _nothing_written()
    # The serving process is still this one, and still serves.
    assert os.getpid() == pid
    page = client.get(reverse("catalog:batch_detail", args=["acme", batch.pk]))
    assert page.status_code == 200 and far.encode() in page.content


@pytest.mark.parametrize("far", FAR_CELLS)
def test_a_far_cell_is_refused_through_the_command_naming_it(cast, far, tmp_path):
    path = tmp_path / "crafted.xlsx"
    path.write_bytes(crafted_xlsx(far, dimension=f"A1:{far}"))
    with pytest.raises(CommandError, match=f"reach {far}, beyond"):
        call_command("import_catalog", str(path), tenant="acme", user="acme-analyst")
    assert ImportBatch.objects.get().status == ImportStatus.REFUSED
    _nothing_written()


def test_a_cell_whose_position_is_implied_is_judged_where_a_reader_puts_it():
    # No r="…" on the cell: it follows its row's number, as every reader places it.
    content = crafted_xlsx("Z1048576", far_xml='<c t="inlineStr"><is><t>x</t></is></c>')
    with pytest.raises(reader.FileRefused, match="has a value in cell A1048576"):
        reader.open_table(io.BytesIO(content), "c.xlsx", _limits())


def test_an_empty_formatted_cell_far_away_is_no_reason_to_refuse():
    # Excel writes formatting as empty cells; no reader allocates for them.
    content = crafted_xlsx("Z1048576", far_xml='<c r="Z1048576" s="1"/><c r="Y1048576"><v/></c>')
    table = reader.open_table(io.BytesIO(content), "c.xlsx", _limits())
    assert len(list(table.rows)) == 20


def test_a_sheet_too_wide_is_refused_naming_the_cell():
    content = crafted_xlsx("IW5")
    with pytest.raises(reader.FileRefused, match="cell IW5, beyond column IV"):
        reader.open_table(io.BytesIO(content), "c.xlsx", _limits())


def _limits(**changes):
    return reader.Limits(
        **{
            "max_bytes": 50 << 20,
            "max_rows": 200_000,
            "max_uncompressed_bytes": 500 << 20,
            "max_compression_ratio": 200,
            "max_reader_mb": 300,
            **changes,
        }
    )


def test_a_sheet_that_needs_more_memory_than_the_limit_is_refused_saying_so(cast, settings):
    # Within the extent a catalog may have (2.6 million cells), but not within 64 MB.
    settings.IMPORT_READER_MAX_MB = 64
    content = crafted_xlsx("Z100000")
    pid = os.getpid()
    response = cast.client(Role.ANALYST).post(
        reverse("catalog:import_upload", args=["acme"]),
        {"file": SimpleUploadedFile("crafted.xlsx", content)},
    )
    assert response.status_code == 302 and os.getpid() == pid
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.REFUSED
    assert "'crafted.xlsx' needs more than 64 MB to read" in batch.message
    _nothing_written()


def test_the_whole_sheet_reader_is_limited_too():
    content = crafted_xlsx("Z100000")
    with pytest.raises(reader.FileRefused, match="needs more than 64 MB to read"):
        rows, _height, _problems = reader._whole_sheet(
            content, "c.xlsx", "Products", "xl/worksheets/sheet1.xml", 64
        )
        list(rows)
