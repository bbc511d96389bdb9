"""What an import writes: new, updated and unchanged products, row errors, formats, audit."""

import io

from openpyxl import load_workbook

from audit.models import AuditEvent
from catalog import importer, workbooks
from catalog.models import ImportStatus, Product, ProductVersion
from tests.catalog.conftest import HEADERS, csv_bytes, rezip, row, xlsx_bytes


def test_new_rows_create_products_with_a_first_version(run_import, cast):
    batch = run_import(xlsx_bytes([row("A-1"), row("B-2", **{"Country of origin": "vn"})]))
    assert batch.status == ImportStatus.DONE
    assert (batch.new_count, batch.updated_count, batch.unchanged_count) == (2, 0, 0)
    product = Product.objects.get(tenant=cast.tenant, sku="B-2")
    assert product.country_of_origin == "VN" and product.destination == "US"
    assert product.classification_status == "unclassified"
    version = product.current_version
    assert version.n == 1 and version.import_batch_id == batch.pk
    assert version.author == cast.users["analyst"]
    assert version.facts["materials"] == ["cotton", "elastane"]
    assert version.facts["declared_code"] == "6109100012"
    assert version.facts["customs_value"] == "4.8"
    assert len(version.sha256) == 64


def test_identical_facts_create_no_version(run_import):
    run_import(xlsx_bytes([row("A-1"), row("B-2")]))
    batch = run_import(csv_bytes([row("A-1"), row("B-2")]), "again.csv")
    assert (batch.new_count, batch.updated_count, batch.unchanged_count) == (0, 0, 2)
    assert ProductVersion.objects.count() == 2


def test_changed_facts_create_a_new_version_and_keep_the_old_one(run_import):
    run_import(xlsx_bytes([row("A-1"), row("B-2")]))
    batch = run_import(xlsx_bytes([row("A-1", Materials="polyester"), row("B-2")]))
    assert (batch.new_count, batch.updated_count, batch.unchanged_count) == (0, 1, 1)
    product = Product.objects.get(sku="A-1")
    assert product.current_version.n == 2
    assert product.current_version.facts["materials"] == ["polyester"]
    first = product.versions.get(n=1)
    assert first.facts["materials"] == ["cotton", "elastane"]
    event = AuditEvent.objects.get(verb="catalog.product.updated", target_id=str(product.pk))
    assert event.data["changes"] == {"materials": [["cotton", "elastane"], ["polyester"]]}
    assert event.data["version"] == 2


def test_the_same_sku_in_two_tenants_is_two_products(run_import, cast):
    run_import(xlsx_bytes([row("A-1")]))
    batch = run_import(xlsx_bytes([row("A-1", Name="Globex shirt")]), tenant=cast.other_tenant)
    assert batch.new_count == 1
    assert Product.objects.filter(sku="A-1").count() == 2
    assert Product.objects.get(tenant=cast.other_tenant).name == "Globex shirt"
    assert Product.objects.get(tenant=cast.tenant).name == "Cotton T-shirt A-1"


def test_bad_rows_are_refused_with_row_column_and_reason_and_the_rest_are_accepted(run_import):
    rows = [
        row("A-1"),
        row("B-2", **{"Country of origin": "Chna"}),
        row("C-3", Materials=" ; ", Destination="CA"),
    ]
    batch = run_import(xlsx_bytes(rows))
    assert (batch.new_count, batch.refused_count) == (1, 2)
    assert list(Product.objects.values_list("sku", flat=True)) == ["A-1"]
    lines = importer.row_error_lines(batch.refused_rows)
    assert lines[0].startswith("row 3, Country of origin: 'Chna' is not an ISO 3166 country code")
    assert "row 4, Materials: at least one material is required" in lines
    assert "row 4, Destination: 'CA' is not a destination (US, EU, GB)" in lines


def test_an_import_is_audited_once_with_its_counts(run_import, cast):
    batch = run_import(xlsx_bytes([row("A-1"), row("B-2", Name="")]))
    event = AuditEvent.objects.get(verb="catalog.import.completed")
    assert event.actor == cast.users["analyst"]
    assert event.target_id == str(batch.pk)
    assert event.data["new"] == 1 and event.data["refused"] == 1
    assert event.data["file_sha256"] == batch.file_sha256
    created = AuditEvent.objects.get(verb="catalog.product.created")
    assert created.data["sku"] == "A-1" and created.data["facts"]["name"] == "Cotton T-shirt A-1"


def test_large_imports_are_audited_per_batch_not_per_product(run_import, monkeypatch):
    from catalog import services

    monkeypatch.setattr(services.imports, "AUDIT_DETAIL_MAX", 2)
    run_import(xlsx_bytes([row(f"S-{i}") for i in range(3)]))
    assert not AuditEvent.objects.filter(verb="catalog.product.created").exists()
    assert AuditEvent.objects.filter(verb="catalog.import.completed").count() == 1
    assert ProductVersion.objects.filter(import_batch__isnull=False).count() == 3


