"""Large files run as a django-q2 task (inline in tests: Q_CLUSTER sync)."""

import faulthandler
import os
import signal
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from catalog import services, tasks
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


def _stalled_batch(cast, *, age_seconds: int, status=ImportStatus.RUNNING):
    """A background import whose worker went away ``age_seconds`` ago, its upload still stored."""
    stored = default_storage.save(
        f"catalog-imports/{cast.tenant.pk}/stalled.xlsx", ContentFile(xlsx_bytes([row("A-1")]))
    )
    started = timezone.now() - timedelta(seconds=age_seconds)
    return ImportBatch.objects.create(
        tenant=cast.tenant,
        created_by=cast.users[Role.ANALYST],
        filename="stalled.xlsx",
        file_sha256="0" * 64,
        size_bytes=100,
        stored_file=stored,
        status=status,
        started_at=started if status == ImportStatus.RUNNING else None,
    )


def test_the_sweep_fails_imports_whose_worker_stopped_and_deletes_their_upload(
    cast, settings, django_capture_on_commit_callbacks
):
    # Counted from the first run: the worker re-runs it after each crash, a retry window apart.
    window = ImportBatch.stall_window().total_seconds()
    assert window == settings.Q_CLUSTER["retry"] * (settings.IMPORT_MAX_WORKER_CRASHES + 1)
    dead = _stalled_batch(cast, age_seconds=window + 5)
    alive = _stalled_batch(cast, age_seconds=window - 60)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.import_batches_fail_stalled() == 1
    dead.refresh_from_db()
    assert dead.status == ImportStatus.FAILED and dead.stored_file == ""
    assert "worker running this import stopped" in dead.message
    assert "nothing from this file was written" in dead.message
    _dirs, files = default_storage.listdir(f"catalog-imports/{cast.tenant.pk}")
    assert len(files) == 1  # only the live import's upload is left
    alive.refresh_from_db()
    assert alive.status == ImportStatus.RUNNING and alive.stored_file
    event = AuditEvent.objects.get(verb="catalog.import.failed", target_id=str(dead.pk))
    assert event.data["reason"] == "stalled" and event.actor == cast.users[Role.ANALYST]
    page = cast.client(Role.ANALYST).get(reverse("catalog:batch_detail", args=["acme", dead.pk]))
    assert b"Import failed" in page.content and b"File refused" not in page.content
    assert services.import_batches_fail_stalled() == 0  # done ones are left alone


def test_a_queued_import_never_started_is_swept_by_its_age(cast, settings):
    batch = _stalled_batch(cast, age_seconds=0, status=ImportStatus.QUEUED)
    ImportBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - ImportBatch.stall_window() - timedelta(seconds=1)
    )
    assert services.import_batches_fail_stalled() == 1
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.FAILED


def test_the_sweep_is_scheduled_once_however_often_migrations_run(db):
    from django_q.models import Schedule

    from catalog import tasks

    tasks.ensure_schedule()
    tasks.ensure_schedule()
    schedule = Schedule.objects.get(name=tasks.SWEEP_SCHEDULE)
    assert schedule.func == tasks.SWEEP_TASK and schedule.minutes == 10


def test_a_rerun_after_a_crash_keeps_the_first_start_time(cast):
    batch = _stalled_batch(cast, age_seconds=300)
    ImportBatch.objects.filter(pk=batch.pk).update(runs=1)  # the first run stopped its worker
    first_start = batch.started_at
    assert tasks.import_batch_task(batch.pk) == ImportStatus.DONE
    batch.refresh_from_db()
    assert batch.started_at == first_start and batch.runs == 2


@pytest.mark.django_db(transaction=True)
def test_an_import_that_stops_its_worker_twice_is_failed_for_good(cast, settings):
    """Two real crashes (a worker process that aborts mid-import), then the re-delivered task
    fails the batch with the reason, deletes the upload and ends: no endless re-delivery."""
    settings.IMPORT_MAX_WORKER_CRASHES = 2
    batch = _stalled_batch(cast, age_seconds=0, status=ImportStatus.QUEUED)
    for run in (1, 2):
        assert _run_in_a_worker_that_crashes(batch.pk) == -signal.SIGABRT
        batch.refresh_from_db()
        assert batch.status == ImportStatus.RUNNING and batch.runs == run
        if run == 1:
            first_start = batch.started_at
        assert batch.started_at == first_start  # the re-delivery kept it
    assert tasks.import_batch_task(batch.pk) == ImportStatus.FAILED
    batch.refresh_from_db()
    assert "stopped the background worker 2 times" in batch.message
    assert "nothing from this file was written" in batch.message
    assert batch.stored_file == "" and not Product.objects.exists()
    _dirs, files = default_storage.listdir(f"catalog-imports/{cast.tenant.pk}")
    assert files == []
    event = AuditEvent.objects.get(verb="catalog.import.failed", target_id=str(batch.pk))
    assert event.data["reason"] == "worker_crashed" and event.data["crashes"] == 2
    # Delivered once more, it ends at once.
    assert tasks.import_batch_task(batch.pk) == ImportStatus.FAILED


def _run_in_a_worker_that_crashes(batch_id: int) -> int:
    """Run the import task in a forked process that aborts halfway; return its exit status."""
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            from django.db import connections

            for conn in connections.all(initialized_only=True):
                conn.connection = None  # the parent's socket stays the parent's
            from catalog import importer

            faulthandler.disable()  # no traceback on stderr for an expected crash
            importer.read_catalog = lambda *args, **kwargs: os.abort()
            tasks.import_batch_task(batch_id)
        finally:
            os._exit(1)
    _pid, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
