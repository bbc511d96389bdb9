"""Re-importing a file over facts edited in the app: warn, write nothing, let the analyst choose."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEvent
from catalog import services, views
from catalog.models import ImportBatch, ImportStatus, Product, ProductVersion
from tests.catalog.conftest import csv_bytes, row, xlsx_bytes
from workbench.roles import Role

# The spreadsheet the catalog came from; uploaded again later, it still says cotton for A-1.
OLDER_FILE = [row("A-1"), row("B-2"), row("C-3")]
# The same file, where the supplier also corrected B-2's origin meanwhile.
OLDER_FILE_WITH_B2_CHANGE = [row("A-1"), row("B-2", **{"Country of origin": "VN"}), row("C-3")]


def _edit(product: Product, actor, **changes) -> ProductVersion:
    """Answer a broker's request for information: edit the product's facts in the app."""
    raw = {**product.current_version.facts, **changes}
    if isinstance(raw["materials"], list):
        raw["materials"] = "; ".join(raw["materials"])
    product, changed = services.product_update_facts(actor=actor, product=product, raw=raw)
    assert changed
    return product.current_version


@pytest.fixture
def edited(run_import, cast):
    """A-1 imported, then its materials corrected in the app by the analyst."""
    run_import(xlsx_bytes(OLDER_FILE))
    product = Product.objects.get(sku="A-1")
    return _edit(product, cast.users[Role.ANALYST], materials="polyester; elastane")


def _current(sku: str) -> ProductVersion:
    return Product.objects.select_related("current_version").get(sku=sku).current_version


def test_reimporting_an_older_file_over_an_edit_warns_and_writes_nothing(edited, run_import, cast):
    versions = ProductVersion.objects.count()
    batch = run_import(xlsx_bytes(OLDER_FILE_WITH_B2_CHANGE))
    assert batch.status == ImportStatus.CONFIRM
    assert ProductVersion.objects.count() == versions  # B-2's change waits too
    assert _current("A-1") == edited and _current("B-2").n == 1
    assert batch.new_count == batch.updated_count == 0
    [conflict] = batch.conflicts
    assert conflict["sku"] == "A-1" and conflict["version"] == 2
    assert conflict["edited_by"] == cast.users[Role.ANALYST].get_username()
    assert conflict["changes"] == {"materials": [["polyester", "elastane"], ["cotton", "elastane"]]}
    held = AuditEvent.objects.get(verb="catalog.import.held")
    assert held.data["skus"] == ["A-1"]
    assert batch.stored_file and default_storage.exists(batch.stored_file)
    assert batch.runs == 0  # waiting for a choice is no worker crash


def test_keeping_the_in_app_values_imports_the_other_rows(edited, run_import, cast):
    batch = run_import(xlsx_bytes(OLDER_FILE_WITH_B2_CHANGE))
    broker = cast.users[Role.BROKER]
    batch = services.import_batch_choose_edits(actor=broker, batch=batch, edits="keep")
    assert batch.status == ImportStatus.DONE
    assert (batch.updated_count, batch.kept_count, batch.unchanged_count) == (1, 1, 1)
    assert _current("A-1") == edited
    assert _current("B-2").n == 2 and _current("B-2").facts["country_of_origin"] == "VN"
    chosen = AuditEvent.objects.get(verb="catalog.import.edits_chosen")
    assert chosen.actor == broker
    assert chosen.data == {"filename": "catalog.xlsx", "edits": "keep", "skus": ["A-1"]}
    completed = AuditEvent.objects.filter(verb="catalog.import.completed").latest("pk")
    assert completed.data["edits"] == "keep" and completed.data["edited_skus"] == ["A-1"]
    assert completed.data["kept"] == 1
    assert batch.stored_file == "" and not default_storage.exists(
        ImportBatch.objects.get(pk=batch.pk).stored_file or "none"
    )


def test_overwriting_writes_the_files_facts_as_a_new_version(edited, run_import, cast):
    batch = run_import(xlsx_bytes(OLDER_FILE_WITH_B2_CHANGE))
    batch = services.import_batch_choose_edits(
        actor=cast.users[Role.ANALYST], batch=batch, edits="overwrite"
    )
    assert batch.status == ImportStatus.DONE
    assert (batch.updated_count, batch.kept_count) == (2, 0)
    current = _current("A-1")
    assert current.n == 3 and current.facts["materials"] == ["cotton", "elastane"]
    assert current.import_batch_id == batch.pk
    assert ProductVersion.objects.get(pk=edited.pk).facts["materials"][0] == "polyester"
    # Now the file's facts are current, the same file imports quietly.
    again = run_import(xlsx_bytes(OLDER_FILE_WITH_B2_CHANGE))
    assert again.status == ImportStatus.DONE and again.unchanged_count == 3


def test_facts_set_through_the_api_count_as_in_app_values(run_import, cast):
    run_import(xlsx_bytes(OLDER_FILE))
    raw = {**_current("C-3").facts, "materials": "linen", "intended_use": "Sleepwear"}
    services.product_upsert(actor=cast.users[Role.BROKER], tenant=cast.tenant, raw=raw)
    batch = run_import(xlsx_bytes(OLDER_FILE))
    assert batch.status == ImportStatus.CONFIRM
    assert [c["sku"] for c in batch.conflicts] == ["C-3"]
    assert set(batch.conflicts[0]["changes"]) == {"materials", "intended_use"}


def test_a_product_edited_again_before_the_choice_is_not_overwritten_unseen(
    edited, run_import, cast
):
    batch = run_import(xlsx_bytes(OLDER_FILE))
    later = _edit(Product.objects.get(sku="A-1"), cast.users[Role.BROKER], intended_use="Sport")
    batch = services.import_batch_choose_edits(
        actor=cast.users[Role.ANALYST], batch=batch, edits="overwrite"
    )
    assert batch.status == ImportStatus.CONFIRM  # asks again, showing the newer edit
    assert batch.conflicts[0]["version_id"] == later.pk and batch.edits == ""
    assert _current("A-1") == later


def test_a_choice_is_refused_for_a_batch_not_waiting_for_one(run_import, cast):
    batch = run_import(xlsx_bytes(OLDER_FILE))
    with pytest.raises(ValidationError, match="not waiting for a choice"):
        services.import_batch_choose_edits(
            actor=cast.users[Role.ANALYST], batch=batch, edits="keep"
        )


def test_an_edit_followed_by_an_import_of_new_facts_is_a_conflict_only_where_they_differ(
    edited, run_import
):
    # The file now agrees with the edit: nothing to warn about.
    batch = run_import(xlsx_bytes([row("A-1", Materials="polyester; elastane")]))
    assert batch.status == ImportStatus.DONE and batch.unchanged_count == 1


def test_a_background_import_waits_for_the_choice_and_then_runs_in_the_background(
    edited, cast, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services.imports, "BACKGROUND_BYTES", 10)
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.import_batch_start(
            actor=cast.users[Role.ANALYST],
            tenant=cast.tenant,
            fileobj=io.BytesIO(xlsx_bytes(OLDER_FILE_WITH_B2_CHANGE)),
            filename="older.xlsx",
        )
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CONFIRM and default_storage.exists(batch.stored_file)
    stored = batch.stored_file
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = services.import_batch_choose_edits(
            actor=cast.users[Role.ANALYST], batch=batch, edits="keep"
        )
    assert callbacks  # queued, not run in the request
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE and batch.kept_count == 1
    assert _current("A-1") == edited and _current("B-2").n == 2
    assert not default_storage.exists(stored)


# --- pages -------------------------------------------------------------------------------------


def _url(name, *args):
    return reverse(f"catalog:{name}", args=["acme", *args])


def test_the_upload_page_warns_and_the_analyst_keeps_the_in_app_values(edited, cast):
    client = cast.client(Role.ANALYST)
    upload = SimpleUploadedFile("older.csv", csv_bytes(OLDER_FILE_WITH_B2_CHANGE))
    response = client.post(_url("import_upload"), {"file": upload}, follow=True)
    page = response.content.decode()
    assert "Needs confirmation" in page and "Nothing from this file has been written yet" in page
    assert "A-1" in page and "polyester; elastane" in page and "cotton; elastane" in page
    assert "Keep the in-app values for these products" in page
    assert "Overwrite with the file" in page
    batch = ImportBatch.objects.get(filename="older.csv")
    poll = client.get(_url("batch_detail", batch.pk), HTTP_HX_REQUEST="true")
    assert poll.status_code == 286 and b"hx-trigger" not in poll.content
    response = client.post(_url("batch_choose_edits", batch.pk), {"edits": "keep"}, follow=True)
    page = response.content.decode()
    assert "Import finished" in page and "Kept the in-app values of 1 product" in page
    assert 'data-count="kept">1<' in page
    assert _current("A-1") == edited


def test_an_auditor_cannot_choose(edited, run_import, cast):
    batch = run_import(xlsx_bytes(OLDER_FILE))
    response = cast.client(Role.AUDITOR).post(
        _url("batch_choose_edits", batch.pk), {"edits": "keep"}
    )
    assert response.status_code == 403
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.CONFIRM
    page = cast.client(Role.AUDITOR).get(_url("batch_detail", batch.pk)).content.decode()
    assert "Keep the in-app values for these products" not in page


def test_another_tenants_member_cannot_choose(edited, run_import, cast):
    batch = run_import(xlsx_bytes(OLDER_FILE))
    response = cast.client("outsider").post(_url("batch_choose_edits", batch.pk), {"edits": "keep"})
    assert response.status_code == 404


def test_the_result_page_lists_every_updated_sku_with_the_changed_facts(run_import, cast):
    run_import(xlsx_bytes(OLDER_FILE))
    batch = run_import(
        xlsx_bytes(
            [
                row("A-1", Materials="wool"),
                row("B-2", **{"Country of origin": "VN", "Intended use": "Sleepwear"}),
                row("C-3"),
            ]
        )
    )
    page = cast.client(Role.AUDITOR).get(_url("batch_detail", batch.pk)).content.decode()
    assert "Updated products" in page
    a1 = [line for line in page.splitlines() if 'data-sku="A-1"' in line]
    assert len(a1) == 1 and "Materials" in a1[0]
    assert "cotton; elastane" in a1[0] and "wool" in a1[0]
    b2 = " ".join(line for line in page.splitlines() if 'data-sku="B-2"' in line)
    assert "Country of origin" in b2 and "BD" in b2 and "VN" in b2 and "Sleepwear" in b2
    assert 'data-sku="C-3"' not in page  # unchanged


def test_the_updated_list_is_paged(run_import, cast, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    skus = [f"P-{i}" for i in range(5)]
    run_import(xlsx_bytes([row(s) for s in skus]))
    batch = run_import(xlsx_bytes([row(s, Materials="wool") for s in skus]))
    client = cast.client(Role.ANALYST)
    first = client.get(_url("batch_detail", batch.pk)).content.decode()
    assert 'data-sku="P-0"' in first and 'data-sku="P-2"' not in first
    assert "Page 1 of 3 (5 products)" in first
    last = client.get(_url("batch_detail", batch.pk), {"page": 3}).content.decode()
    assert 'data-sku="P-4"' in last and 'data-sku="P-0"' not in last


# --- command line ------------------------------------------------------------------------------


@pytest.fixture
def older_csv(tmp_path):
    path = tmp_path / "older.csv"
    path.write_bytes(csv_bytes(OLDER_FILE_WITH_B2_CHANGE))
    return path


def test_the_command_refuses_to_overwrite_edits_without_a_flag(edited, older_csv, capsys):
    with pytest.raises(CommandError, match=r"--keep-edits .* --overwrite-edits"):
        call_command("import_catalog", str(older_csv), tenant="acme", user="acme-analyst")
    assert "A-1 (set by acme-analyst" in capsys.readouterr().out
    assert _current("A-1") == edited and _current("B-2").n == 1


def test_the_command_keeps_edits_with_keep_edits(edited, older_csv, capsys):
    call_command(
        "import_catalog", str(older_csv), "--keep-edits", tenant="acme", user="acme-analyst"
    )
    out = capsys.readouterr().out
    assert "1 updated, 1 unchanged, 1 kept in-app values, 0 refused" in out
    assert "1 product(s) last set in the app or through the API kept their in-app facts" in out
    assert _current("A-1") == edited and _current("B-2").n == 2
    completed = AuditEvent.objects.filter(verb="catalog.import.completed").latest("pk")
    assert completed.data["edits"] == "keep" and completed.data["edited_skus"] == ["A-1"]


def test_the_command_overwrites_edits_with_overwrite_edits(edited, older_csv):
    call_command(
        "import_catalog", str(older_csv), "--overwrite-edits", tenant="acme", user="acme-analyst"
    )
    assert _current("A-1").facts["materials"] == ["cotton", "elastane"]


def test_the_command_takes_only_one_of_the_two_flags(older_csv):
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command(
            "import_catalog",
            str(older_csv),
            "--keep-edits",
            "--overwrite-edits",
            tenant="acme",
            user="acme-analyst",
        )
