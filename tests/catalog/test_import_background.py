"""Large files run as a django-q2 task (inline in tests: Q_CLUSTER sync)."""

import faulthandler
import os
import signal
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from catalog import importer, services, tasks
from catalog.models import ImportBatch, ImportStatus, Product
from tests.catalog.conftest import row, xlsx_bytes
from workbench import worker
from workbench.roles import Role


def test_a_large_upload_runs_in_the_background_and_finishes(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services.imports, "BACKGROUND_BYTES", 1024)
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
    monkeypatch.setattr(services.imports, "BACKGROUND_BYTES", 10)
    client = cast.client(Role.ANALYST)
    upload = SimpleUploadedFile("big.xlsx", b"not a workbook at all, just text" * 10)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("catalog:import_upload", args=["acme"]), {"file": upload})
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.REFUSED and "is not an Excel workbook" in batch.message
    page = client.get(reverse("catalog:batch_detail", args=["acme", batch.pk]))
    assert b"File refused" in page.content


def _stalled_batch(
    cast, *, age_seconds: int, status=ImportStatus.RUNNING, heartbeat_age=None, runs=0
):
    """A background import begun ``age_seconds`` ago, its upload still stored; its last
    heartbeat ``heartbeat_age`` seconds ago (None: never)."""
    stored = default_storage.save(
        f"catalog-imports/{cast.tenant.pk}/stalled.xlsx", ContentFile(xlsx_bytes([row("A-1")]))
    )
    now = timezone.now()
    started = now - timedelta(seconds=age_seconds)
    return ImportBatch.objects.create(
        tenant=cast.tenant,
        created_by=cast.users[Role.ANALYST],
        filename="stalled.xlsx",
        file_sha256="0" * 64,
        size_bytes=100,
        stored_file=stored,
        status=status,
        runs=runs,
        started_at=started if status == ImportStatus.RUNNING else None,
        heartbeat_at=None if heartbeat_age is None else now - timedelta(seconds=heartbeat_age),
    )


def _uploads(cast) -> list[str]:
    return default_storage.listdir(f"catalog-imports/{cast.tenant.pk}")[1]


