"""Leased jobs on real PostgreSQL: concurrency, crashed workers, stale tokens, dead jobs."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse

from audit.models import AuditEvent
from classification import engine, leases, runner, services
from classification.models import Decision, Job, JobStatus
from workbench.roles import Role

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_wake(monkeypatch):
    """Keep the request's on-commit wake-up from draining the queue inline (sync q2 in tests)."""
    from classification import tasks

    monkeypatch.setattr(tasks, "wake", lambda count=1: None)


def _request(cast, products):
    return services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[p.pk for p in products]
    )


def _expire_leases():
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE classification_job SET lease_expires_at = now() - interval '1 s'"
            " WHERE status = 'leased'"
        )


def test_a_drain_decides_every_job_once_and_audits_each_decision(cast, make_products):
    request = _request(cast, make_products(30))
    report = runner.drain(owner="test")
    assert (report.claimed, report.done, report.failed) == (30, 30, 0)
    assert Decision.objects.filter(job__request=request).count() == 30
    assert not Job.objects.exclude(status=JobStatus.DONE).exists()
    assert AuditEvent.objects.filter(verb="classification.decision.created").count() == 30
    decision = Decision.objects.first()
    assert decision.product_version_id == decision.job.product_version_id
    assert decision.engine_version == engine.ENGINE_VERSION


def test_a_drain_stops_between_batches_when_its_worker_is_asked_to_stop(
    cast, make_products, monkeypatch
):
    from workbench import worker

    monkeypatch.setattr(worker, "_stop_flag", None)
    worker.arm_stop_flag()
    commit = runner._commit

    def commit_then_sigterm(*args, **kwargs):
        commit(*args, **kwargs)
        worker.request_stop()

    monkeypatch.setattr(runner, "_commit", commit_then_sigterm)
    _request(cast, make_products(30))
    report = runner.drain(owner="test")
    assert (report.claimed, report.done) == (25, 25)
    assert Job.objects.filter(status=JobStatus.QUEUED, lease_owner="").count() == 5


def test_claims_take_at_most_25_jobs_and_increment_the_token(cast, make_products):
    _request(cast, make_products(30))
    first = leases.claim(owner="a", limit=25)
    second = leases.claim(owner="b", limit=25)
    assert len(first) == 25 and len(second) == 5
    assert {lease.token for lease in first + second} == {1}
    assert not {lease.job_id for lease in first} & {lease.job_id for lease in second}
    assert leases.claim(owner="c", limit=25) == []  # everything is leased and unexpired


def test_an_expired_lease_is_reclaimed_with_a_new_token(cast, make_products):
    _request(cast, make_products(2))
    old = leases.claim(owner="a", limit=25)
    _expire_leases()
    new = leases.claim(owner="b", limit=25)
    assert [lease.job_id for lease in new] == [lease.job_id for lease in old]
    assert all(n.token == o.token + 1 and n.attempt == 2 for n, o in zip(new, old, strict=True))


def test_a_stalled_workers_late_commit_is_refused_by_its_stale_token(cast, make_products):
    _request(cast, make_products(3))
    stalled = leases.claim(owner="stalled", limit=25)
    stalled_results = runner._run(stalled, runner.selectors.EngineContexts())
    _expire_leases()
    assert runner.drain(owner="healthy").done == 3
    report = runner.DrainReport()
    runner._commit(stalled_results, owner="stalled", report=report)
    assert report.stale == 3 and report.done == 0
    assert Decision.objects.count() == 3
    assert set(Decision.objects.values_list("attempt", flat=True)) == {2}


def test_a_job_that_always_raises_ends_dead_with_its_error_and_can_be_retried(
    cast, make_products, monkeypatch
):
    bad, good = make_products(2)
    real = engine.classify

    def flaky(facts, **kwargs):
        if facts["sku"] == bad.sku:
            raise RuntimeError("schedule line 8507.60 missing from the reference")
        return real(facts, **kwargs)

    monkeypatch.setattr(engine, "classify", flaky)
    _request(cast, [bad, good])
    for _ in range(3):
        runner.drain(owner="w")
    job = Job.objects.get(product=bad)
    assert job.status == JobStatus.DEAD and job.attempts == 3
    assert "schedule line 8507.60 missing" in job.last_error
    assert Job.objects.get(product=good).status == JobStatus.DONE
    assert AuditEvent.objects.filter(verb="classification.job.died").count() == 1

    page = cast.client(Role.AUDITOR).get(reverse("classification:dead_jobs", args=["acme"]))
    assert "schedule line 8507.60 missing" in page.content.decode()

    url = reverse("classification:job_retry", args=["acme", job.pk])
    assert cast.client(Role.BROKER).post(url).status_code == 403
    monkeypatch.setattr(engine, "classify", real)
    assert cast.client(Role.COMPLIANCE_LEAD).post(url).status_code == 302
    runner.drain(owner="w")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and Decision.objects.filter(job=job).count() == 1


