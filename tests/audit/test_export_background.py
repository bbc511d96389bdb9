"""An export built the way a worker builds it: outside any transaction of the caller."""

import pytest
from django.apps import apps
from django.db import connections

from audit import services
from audit.models import AuditExport
from tests.factories import TenantFactory


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_others_while_the_snapshot_is_read(monkeypatch):
    tenant = TenantFactory(slug="worker")
    seen = []

    def observe():
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT status, progress, progress_note FROM audit_auditexport "
                    "WHERE tenant_id = %s",
                    [tenant.pk],
                )
                seen.append(cursor.fetchone())
        finally:
            other.close()
        yield {"id": 1}

    monkeypatch.setattr(
        apps.get_app_config("classification"),
        "audit_export_sections",
        lambda t, scope: {"classification": {"decisions": observe(), "rule_packs": []}},
    )
    export = services.export_request(actor=None, tenant=tenant, scope={}, background=False)
    export = services.export_build(export_id=export.pk)
    assert export.status == "ready"
    assert seen == [("running", 10, "Collecting sections")]
    assert AuditExport.objects.get(pk=export.pk).progress == 100


@pytest.mark.django_db
def test_an_export_fetched_by_a_stopping_worker_goes_back_to_the_queue_unstarted(
    monkeypatch, django_capture_on_commit_callbacks
):
    from workbench import worker

    monkeypatch.setattr(worker, "_stop_flag", None)
    worker.arm_stop_flag()
    worker.request_stop()
    export = services.export_request(
        actor=None, tenant=TenantFactory(slug="stopping"), scope={}, background=False
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert services.export_build(export_id=export.pk) is None
    export.refresh_from_db()
    assert export.status == "queued" and export.started_at is None and len(queued) == 1