def test_the_refused_rows_workbook_carries_the_errors_and_reimports_once_fixed(run_import):
    rows = [row("A-1"), row("B-2", **{"Country of origin": "Chna"})]
    batch = run_import(xlsx_bytes(rows))
    sheet = load_workbook(io.BytesIO(workbooks.refused_workbook(batch))).active
    values = list(sheet.values)
    assert list(values[0]) == [*HEADERS, "Errors", "Row in original file"]
    assert values[1][0] == "B-2" and values[1][3] == "Chna"
    assert "Country of origin: 'Chna' is not an ISO 3166" in values[1][len(HEADERS)]
    sheet.cell(row=2, column=4).value = "CN"
    fixed = io.BytesIO()
    sheet.parent.save(fixed)
    again = run_import(fixed.getvalue(), "fixed.xlsx")
    assert (again.new_count, again.refused_count) == (1, 0)
    assert Product.objects.get(sku="B-2").country_of_origin == "CN"


def test_the_refused_rows_workbook_never_writes_formulas(run_import):
    content = csv_bytes([row("A-1", Name='=HYPERLINK("http://x","y")', Materials="")])
    batch = run_import(content, "c.csv")
    sheet = load_workbook(io.BytesIO(workbooks.refused_workbook(batch))).active
    cell = sheet.cell(row=2, column=2)
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"


def test_codes_stored_as_numbers_are_kept_only_when_unambiguous(run_import):
    rows = [
        row("A-1", **{"Declared code": 61091000}),
        row("B-2", **{"Declared code": 90121}),
        row("C-3", **{"Declared code": 8471.3}),
    ]
    batch = run_import(xlsx_bytes(rows))
    assert Product.objects.get(sku="A-1").current_version.facts["declared_code"] == "61091000"
    lines = importer.row_error_lines(batch.refused_rows)
    assert lines[0].startswith("row 3, Declared code: 90121 was stored as a number")
    assert lines[1].startswith("row 4, Declared code: 8471.3 was stored as a number")


def _with_formulas(content: bytes, cells: dict[str, bytes]) -> bytes:
    """Give formula cells (written by openpyxl without values) the cached values of ``cells``."""

    def patch(data: bytes) -> bytes:
        for ref, cached in cells.items():
            head, rest = data.split(f'<c r="{ref}">'.encode(), 1)
            formula, rest = rest.split(b"<v />", 1)
            value = b"<v>" + cached + b"</v>" if cached else b"<v />"
            data = head + f'<c r="{ref}" t="str">'.encode() + formula + value + rest
        return data

    return rezip(content, replace={"xl/worksheets/sheet1.xml": patch})


def test_formulas_are_read_as_their_cached_values_and_a_formula_without_one_is_a_row_error(
    run_import,
):
    rows = [
        row("A-1", **{"Country of origin": '=UPPER("bd")'}),
        row("B-2", **{"Country of origin": '=UPPER("vn")'}),
    ]
    content = _with_formulas(xlsx_bytes(rows), {"D2": b"BD", "D3": b""})
    batch = run_import(content)
    assert Product.objects.get(sku="A-1").country_of_origin == "BD"
    assert batch.refused_count == 1
    assert importer.row_error_lines(batch.refused_rows) == [
        "row 3, Country of origin: formula has no calculated value"
    ]


def test_csv_with_semicolons_and_a_bom_is_read(run_import):
    batch = run_import(csv_bytes([row("A-1"), row("B-2")], delimiter=";", bom=True), "eu.csv")
    assert batch.new_count == 2
    assert Product.objects.get(sku="A-1").current_version.facts["currency"] == "USD"


def test_broker_header_aliases_are_accepted(run_import):
    headers = [
        "Part Number",
        "Item Name",
        "Goods Description",
        "COO",
        "Material Composition",
        "End Use",
        "Category",
        "Market",
        "Unit Value",
        "CCY",
        "HTS Code",
    ]
    batch = run_import(csv_bytes([row("A-1")], headers=headers), "broker.csv")
    assert batch.new_count == 1, importer.row_error_lines(batch.refused_rows)
    facts = Product.objects.get(sku="A-1").current_version.facts
    assert facts["declared_code"] == "6109100012" and facts["country_of_origin"] == "BD"


def test_unknown_columns_are_ignored_and_reported(run_import):
    batch = run_import(csv_bytes([[*row("A-1"), "red"]], headers=[*HEADERS, "Colour"]), "c.csv")
    assert batch.new_count == 1 and batch.ignored_columns == ["Colour"]


def test_a_preferred_products_sheet_is_read_whatever_its_position(run_import):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Read me"
    wb.active.append(["This sheet explains the file"])
    products = wb.create_sheet("Products")
    products.append(HEADERS)
    products.append(row("A-1"))
    buffer = io.BytesIO()
    wb.save(buffer)
    batch = run_import(buffer.getvalue())
    assert batch.new_count == 1 and batch.sheet == "Products"
