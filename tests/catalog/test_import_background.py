"""Large files run as a django-q2 task (inline in tests: Q_CLUSTER sync)."""

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import services
from catalog.models import ImportBatch, ImportStatus, Product
from tests.catalog.conftest import row, xlsx_bytes
from workbench.roles import Role


def test_a_large_upload_runs_in_the_background_and_finishes(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "BACKGROUND_BYTES", 1024)
    client = cast.client(Role.ANALYST)
    upload = SimpleUploadedFile("big.xlsx", xlsx_bytes([row(f"S-{i}") for i in range(30)]))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("catalog:import_upload", args=["acme"]), {"file": upload})
    assert len(callbacks) == 1
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert batch.status == ImportStatus.DONE and batch.new_count == 30
    assert Product.objects.count() == 30
    assert batch.stored_file == "" and batch.finished_at is not None
    _dirs, files = default_storage.listdir(f"catalog-imports/{cast.tenant.pk}")
    assert files == []  # the uploaded copy is deleted once the run ends


def test_a_background_refusal_is_recorded_on_the_batch(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "BACKGROUND_BYTES", 10)
    client = cast.client(Role.ANALYST)
    upload = SimpleUploadedFile("big.xlsx", b"not a workbook at all, just text" * 10)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("catalog:import_upload", args=["acme"]), {"file": upload})
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.REFUSED and "is not an Excel workbook" in batch.message
    page = client.get(reverse("catalog:batch_detail", args=["acme", batch.pk]))
    assert b"File refused" in page.content
