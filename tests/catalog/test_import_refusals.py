"""File-level refusals: one clear message, and no product or version written."""

import io
import zipfile

import pytest

from audit.models import AuditEvent
from catalog import reader
from catalog.models import ImportStatus, Product, ProductVersion
from tests.catalog.conftest import HEADERS, csv_bytes, rezip, row, xlsx_bytes


def assert_refused(batch, *fragments):
    assert batch.status == ImportStatus.REFUSED, batch.message
    for fragment in fragments:
        assert fragment in batch.message
    assert Product.objects.count() == 0
    assert ProductVersion.objects.count() == 0
    events = AuditEvent.objects.filter(verb="catalog.import.refused", target_id=str(batch.pk))
    assert events.exists()


def test_a_file_that_is_not_a_spreadsheet_is_refused(run_import):
    batch = run_import(b"%PDF-1.7 a pdf", "catalog.pdf")
    assert_refused(batch, "'catalog.pdf' is not a spreadsheet")


def test_a_pdf_renamed_to_xlsx_is_refused(run_import):
    batch = run_import(b"%PDF-1.7 a pdf", "catalog.xlsx")
    assert_refused(batch, "is not an Excel workbook", "renamed")


def test_a_word_document_renamed_to_xlsx_is_refused(run_import):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as docx:
        docx.writestr("[Content_Types].xml", "<Types/>")
        docx.writestr("word/document.xml", "<document/>")
    batch = run_import(out.getvalue(), "catalog.xlsx")
    assert_refused(batch, "not an Excel workbook", "xl/workbook.xml is missing")


def test_a_workbook_renamed_to_csv_is_refused(run_import):
    batch = run_import(xlsx_bytes([row()]), "catalog.csv")
    assert_refused(batch, "renamed to .csv")


def test_an_old_xls_or_encrypted_workbook_is_refused(run_import):
    batch = run_import(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "catalog.xlsx")
    assert_refused(batch, "old-style .xls or a password-protected workbook")


def test_a_corrupt_archive_is_refused(run_import):
    content = xlsx_bytes([row()])
    batch = run_import(content[: len(content) // 2], "catalog.xlsx")
    assert_refused(batch, "damaged")


def test_a_zip_bomb_is_refused_by_declared_size_before_parsing(run_import, settings, monkeypatch):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 4 * 1024 * 1024
    monkeypatch.setattr(reader, "_calamine_rows", pytest.fail)
    content = rezip(xlsx_bytes([row()]), add={"xl/media/filler.bin": b"\0" * (6 * 1024 * 1024)})
    batch = run_import(content, "catalog.xlsx")
    assert_refused(batch, "would expand to 6.0 MB, over the 4.0 MB limit")


def test_a_zip_bomb_is_refused_by_compression_ratio_before_parsing(run_import, monkeypatch):
    monkeypatch.setattr(reader, "_calamine_rows", pytest.fail)
    content = rezip(xlsx_bytes([row()]), add={"xl/media/filler.bin": b"\0" * (20 * 1024 * 1024)})
    batch = run_import(content, "catalog.xlsx")
    assert_refused(batch, "compressed suspiciously well", "possible zip bomb")


def test_a_file_over_the_size_limit_is_refused(run_import, settings):
    settings.UPLOAD_MAX_BYTES = 2048
    batch = run_import(csv_bytes([row(f"S-{i}") for i in range(40)]), "catalog.csv")
    assert_refused(batch, "over the 0.0 MB limit")


def test_more_rows_than_the_limit_are_refused_counting_rows_not_the_declared_dimension(
    run_import, settings
):
    settings.IMPORT_MAX_ROWS = 3
    lying = rezip(
        xlsx_bytes([row(f"S-{i}") for i in range(5)]),
        replace={"xl/worksheets/sheet1.xml": lambda d: d.replace(b'ref="A1:K6"', b'ref="A1:K2"')},
    )
    batch = run_import(lying, "catalog.xlsx")
    assert_refused(batch, "more than 3 product rows (the limit)")


def test_missing_required_columns_are_listed_with_the_columns_found(run_import):
    headers = ["SKU", "Name", "Description", "Intended use", "Product type", "Colour"]
    batch = run_import(csv_bytes([["A", "B", "C", "D", "E", "red"]], headers=headers), "c.csv")
    assert_refused(
        batch,
        "Required columns are missing: Country of origin, Materials, Destination.",
        "Columns found: 'SKU', 'Name', 'Description', 'Intended use', 'Product type', 'Colour'",
    )


def test_two_columns_meaning_the_same_fact_are_refused(run_import):
    headers = [*HEADERS, "HTS"]
    batch = run_import(csv_bytes([[*row(), "61091000"]], headers=headers), "c.csv")
    assert_refused(batch, "Columns K 'Declared code' and L 'HTS' both mean Declared code")


def test_an_empty_sheet_is_refused(run_import):
    assert_refused(run_import(xlsx_bytes([], headers=None), "catalog.xlsx"), "is empty")


def test_a_sheet_with_only_headers_is_refused(run_import):
    batch = run_import(xlsx_bytes([]), "catalog.xlsx")
    assert_refused(batch, "has a header row but no product rows")


def test_a_duplicate_sku_within_the_file_names_both_rows(run_import):
    rows = [row("A-1"), row("B-2"), row("A-1", Name="Another name")]
    assert_refused(run_import(xlsx_bytes(rows)), "Duplicate SKU 'A-1' on rows 2 and 4")


def test_a_csv_in_another_encoding_is_refused(run_import):
    content = csv_bytes([row(Name="Café crème T-shirt")], encoding="latin-1")
    assert_refused(run_import(content, "catalog.csv"), "is not UTF-8 text", "line 2", "CSV UTF-8")


def test_a_binary_file_named_csv_is_refused(run_import):
    assert_refused(run_import(b"\x00\x01\x02binary", "catalog.csv"), "is not a text file")


def test_a_nul_byte_deep_in_a_csv_is_refused_with_its_line(run_import):
    rows = [row(f"S-{i:05d}") for i in range(1200)]  # past the first 64 KB
    rows[1100] = row("S-01100", Description="bad\x00byte")
    content = csv_bytes(rows)
    assert len(content) > 65536
    assert_refused(run_import(content, "catalog.csv"), "NUL byte on line 1102")


def test_xml_entity_declarations_are_refused(run_import):
    def add_dtd(data: bytes) -> bytes:
        return b'<!DOCTYPE workbook [<!ENTITY boom "boom">]>' + data

    content = rezip(xlsx_bytes([row()]), replace={"xl/workbook.xml": add_dtd})
    assert_refused(run_import(content), "XML entity or DTD declarations")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_csv_is_refused_as_utf16_text_with_how_to_save_it(run_import, encoding):
    batch = run_import(csv_bytes([row()], encoding=encoding), "catalog.csv")
    assert_refused(batch, "'catalog.csv' is UTF-16 text", "CSV UTF-8")
