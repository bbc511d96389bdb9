"""Catalog pages: who may see and do what, and what each page shows."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AuditEvent
from catalog import services
from catalog.models import ImportBatch, Product, ProductVersion
from tests.catalog.conftest import csv_bytes, row, xlsx_bytes
from tests.matrix import check_access_matrix
from workbench.roles import ROLE_PERMISSIONS, Role


def roles_with(codename):
    return {role for role, perms in ROLE_PERMISSIONS.items() if codename in perms}


@pytest.fixture
def imported(run_import):
    return run_import(xlsx_bytes([row("A-1"), row("B-2", **{"Country of origin": "Chna"})]))


@pytest.fixture
def queued_batch(cast, django_capture_on_commit_callbacks):
    """A background import whose task has not run (its on-commit hook is never executed)."""
    with django_capture_on_commit_callbacks(execute=False):
        return services.import_batch_start(
            actor=cast.users[Role.ANALYST],
            tenant=cast.tenant,
            fileobj=io.BytesIO(xlsx_bytes([row("A-1")])),
            filename="c.xlsx",
            background=True,
        )


def url(name, *args):
    return reverse(f"catalog:{name}", args=["acme", *args])


def test_read_pages_matrix(cast, imported):
    product = Product.objects.get(sku="A-1")
    readers = roles_with("read_tenant")
    for page in [
        url("product_list"),
        url("product_detail", product.pk),
        url("batch_detail", imported.pk),
        url("batch_refused", imported.pk),
        url("import_template"),
    ]:
        check_access_matrix(cast, page, readers)


def test_write_pages_matrix(cast, imported):
    product = Product.objects.get(sku="A-1")
    editors = roles_with("edit_catalog")
    check_access_matrix(cast, url("import_upload"), editors)
    check_access_matrix(cast, url("product_edit", product.pk), editors)


def test_an_auditor_can_read_the_catalog_but_not_upload(cast, imported):
    auditor = cast.client(Role.AUDITOR)
    assert auditor.get(url("product_list")).status_code == 200
    upload = SimpleUploadedFile("c.xlsx", xlsx_bytes([row("Z-9")]))
    assert auditor.post(url("import_upload"), {"file": upload}).status_code == 403
    assert not Product.objects.filter(sku="Z-9").exists()
    assert b"Import a catalog" not in auditor.get(url("product_list")).content


def test_another_tenants_member_gets_404_for_this_tenants_product(cast, run_import):
    run_import(xlsx_bytes([row("G-1")]), tenant=cast.other_tenant)
    theirs = Product.objects.get(sku="G-1")
    response = cast.client(Role.ANALYST).get(url("product_detail", theirs.pk))
    assert response.status_code == 404


def test_uploading_a_small_file_imports_it_and_shows_the_summary(cast):
    client = cast.client(Role.ANALYST)
    content = csv_bytes([row("A-1"), row("B-2", Materials="")])
    response = client.post(url("import_upload"), {"file": SimpleUploadedFile("c.csv", content)})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == url("batch_detail", batch.pk)
    page = client.get(response["Location"]).content.decode()
    assert "Import finished" in page
    assert 'data-count="new">1<' in page and 'data-count="refused">1<' in page
    assert "row 3, Materials: at least one material is required" in page
    assert url("batch_refused", batch.pk) in page


def test_an_upload_that_is_not_a_spreadsheet_is_refused_by_the_form(cast):
    client = cast.client(Role.ANALYST)
    upload = SimpleUploadedFile("notes.pdf", b"%PDF-1.4")
    response = client.post(url("import_upload"), {"file": upload})
    assert response.status_code == 422
    assert b"is not a spreadsheet" in response.content
    assert not ImportBatch.objects.exists()


def test_a_refused_file_shows_one_clear_message(cast):
    client = cast.client(Role.ANALYST)
    upload = SimpleUploadedFile("c.csv", csv_bytes([["x"]], headers=["SKU"]))
    response = client.post(url("import_upload"), {"file": upload}, follow=True)
    assert b"File refused" in response.content
    assert b"Required columns are missing" in response.content
    assert not Product.objects.exists()


def test_the_finished_batch_stops_htmx_polling_with_286_and_no_trigger(cast, imported):
    response = cast.client(Role.ANALYST).get(
        url("batch_detail", imported.pk), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 286
    assert b"hx-trigger" not in response.content
    assert b"Import finished" in response.content and b"<html" not in response.content
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_a_queued_batch_polls_for_progress(cast, queued_batch):
    batch = queued_batch
    response = cast.client(Role.ANALYST).get(url("batch_detail", batch.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'hx-trigger="every 1s"' in response.content and b"<progress" in response.content


@pytest.mark.parametrize(
    ("uploaded", "saved"),
    [
        ('x.html"; filename="report.html.xlsx', "x-html-filename-report-html-refused-rows.xlsx"),
        ("r\u00e9sum\u00e9 \u202eslx.exe.xlsx", "r-sum-slx-exe-refused-rows.xlsx"),
        ('"";".xlsx', "catalog-refused-rows.xlsx"),
    ],
)
def test_the_refused_rows_download_name_is_built_from_safe_characters(
    cast, run_import, uploaded, saved
):
    content = xlsx_bytes([row("A-1"), row("B-2", **{"Country of origin": "Chna"})])
    batch = run_import(content, filename=uploaded)
    response = cast.client(Role.ANALYST).get(url("batch_refused", batch.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{saved}"'


def test_the_refused_rows_download_is_a_workbook_with_an_errors_column(cast, imported):
    response = cast.client(Role.AUDITOR).get(url("batch_refused", imported.pk))
    assert response["Content-Disposition"].endswith('-refused-rows.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert "Errors" in header
    assert sheet.cell(row=2, column=1).value == "B-2"


def test_the_template_has_instructions_lists_and_text_code_columns(cast):
    response = cast.client(Role.ANALYST).get(url("import_template"))
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["Products", "Instructions", "Lists"]
    assert wb["Lists"].sheet_state == "hidden"
    products = wb["Products"]
    assert products["A1"].value == "SKU" and products["A2"].number_format == "@"
    assert products["O2"].number_format == "@"  # Declared code
    formulas = {dv.formula1 for dv in products.data_validations.dataValidation}
    assert '"US,EU,GB"' in formulas and any(f.startswith("=Lists!$A$2") for f in formulas)
    assert "Part Number" not in str(wb["Instructions"]["A1"].value)


def test_the_template_round_trips(cast):
    client = cast.client(Role.ANALYST)
    wb = load_workbook(io.BytesIO(client.get(url("import_template")).content))
    values = row("T-1")
    from catalog import facts as F
    from tests.catalog.conftest import HEADERS

    by_label = dict(zip(HEADERS, values, strict=True))
    wb["Products"].append([by_label.get(F.LABELS[key], "") for key in F.FACT_KEYS])
    buffer = io.BytesIO()
    wb.save(buffer)
    upload = SimpleUploadedFile("filled.xlsx", buffer.getvalue())
    client.post(url("import_upload"), {"file": upload})
    batch = ImportBatch.objects.get()
    assert (batch.new_count, batch.refused_count) == (1, 0), batch.refused_rows
    assert Product.objects.get(sku="T-1").current_version.facts["declared_code"] == "6109100012"


def test_the_list_searches_and_filters(cast, run_import):
    run_import(xlsx_bytes([row("A-1", Name="Chef knife"), row("B-2", Destination="GB")]))
    client = cast.client(Role.BROKER)
    assert b"A-1" in client.get(url("product_list"), {"q": "chef"}).content
    assert b"B-2" not in client.get(url("product_list"), {"q": "chef"}).content
    page = client.get(url("product_list"), {"destination": "GB"}).content
    assert b"B-2" in page and b"A-1</code>" not in page
    page = client.get(url("product_list"), {"status": "final"}).content
    assert b"No product matches" in page


def test_the_list_has_a_selection_form_for_bulk_actions(cast, imported):
    page = cast.client(Role.ANALYST).get(url("product_list")).content.decode()
    product = Product.objects.get(sku="A-1")
    assert 'id="product-selection"' in page
    assert f'name="product" value="{product.pk}"' in page


def test_the_list_query_count_does_not_grow_with_products(cast, run_import):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = cast.client(Role.ANALYST)
    run_import(xlsx_bytes([row("S-0")]))
    with CaptureQueriesContext(connection) as one:
        client.get(url("product_list"))
    run_import(xlsx_bytes([row(f"S-{i}") for i in range(60)]))
    with CaptureQueriesContext(connection) as many:
        assert b"S-49" in client.get(url("product_list")).content
    assert len(many) == len(one)


def test_the_dashboard_shows_a_products_tile(cast, imported):
    page = cast.client(Role.ANALYST).get(reverse("tenant_dashboard", args=["acme"])).content
    assert b"Products" in page and url("product_list").encode() in page


def test_editing_facts_writes_a_new_version_and_an_audit_event(cast, imported):
    product = Product.objects.get(sku="A-1")
    client = cast.client(Role.BROKER)
    form = client.get(url("product_edit", product.pk)).context["form"]
    data = {k: v or "" for k, v in form.initial.items()}
    data.update(materials="cotton; recycled polyester", supplier="Dhaka Knit")
    response = client.post(url("product_edit", product.pk), data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.current_version.n == 2
    assert product.current_version.facts["materials"] == ["cotton", "recycled polyester"]
    assert product.current_version.created_by == cast.users[Role.BROKER]
    event = AuditEvent.objects.get(verb="catalog.product.updated", target_id=str(product.pk))
    assert event.data["changes"]["supplier"] == [None, "Dhaka Knit"]
    page = client.get(url("product_detail", product.pk)).content.decode()
    assert "Version 2" in page and "recycled polyester" in page


def test_saving_unchanged_facts_writes_nothing(cast, imported):
    product = Product.objects.get(sku="A-1")
    client = cast.client(Role.ANALYST)
    form = client.get(url("product_edit", product.pk)).context["form"]
    client.post(url("product_edit", product.pk), {k: v or "" for k, v in form.initial.items()})
    assert ProductVersion.objects.filter(product=product).count() == 1


def test_an_invalid_edit_shows_the_reason_with_422_and_writes_nothing(cast, imported):
    product = Product.objects.get(sku="A-1")
    client = cast.client(Role.ANALYST)
    form = client.get(url("product_edit", product.pk)).context["form"]
    data = {**{k: v or "" for k, v in form.initial.items()}, "country_of_origin": "Chna"}
    response = client.post(url("product_edit", product.pk), data)
    assert response.status_code == 422
    assert b"&#x27;Chna&#x27; is not an ISO 3166 country code" in response.content
    assert ProductVersion.objects.filter(product=product).count() == 1


def test_set_classification_updates_status_and_code_for_the_classification_app(imported):
    product = Product.objects.get(sku="A-1")
    services.product_set_classification(product=product, status="final", final_code="6109100012")
    product.refresh_from_db()
    assert (product.classification_status, product.final_code) == ("final", "6109100012")
    with pytest.raises(Exception, match="Unknown status"):
        services.product_set_classification(product=product, status="done")


def test_another_tenants_batch_and_refused_rows_are_404_under_this_tenant(cast, run_import):
    theirs = run_import(xlsx_bytes([row("G-1", Name="")]), tenant=cast.other_tenant)
    client = cast.client(Role.COMPLIANCE_LEAD)
    assert client.get(url("batch_detail", theirs.pk)).status_code == 404
    assert client.get(url("batch_refused", theirs.pk)).status_code == 404


def test_an_edit_of_another_tenants_product_is_404_and_writes_nothing(cast, run_import):
    run_import(xlsx_bytes([row("G-1")]), tenant=cast.other_tenant)
    theirs = Product.objects.get(sku="G-1")
    response = cast.client(Role.ANALYST).post(url("product_edit", theirs.pk), {"name": "Mine"})
    assert response.status_code == 404
    assert ProductVersion.objects.filter(product=theirs).count() == 1


def test_a_stalled_background_import_says_so_and_stops_polling(cast, settings, queued_batch):
    batch = queued_batch
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "retry": -1}
    response = cast.client(Role.ANALYST).get(url("batch_detail", batch.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert b"Import stalled" in response.content and b"hx-trigger" not in response.content


def test_a_running_import_whose_heartbeat_stopped_says_stalled_and_keeps_polling(
    cast, queued_batch
):
    beat = timezone.now() - timedelta(seconds=45)
    ImportBatch.objects.filter(pk=queued_batch.pk).update(
        status="running", runs=1, started_at=beat, heartbeat_at=beat, processed_rows=24
    )
    client = cast.client(Role.ANALYST)
    response = client.get(url("batch_detail", queued_batch.pk), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200  # the sweep queues it again or fails it: keep polling
    expected = f"Stalled: no sign of life since {beat:%H:%M:%S} UTC ("
    assert expected in text and "s ago)" in text
    assert "Running…" not in text and 'hx-trigger="every 5s"' in text
    # A fresh heartbeat is a run at work.
    ImportBatch.objects.filter(pk=queued_batch.pk).update(heartbeat_at=timezone.now())
    response = client.get(url("batch_detail", queued_batch.pk), HTTP_HX_REQUEST="true")
    assert "Running…" in response.content.decode() and "Stalled" not in response.content.decode()


def test_the_product_page_classifies_the_product_for_those_who_may_request_it(cast, imported):
    from classification.models import ClassificationRequest

    product = Product.objects.get(sku="A-1")
    auditor_page = cast.client(Role.AUDITOR).get(url("product_detail", product.pk))
    assert b"data-classify-product" not in auditor_page.content
    client = cast.client(Role.ANALYST)
    assert b"data-classify-product" in client.get(url("product_detail", product.pk)).content
    response = client.post(
        reverse("classification:classify_selected", args=["acme"]), {"product": product.pk}
    )
    request = ClassificationRequest.objects.get()
    assert response.status_code == 302 and f"/requests/{request.pk}/" in response["Location"]
    assert list(request.jobs.values_list("product_id", flat=True)) == [product.pk]
