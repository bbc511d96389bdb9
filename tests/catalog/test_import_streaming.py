"""Rows are written in chunks while the file is still being read (``loader.RowWriter``).

These tests shrink the chunk so that a small file spans several chunks, and check what an
analyst relies on: a file refused halfway writes nothing, a writer failure writes nothing,
re-imports across chunks version exactly the changed rows, and a background run's progress is
visible to others while its transaction is open.
"""

import io
import sys

import pytest
from django.db import connections

from audit.models import AuditEvent
from catalog import facts as F
from catalog import importer, loader, services
from catalog.models import ImportBatch, ImportStatus, Product, ProductVersion
from tests.catalog.conftest import HEADERS, csv_bytes, row, xlsx_bytes
from tests.catalog.test_import_refusals import assert_refused
from tests.factories import TenantFactory

FIELDS = [F.field_for_header(header) for header in HEADERS]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(loader, "CHUNK_ROWS", 3)
    monkeypatch.setattr(loader, "MAX_PENDING", 1)


def test_a_duplicate_sku_after_several_written_chunks_rolls_all_of_them_back(
    run_import, small_chunks
):
    rows = [row(f"S-{i:02d}") for i in range(20)] + [row("S-03", Name="Again")]
    batch = run_import(xlsx_bytes(rows))
    assert_refused(batch, "Duplicate SKU 'S-03' on rows 5 and 22")


def test_the_row_limit_reached_after_written_chunks_rolls_all_of_them_back(
    run_import, small_chunks, settings
):
    settings.IMPORT_MAX_ROWS = 10
    batch = run_import(csv_bytes([row(f"S-{i:02d}") for i in range(12)]), "c.csv")
    assert_refused(batch, "more than 10 product rows (the limit)")


def test_a_failure_in_the_writer_fails_the_batch_and_writes_nothing(
    run_import, small_chunks, monkeypatch
):
    interval = sys.getswitchinterval()
    calls = []

    def failing(self, chunk):
        calls.append(chunk.size)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return original(self, chunk)

    original = loader.RowWriter._write
    monkeypatch.setattr(loader.RowWriter, "_write", failing)
    batch = run_import(xlsx_bytes([row(f"S-{i:02d}") for i in range(12)]))
    assert batch.status == ImportStatus.FAILED
    assert "nothing was written" in batch.message
    assert Product.objects.count() == 0 and ProductVersion.objects.count() == 0
    assert calls[:2] == [3, 3]
    assert sys.getswitchinterval() == interval


def test_a_re_import_across_chunks_versions_exactly_the_changed_rows(
    run_import, small_chunks, cast
):
    first = run_import(xlsx_bytes([row(f"S-{i:02d}") for i in range(10)]))
    assert (first.new_count, first.updated_count, first.unchanged_count) == (10, 0, 0)
    again = [
        row(f"S-{i:02d}", Materials="polyester") if i % 3 == 0 else row(f"S-{i:02d}")
        for i in range(10)
    ] + [row("S-10")]
    batch = run_import(xlsx_bytes(again))
    assert (batch.new_count, batch.updated_count, batch.unchanged_count) == (1, 4, 6)
    for i in range(11):
        product = Product.objects.get(tenant=cast.tenant, sku=f"S-{i:02d}")
        expected = 2 if i % 3 == 0 and i < 10 else 1
        assert product.current_version.n == expected, product.sku
        assert product.versions.count() == expected
        materials = ["polyester"] if expected == 2 else ["cotton", "elastane"]
        assert product.current_version.facts["materials"] == materials
    changed = Product.objects.get(sku="S-03")
    assert changed.current_version.import_batch_id == batch.pk
    # Small batches are audited per product, with what changed.
    event = AuditEvent.objects.get(verb="catalog.product.updated", target_id=str(changed.pk))
    assert event.data["changes"] == {"materials": [["cotton", "elastane"], ["polyester"]]}
    created = AuditEvent.objects.filter(verb="catalog.product.created", data__import_batch=batch.pk)
    assert [e.data["sku"] for e in created] == ["S-10"]


