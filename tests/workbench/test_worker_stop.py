"""`manage.py qcluster` stops on SIGTERM within its stop window, handing running work back."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, connections
from django_q.models import OrmQ
from django_q.tasks import async_task

from audit.models import AuditEvent
from catalog.models import ImportBatch, ImportStatus, Product
from tests.catalog.conftest import csv_bytes, row
from workbench.management.commands import qcluster

ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 20
ROWS = 40_000


def _database_url() -> str:
    s = connection.settings_dict
    host = f"?host={s['HOST']}" if s["HOST"].startswith("/") else ""
    where = "" if host else f"{s['HOST']}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{where}/{s['NAME']}{host}"


def _cluster(media: Path, **env) -> subprocess.Popen:
    """Start `manage.py qcluster` on the production settings against the test database; its
    log goes to ``media/qcluster.log`` (a file: no pipe a leftover process could hold open)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "workbench.settings",
        "DEBUG": "1",
        "DATABASE_URL": _database_url(),
        "MEDIA_ROOT": str(media),
        "WORKER_PROCESSES": "1",
        "WORKER_LOG_LEVEL": "INFO",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(media / "qcluster.log").open("w"),
    )


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_the_cluster_and_the_running_import_is_rolled_back_and_queued_again(
    cast, tmp_path
):
    name = "catalog-imports/big.csv"
    (tmp_path / "catalog-imports").mkdir()
    (tmp_path / name).write_bytes(csv_bytes([row(f"S-{i}") for i in range(ROWS)]))
    batch = ImportBatch.objects.create(
        tenant=cast.tenant, filename="big.csv", file_sha256="0" * 64, size_bytes=1, stored_file=name
    )
    # Hold the import's writer at its first COPY, so that the signal finds it mid-file.
    holder = connections.create_connection("default")
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("LOCK TABLE catalog_product IN SHARE MODE")
    async_task("catalog.tasks.import_batch_task", batch.pk, sync=False)
    proc = _cluster(tmp_path, WORKER_STOP_SECONDS=str(STOP_SECONDS))
    try:
        _wait_for(
            lambda: ImportBatch.objects.filter(pk=batch.pk, processed_rows__gt=0).exists(),
            120,
            "the import to be under way",
        )
        processes = qcluster._descendants(proc.pid)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        holder.rollback()  # the writer goes on; the reader meets the stop at its next report
        proc.wait(timeout=STOP_SECONDS + 15)
        took = time.monotonic() - began
    finally:
        holder.close()
        if proc.poll() is None:
            proc.kill()
    log = (tmp_path / "qcluster.log").read_text()
    print(f"qcluster stopped {took:.2f} s after SIGTERM")
    assert proc.returncode == 0, log
    assert took < STOP_SECONDS, log  # handed back, not killed at the end of the window
    assert "killing" not in log
    assert len(processes) >= 4 and not [pid for pid in processes if _alive(pid)]
    batch.refresh_from_db()
    assert not Product.objects.exists()  # rolled back whole
    assert (batch.status, batch.runs, batch.processed_rows) == (ImportStatus.QUEUED, 0, 0)
    assert (tmp_path / name).exists()  # the upload waits for the next run
    assert AuditEvent.objects.filter(
        verb="catalog.import.requeued", target_id=str(batch.pk), data__reason="worker_stopping"
    ).exists()
    assert OrmQ.objects.count() == 1  # the import, queued again


@pytest.mark.django_db(transaction=True)
def test_a_task_that_does_not_hand_back_is_killed_at_the_end_of_the_stop_window(tmp_path):
    async_task("time.sleep", 300, sync=False)
    proc = _cluster(tmp_path, WORKER_STOP_SECONDS="3")
    try:
        _wait_for(lambda: not OrmQ.objects.filter(lock__lte=_now()).exists(), 60, "the task")
        time.sleep(1)  # the worker has it
        processes = qcluster._descendants(proc.pid)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
    log = (tmp_path / "qcluster.log").read_text()
    print(f"qcluster stopped {took:.2f} s after SIGTERM")
    assert proc.returncode == 0, log
    assert 3 <= took < 10, log
    assert "killing them" in log
    assert not [pid for pid in processes if _alive(pid)]  # no worker left behind


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _now():
    from django.utils import timezone

    return timezone.now()
