"""/metrics for Prometheus: off without a token, refused without it, figures from the database."""

import os

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import OrmQ
from prometheus_client.parser import text_string_to_metric_families

from audit.models import AuditEvent
from classification import leases
from classification import services as classification_services
from classification.models import Job, JobStatus
from metering import counters, prometheus, selectors
from metering.models import UsageCounter

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def _scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_are_not_found_when_no_token_is_set(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_metrics_refuse_a_request_without_the_token_or_with_another(client, db, metrics_on):
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"authorization": f"Basic {TOKEN}"}).status_code == 401
    wrong = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}x"})
    assert wrong.status_code == 403
    assert b"workbench_" not in wrong.content


def test_a_logged_in_user_without_the_token_is_refused_too(cast, metrics_on):
    from workbench.roles import Role

    assert cast.client(Role.TENANT_ADMIN).get("/metrics").status_code == 401


def test_the_figures_match_the_database(cast, make_products, metrics_on, client):
    products = make_products(3)
    classification_services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[p.pk for p in products]
    )
    (lease,) = leases.claim(owner="w", limit=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE classification_job SET lease_expires_at = now() - interval '1 s' WHERE id = %s",
            [lease.job_id],
        )
        cursor.execute(
            "UPDATE classification_job SET status = 'dead' WHERE id = "
            "(SELECT max(id) FROM classification_job WHERE status = 'queued')"
        )
    OrmQ.objects.create(key="workbench", payload="x", lock=timezone.now())
    OrmQ.objects.create(key="workbench", payload="y", lock=timezone.now() + timezone.timedelta(60))
    UsageCounter.objects.all().delete()
    month = selectors.current_month()
    for tenant, metric, value in [
        (cast.tenant, counters.decisions("classified"), 5),
        (cast.other_tenant, counters.decisions("classified"), 2),
        (cast.tenant, counters.decisions("blocked"), 1),
        (cast.tenant, counters.webhook_deliveries("dead"), 4),
        (cast.tenant, counters.CATALOG_IMPORTS, 2),
        (cast.tenant, counters.IMPORT_MS, 3000),
        (cast.tenant, counters.JOBS_RECLAIMED, 6),
    ]:
        UsageCounter.objects.create(tenant=tenant, month=month, metric=metric, value=value)

    s = _scrape(client)

    def v(name, **labels):
        return s[(name, tuple(sorted(labels.items())))]

    assert v("workbench_classification_jobs", status="queued") == 1
    assert v("workbench_classification_jobs", status="leased") == 1
    assert v("workbench_classification_jobs", status="dead") == 1
    assert v("workbench_classification_leases_expired") == 1
    assert v("workbench_django_q_tasks", state="queued") == 1
    assert v("workbench_django_q_tasks", state="locked") == 1
    assert v("workbench_decisions_total", outcome="classified") == 7
    assert v("workbench_decisions_total", outcome="needs_review") == 0
    assert v("workbench_decisions_total", outcome="blocked") == 1
    assert v("workbench_webhook_deliveries_total", result="dead") == 4
    assert v("workbench_classification_reclaims_total") == 6
    assert v("workbench_catalog_import_duration_seconds_count") == 2
    assert v("workbench_catalog_import_duration_seconds_sum") == 3.0
    assert v("workbench_webhook_deliveries_open", status="pending") == 0
    assert v("workbench_webhook_delivery_lag_seconds") == 0
    chain = AuditEvent.objects.filter(tenant=cast.tenant).count()
    assert chain > 0
    assert v("workbench_audit_chain_length", tenant="acme") == chain


def test_a_request_is_timed_by_its_view_name(client, db, metrics_on):
    labels = {"method": "GET", "view": "healthz", "status": "200"}
    name = "workbench_http_request_duration_seconds_count"
    before = prometheus.REGISTRY.get_sample_value(name, labels) or 0
    client.get("/healthz")
    assert prometheus.REGISTRY.get_sample_value(name, labels) == before + 1


def test_a_short_metrics_token_stops_the_process():
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "DATABASE_URL")}
    env.update(DEBUG="1", METRICS_TOKEN="short")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "METRICS_TOKEN is too short" in result.stderr


def test_a_status_the_model_does_not_have_fails_the_scrape_instead_of_counting_nothing():

    assert prometheus._statuses(Job, "queued", "dead") == (JobStatus.QUEUED, JobStatus.DEAD)
    with pytest.raises(LookupError, match=r"classification\.Job\.status has no running"):
        prometheus._statuses(Job, "queued", "running")