def test_product_rows_carry_the_facts_lists_filter_on(run_import, small_chunks, cast):
    run_import(xlsx_bytes([row("A-1"), row("B-2", **{"Country of origin": "vn"})]))
    run_import(xlsx_bytes([row("A-1", Name="Renamed shirt", Destination="gb")]))
    product = Product.objects.get(tenant=cast.tenant, sku="A-1")
    assert (product.name, product.destination, product.country_of_origin) == (
        "Renamed shirt",
        "GB",
        "BD",
    )
    assert product.current_version.facts["name"] == "Renamed shirt"
    assert Product.objects.get(sku="B-2").country_of_origin == "VN"


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_others_while_the_import_transaction_is_open(monkeypatch):
    monkeypatch.setattr(loader, "CHUNK_ROWS", 2)
    monkeypatch.setattr("catalog.importer.PROGRESS_EVERY", 4)
    # One chunk in flight at a time: the chunk of rows 9-10 is written after the progress
    # report at row 8 and before the one at row 12, however busy the machine (with chunks
    # queued, a slow writer could start it only after row 12 was reported).
    monkeypatch.setattr(loader, "MAX_PENDING", 0)
    tenant = TenantFactory(slug="progress")
    seen = []
    original = loader.RowWriter._write

    def observing(self, chunk):
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT status, processed_rows FROM catalog_importbatch WHERE tenant_id = %s",
                    [tenant.pk],
                )
                seen.append(cursor.fetchone())
                cursor.execute(
                    "SELECT count(*) FROM catalog_product WHERE tenant_id = %s", [tenant.pk]
                )
                seen.append(cursor.fetchone())
        finally:
            other.close()
        return original(self, chunk)

    monkeypatch.setattr(loader.RowWriter, "_write", observing)
    batch = services.import_batch_start(
        actor=None,
        tenant=tenant,
        fileobj=io.BytesIO(csv_bytes([row(f"S-{i:02d}") for i in range(12)])),
        filename="c.csv",
        background=False,
    )
    assert batch.status == ImportStatus.DONE and batch.new_count == 12
    assert ("running", 8) in seen  # progress committed while rows were still being written
    assert (0,) in seen and (12,) not in seen  # the products themselves only at the end
    assert ImportBatch.objects.get(pk=batch.pk).processed_rows == 12


def test_overlapping_writers_restore_the_interpreters_switch_interval_once_both_end():
    original = sys.getswitchinterval()
    switching = loader._FastSwitching()
    switching.hold()  # import A starts
    switching.hold()  # import B starts in another thread of the same process
    assert sys.getswitchinterval() == min(loader.SWITCH_INTERVAL, original)
    switching.release()  # A ends first: B still runs
    assert sys.getswitchinterval() == min(loader.SWITCH_INTERVAL, original)
    switching.release()
    assert sys.getswitchinterval() == original


def test_text_with_tabs_newlines_and_backslashes_is_stored_exactly(run_import, small_chunks, cast):
    # Rows reach PostgreSQL as COPY text built by the importer: every character that format
    # escapes must come back as it was, in the product row and in the version's facts.
    odd = {
        "A\\B-1": {"Name": "Tab\there \\ back", "Description": 'Line one\nline "two"\r\nend'},
        "C-2": {"Name": "Ünïcode 😀 \\N", "Description": "\\t is not a tab; \t is"},
        "D-3": {"Name": "Plain", "Description": "back\\\\slashes\\"},
    }
    run_import(csv_bytes([row(sku, **cells) for sku, cells in odd.items()]), "catalog.csv")
    changed = {"C-2": {"Name": "Renamed\twith tab", "Description": "new\\nline"}}
    batch = run_import(csv_bytes([row(sku, **cells) for sku, cells in changed.items()]), "c.csv")
    assert batch.updated_count == 1
    for sku, cells in {**odd, **changed}.items():
        product = Product.objects.get(tenant=cast.tenant, sku=sku)
        facts, errors = F.validate_row(dict(zip(FIELDS, row(sku, **cells), strict=True)))
        assert errors == []
        assert (product.name, product.description) == (facts["name"], facts["description"])
        assert product.current_version.facts == facts
        assert product.current_version.sha256 == F.facts_sha256(facts)


def test_rows_checked_in_small_chunks_keep_their_row_numbers_and_reasons(
    run_import, monkeypatch, cast
):
    monkeypatch.setattr(importer, "CHECK_ROWS", 2)
    rows = [row(f"S-{i}") for i in range(7)]
    rows[1] = row("S-1", **{"Country of origin": "Chna"})
    rows[4] = row("S-4", Currency="")
    batch = run_import(xlsx_bytes(rows))
    assert (batch.new_count, batch.refused_count) == (5, 2)
    assert [r["row"] for r in batch.refused_rows] == [3, 6]
    assert batch.refused_rows[0]["errors"][0]["message"].startswith("'Chna' is not an ISO 3166")
    assert batch.refused_rows[1]["errors"] == [
        {"column": "Currency", "message": "is required when a customs value is given"}
    ]
    duplicate = run_import(xlsx_bytes([row("S-9"), row("S-8"), row("S-7"), row("S-9")]))
    assert duplicate.status == ImportStatus.REFUSED
    assert "'S-9' on rows 2 and 5" in duplicate.message
    assert Product.objects.filter(tenant=cast.tenant).count() == 5  # nothing of it written


def test_the_first_chunk_is_smaller_so_the_database_starts_sooner(run_import, monkeypatch):
    monkeypatch.setattr(loader, "CHUNK_ROWS", 3)
    monkeypatch.setattr(loader, "FIRST_CHUNK_ROWS", 2)
    sizes = []
    original = loader.RowWriter._write

    def observing(self, chunk):
        sizes.append(chunk.size)
        return original(self, chunk)

    monkeypatch.setattr(loader.RowWriter, "_write", observing)
    batch = run_import(xlsx_bytes([row(f"S-{i:02d}") for i in range(12)]))
    assert batch.new_count == 12
    assert sizes == [2, 3, 3, 3, 1]