def test_at_most_one_decision_per_job_is_enforced_by_the_database(cast, make_products):
    _request(cast, make_products(1))
    runner.drain(owner="w")
    decision = Decision.objects.get()
    decision.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        decision.save(force_insert=True)


def test_decisions_are_immutable_in_the_database(cast, make_products):
    _request(cast, make_products(1))
    runner.drain(owner="w")
    decision = Decision.objects.get()
    for sql in (
        "UPDATE classification_decision SET selected_code = '0000' WHERE id = %s",
        "DELETE FROM classification_decision WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [decision.pk])


@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_one_queue_never_process_a_job_twice(cast, make_products, no_wake):
    _request(cast, make_products(90))
    reports, errors = [], []

    def work(name):
        try:
            reports.append(runner.drain(owner=name))
        except Exception as err:  # reported below
            errors.append(err)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.done for r in reports) == 90
    assert Decision.objects.count() == 90
    assert Decision.objects.values("job").distinct().count() == 90


def _database_url() -> str:
    s = connection.settings_dict
    return (
        f"postgres://{s['USER']}:{s['PASSWORD']}@/{s['NAME']}?host={s['HOST']}"
        if s["HOST"].startswith("/")
        else f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_with_sigkill_mid_batch_loses_nothing(cast, make_products, no_wake):
    _request(cast, make_products(40))
    script = textwrap.dedent("""
        import os, sys, time, django
        django.setup()
        from classification import leases
        got = leases.claim(owner="doomed", limit=25, seconds=2)
        print(len(got), flush=True)
        time.sleep(600)  # mid-batch: killed before it can commit anything
    """)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "workbench.settings_test",
        "DATABASE_URL": _database_url(),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "25"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    first = runner.drain(owner="survivor")  # the 15 unleased jobs
    assert first.done == 15
    time.sleep(2.2)  # the dead worker's leases expire by the database clock
    second = runner.drain(owner="survivor")
    assert second.done == 25
    assert Decision.objects.count() == 40
    assert Decision.objects.values("job").distinct().count() == 40
    assert set(Decision.objects.filter(attempt=2).values_list("job__lease_owner", flat=True)) <= {
        ""
    }


@pytest.mark.usefixtures("no_wake")
def test_the_lease_lasts_as_long_as_the_setting_says(cast, make_products, settings):
    settings.CLASSIFICATION_LEASE_SECONDS = 30
    _request(cast, make_products(1))
    (lease,) = leases.claim(owner="a", limit=25)
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()
    expires = Job.objects.get(pk=lease.job_id).lease_expires_at
    assert 29 <= (expires - now).total_seconds() <= 31


def _lease_seconds_in_a_new_process(**env_overrides):
    """Start a process on the production settings with ``env_overrides``; print the lease."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(DEBUG="1", DATABASE_URL="postgres://nobody@127.0.0.1:1/none", **env_overrides)
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'workbench.settings'; "
        "django.setup(); from classification import leases; print(leases.lease_seconds())"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(("value", "expected"), [("30", "30"), (None, "120")])
def test_the_lease_setting_is_read_from_the_environment(value, expected):
    overrides = {} if value is None else {"CLASSIFICATION_LEASE_SECONDS": value}
    done = _lease_seconds_in_a_new_process(**overrides)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


def test_a_lease_setting_that_is_not_a_number_stops_the_process_naming_it():
    done = _lease_seconds_in_a_new_process(CLASSIFICATION_LEASE_SECONDS="2 minutes")
    assert done.returncode != 0
    assert "CLASSIFICATION_LEASE_SECONDS" in done.stderr


def test_the_collector_waits_during_the_first_batch_only(cast, make_products, monkeypatch):
    import gc

    commit = runner._commit
    collecting = []

    def commit_noting_the_collector(*args, **kwargs):
        collecting.append(gc.isenabled())
        commit(*args, **kwargs)

    monkeypatch.setattr(runner, "_commit", commit_noting_the_collector)
    _request(cast, make_products(30))
    assert runner.drain(owner="test").done == 30
    # The first batch builds what lives as long as the worker; the collector is on after it.
    assert collecting == [False, True]
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_first_batch_that_raises_leaves_the_collector_on(cast, make_products, monkeypatch):
    import gc

    def broken_commit(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(runner, "_commit", broken_commit)
    _request(cast, make_products(3))
    with pytest.raises(DatabaseError):
        runner.drain(owner="test")
    assert gc.isenabled() and gc.get_freeze_count() == 0