def test_the_sweep_fails_an_import_silent_for_the_whole_stall_window_and_deletes_its_upload(
    cast, settings, django_capture_on_commit_callbacks
):
    # As long as every retry of a crashed run could take: the queue is never the reason.
    window = ImportBatch.stall_window().total_seconds()
    assert window == settings.Q_CLUSTER["retry"] * (settings.IMPORT_MAX_WORKER_CRASHES + 1)
    dead = _stalled_batch(cast, age_seconds=window + 60, heartbeat_age=window + 5, runs=1)
    # Begun as long ago, but its heartbeat is fresh: a run is alive, whatever its age.
    alive = _stalled_batch(cast, age_seconds=window + 60, heartbeat_age=5, runs=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.import_batches_fail_stalled() == 1
    dead.refresh_from_db()
    assert dead.status == ImportStatus.FAILED and dead.stored_file == ""
    assert "worker running this import stopped" in dead.message
    assert "nothing from this file was written" in dead.message
    assert len(_uploads(cast)) == 1  # only the live import's upload is left
    alive.refresh_from_db()
    assert alive.status == ImportStatus.RUNNING and alive.stored_file
    event = AuditEvent.objects.get(verb="catalog.import.failed", target_id=str(dead.pk))
    assert event.data["reason"] == "stalled" and event.actor == cast.users[Role.ANALYST]
    page = cast.client(Role.ANALYST).get(reverse("catalog:batch_detail", args=["acme", dead.pk]))
    assert b"Import failed" in page.content and b"File refused" not in page.content
    assert services.import_batches_fail_stalled() == 0  # done ones are left alone


def test_the_sweep_queues_again_an_import_whose_heartbeat_stopped_and_the_rerun_finishes(
    cast, settings, django_capture_on_commit_callbacks
):
    stale = settings.WORKER_STALE_SECONDS
    dead = _stalled_batch(cast, age_seconds=stale + 2, heartbeat_age=stale + 1, runs=1)
    alive = _stalled_batch(cast, age_seconds=stale + 2, heartbeat_age=stale - 10, runs=1)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert services.import_batches_fail_stalled() == 1
    dead.refresh_from_db()
    assert dead.status == ImportStatus.QUEUED and dead.runs == 1  # the crash stays counted
    assert dead.stored_file  # kept for the next run
    event = AuditEvent.objects.get(verb="catalog.import.requeued", target_id=str(dead.pk))
    assert event.data == {"filename": "stalled.xlsx", "reason": "stalled", "runs": 1}
    assert ImportBatch.objects.get(pk=alive.pk).status == ImportStatus.RUNNING
    assert len(queued) == 1
    queued[0]()  # the task it queued (run inline here)
    dead.refresh_from_db()
    assert dead.status == ImportStatus.DONE and dead.runs == 2 and dead.new_count == 1


def test_the_sweep_fails_a_stalled_import_that_has_stopped_its_worker_as_often_as_allowed(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_MAX_WORKER_CRASHES = 2
    stale = settings.WORKER_STALE_SECONDS
    batch = _stalled_batch(cast, age_seconds=600, heartbeat_age=stale + 1, runs=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.import_batches_fail_stalled() == 1
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED and "stopped the background worker 2 times" in (
        batch.message
    )
    assert _uploads(cast) == []
    event = AuditEvent.objects.get(verb="catalog.import.failed", target_id=str(batch.pk))
    assert event.data["reason"] == "worker_crashed" and event.data["crashes"] == 2


def test_a_second_delivery_while_a_run_is_alive_leaves_the_batch_alone(cast):
    batch = _stalled_batch(cast, age_seconds=20, heartbeat_age=2, runs=1)
    assert tasks.import_batch_task(batch.pk) == ImportStatus.RUNNING
    batch.refresh_from_db()
    assert batch.runs == 1 and batch.stored_file and not Product.objects.exists()


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
    assert schedule.func == tasks.SWEEP_TASK and schedule.minutes == 1


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
    window = timedelta(seconds=settings.Q_CLUSTER["retry"])
    batch = _stalled_batch(cast, age_seconds=0, status=ImportStatus.QUEUED)
    for run in (1, 2):
        assert _run_in_a_worker_that_crashes(batch.pk) == -signal.SIGABRT
        batch.refresh_from_db()
        assert batch.status == ImportStatus.RUNNING and batch.runs == run
        if run == 1:
            first_start = batch.started_at
        assert batch.started_at == first_start  # the re-delivery kept it
        # The task comes back a retry window later, when the dead run's heartbeat is old.
        ImportBatch.objects.filter(pk=batch.pk).update(heartbeat_at=F("heartbeat_at") - window)
    assert tasks.import_batch_task(batch.pk) == ImportStatus.FAILED
    batch.refresh_from_db()
    assert "stopped the background worker 2 times" in batch.message
    assert "nothing from this file was written" in batch.message
    assert batch.stored_file == "" and not Product.objects.exists()
    assert _uploads(cast) == []
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


@pytest.fixture
def stop_flag(monkeypatch):
    """The stop flag a cluster shares, as the qcluster command arms it."""
    monkeypatch.setattr(worker, "_stop_flag", None)
    worker.arm_stop_flag()
    return worker


def test_a_run_whose_worker_is_asked_to_stop_rolls_back_and_queues_the_batch_again(
    cast, monkeypatch, stop_flag, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 2)
    report = services.imports._Progress.__call__

    def stop_after_the_first_rows(self, done, estimate):
        stop_flag.request_stop()  # SIGTERM reached the cluster meanwhile
        report(self, done, estimate)

    monkeypatch.setattr(services.imports._Progress, "__call__", stop_after_the_first_rows)
    batch = _stalled_batch(cast, age_seconds=0, status=ImportStatus.QUEUED)
    default_storage.delete(batch.stored_file)
    default_storage.save(
        batch.stored_file, ContentFile(xlsx_bytes([row(f"S-{i}") for i in range(9)]))
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert tasks.import_batch_task(batch.pk) == ImportStatus.QUEUED
    batch.refresh_from_db()
    assert not Product.objects.exists()  # the rows read so far were rolled back
    assert batch.runs == 0 and batch.processed_rows == 0  # not a crash: nothing counted
    assert batch.stored_file and len(_uploads(cast)) == 1  # kept for the next run
    event = AuditEvent.objects.get(verb="catalog.import.requeued", target_id=str(batch.pk))
    assert event.data["reason"] == "worker_stopping"
    assert len(queued) == 1  # the task, queued again once that commits


def test_a_task_fetched_by_a_stopping_worker_goes_back_to_the_queue_unstarted(
    cast, stop_flag, django_capture_on_commit_callbacks
):
    batch = _stalled_batch(cast, age_seconds=0, status=ImportStatus.QUEUED)
    stop_flag.request_stop()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert tasks.import_batch_task(batch.pk) == ImportStatus.QUEUED
    batch.refresh_from_db()
    assert batch.runs == 0 and batch.started_at is None and len(queued) == 1


@pytest.mark.django_db(transaction=True)
def test_a_run_writes_its_heartbeat_while_its_transaction_is_open(cast, settings, monkeypatch):
    settings.WORKER_HEARTBEAT_SECONDS = 0.05
    batch = _stalled_batch(cast, age_seconds=0, status=ImportStatus.QUEUED)
    read = importer.read_catalog
    seen = []

    def slow_read(*args, **kwargs):
        begun = ImportBatch.objects.get(pk=batch.pk).heartbeat_at
        time.sleep(0.5)  # a long read: only the heartbeat thread writes meanwhile
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT heartbeat_at FROM catalog_importbatch WHERE id = %s", [batch.pk]
                )
                seen.append((begun, cursor.fetchone()[0]))
        finally:
            other.close()
        return read(*args, **kwargs)

    monkeypatch.setattr(importer, "read_catalog", slow_read)
    assert tasks.import_batch_task(batch.pk) == ImportStatus.DONE
    ((begun, beat),) = seen
    assert begun is not None and beat - begun >= timedelta(seconds=0.3)
