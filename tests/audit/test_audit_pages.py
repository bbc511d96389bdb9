import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

import audit
from audit import services
from audit.models import AuditEvent, AuditExport
from tests.matrix import check_access_matrix

LOG_ROLES = {"compliance_lead", "auditor", "tenant_admin"}
DOWNLOAD_ROLES = {"compliance_lead", "auditor"}


@pytest.fixture
def ready_export(cast, live, product_events):
    export = services.export_request(
        actor=cast.users["compliance_lead"], tenant=cast.tenant, scope={}, background=False
    )
    return services.export_build(export_id=export.pk)


def test_the_url_actor_matrix_holds_for_every_page(cast, ready_export):
    base, pk = "/t/acme/audit/", ready_export.pk
    for url in [
        base,
        f"{base}log.xlsx",
        f"{base}chain/",
        f"{base}history/catalog.product/10/",
    ]:
        check_access_matrix(cast, url, LOG_ROLES)
    for url in [
        f"{base}exports/",
        f"{base}exports/{pk}/",
        f"{base}exports/{pk}/download.json",
        f"{base}exports/{pk}/download.xlsx",
        f"{base}exports/{pk}/decisions/1/certificate/",
    ]:
        check_access_matrix(cast, url, DOWNLOAD_ROLES)
    check_access_matrix(
        cast, f"{base}exports/new/", {"compliance_lead"}, method="post", data={}, ok=(302,)
    )


def test_an_export_of_another_tenant_is_not_found(cast, ready_export):
    theirs = services.export_request(
        actor=None, tenant=cast.other_tenant, scope={}, background=False
    )
    client = cast.client("auditor")
    assert client.get(f"/t/acme/audit/exports/{theirs.pk}/").status_code == 404
    assert (
        client.get(
            f"/t/acme/audit/exports/{ready_export.pk}/decisions/999/certificate/"
        ).status_code
        == 404
    )


def test_the_log_filters_by_actor_verb_prefix_target_and_date(cast, product_events):
    client = cast.client("auditor")
    page = client.get("/t/acme/audit/", {"actor": "acme-broker"}).content.decode()
    assert "classification.decision.accepted" in page and "catalog.product.updated" not in page
    page = client.get("/t/acme/audit/", {"verb": "catalog."}).content.decode()
    assert "catalog.product.updated" in page and "classification.decision.accepted" not in page
    page = client.get(
        "/t/acme/audit/", {"target_type": "catalog.product", "target_id": "99"}
    ).content.decode()
    assert "OTHER" in page and "LAP-1" not in page
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    page = client.get("/t/acme/audit/", {"date_from": tomorrow}).content.decode()
    assert "No events match these filters." in page


def test_the_log_shows_changed_fields_as_old_and_new_and_each_hash(cast, product_events):
    page = cast.client("auditor").get("/t/acme/audit/").content.decode()
    assert '<span class="old">Old</span> → <span class="new">New</span>' in page
    assert product_events[0].hash in page


def test_an_inverted_date_range_is_refused_with_a_message(cast, product_events):
    response = cast.client("auditor").get(
        "/t/acme/audit/", {"date_from": "2026-11-02", "date_to": "2026-11-01"}
    )
    assert response.status_code == 422
    assert "ends (2026-11-01) before it starts (2026-11-02)" in response.content.decode()


def test_the_log_pages_by_keyset_without_gaps_or_repeats(cast):
    for i in range(120):
        audit.record(
            actor=None,
            verb="catalog.product.created",
            tenant=cast.tenant,
            target=("catalog.product", 1000 + i),
            data={},
        )
    client, seen, before = cast.client("auditor"), [], None
    while True:
        params = {"verb": "catalog.product.created"} | ({"before": before} if before else {})
        response = client.get("/t/acme/audit/", params, headers={"HX-Request": "true"})
        seqs = [e.seq for e in response.context["page"].events]
        seen += seqs
        before = response.context["page"].next_before
        if before is None:
            break
    assert len(seen) == 120 and seen == sorted(set(seen), reverse=True)
    # A deep page costs what the first page costs (keyset, no OFFSET, no per-row queries).
    with CaptureQueriesContext(connection) as first:
        client.get("/t/acme/audit/")
    with CaptureQueriesContext(connection) as deep:
        client.get("/t/acme/audit/", {"before": seen[100]})
    assert len(deep) == len(first)
    assert not any("OFFSET" in q["sql"] for q in deep.captured_queries)


def test_the_chain_status_says_verified_or_names_the_broken_event(cast, product_events):
    client = cast.client("auditor")
    assert "verified" in client.get("/t/acme/audit/chain/").content.decode()
    target = product_events[1]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(
            "UPDATE audit_auditevent SET actor_label = 'someone else' WHERE id = %s", [target.pk]
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    audit.record(actor=None, verb="catalog.product.created", tenant=cast.tenant)  # moves the head
    page = client.get("/t/acme/audit/chain/", headers={"HX-Request": "true"}).content.decode()
    assert f"broken at event {target.seq}" in page and "altered" in page
    assert "<html" not in page  # the htmx fragment only


def test_the_log_downloads_as_xlsx_with_formulas_neutralised(cast):
    audit.record(
        actor=None,
        verb="catalog.product.updated",
        tenant=cast.tenant,
        target=("catalog.product", 5, '=HYPERLINK("http://x","y")'),
        data={"name": ["-2+3", "@SUM(A1)"]},
    )
    response = cast.client("auditor").get("/t/acme/audit/log.xlsx", {"verb": "catalog."})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["Audit log"]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 1
    label = rows[0][6]
    assert label.value == '\'=HYPERLINK("http://x","y")' and label.data_type == "s"
    assert all(c.data_type in ("s", "n") for c in rows[0])


def test_the_history_panel_lists_one_objects_events(cast, product_events):
    page = cast.client("auditor").get("/t/acme/audit/history/catalog.product/10/").content
    page = page.decode()
    assert "catalog.product.updated" in page and product_events[0].hash[:14] in page
    assert page.count("history-event") == 1


def test_a_compliance_lead_starts_an_export_and_watches_it_finish(
    cast, live, django_capture_on_commit_callbacks
):
    client = cast.client("compliance_lead")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/t/acme/audit/exports/new/", {"jurisdiction": "US", "skus": "LAP-1, LAP-2"}
        )
    export = AuditExport.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == f"/t/acme/audit/exports/{export.pk}/"
    )
    assert export.scope["skus"] == ["LAP-1", "LAP-2"] and export.status == "ready"
    poll = client.get(
        f"/t/acme/audit/exports/{export.pk}/", {"poll": 1}, headers={"HX-Request": "true"}
    )
    assert poll.status_code == 286
    assert export.sha256 in poll.content.decode() and "hx-trigger" not in poll.content.decode()


def test_a_running_export_keeps_polling_and_a_failed_one_shows_its_reason(cast, live):
    export = services.export_request(actor=None, tenant=cast.tenant, scope={}, background=False)
    client = cast.client("auditor")
    url = f"/t/acme/audit/exports/{export.pk}/"
    poll = client.get(url, {"poll": 1}, headers={"HX-Request": "true"})
    assert poll.status_code == 200 and 'hx-trigger="every 2s"' in poll.content.decode()
    live.fail_with = ValueError("decision 2 has no product version")
    services.export_build(export_id=export.pk)
    page = client.get(url).content.decode()
    assert "Failed" in page and "ValueError: decision 2 has no product version" in page


def test_a_bad_export_form_is_refused_with_its_message(cast):
    response = cast.client("compliance_lead").post(
        "/t/acme/audit/exports/new/", {"date_from": "2026-11-05", "date_to": "2026-11-01"}
    )
    assert response.status_code == 422
    assert "ends (2026-11-01) before it starts (2026-11-05)" in response.content.decode()
    assert not AuditExport.objects.exists()


def test_the_auditor_downloads_json_and_xlsx_and_each_download_is_audited(cast, ready_export):
    client = cast.client("auditor")
    response = client.get(f"/t/acme/audit/exports/{ready_export.pk}/download.json")
    assert response["X-Snapshot-SHA256"] == ready_export.sha256
    assert response.content == ready_export.payload.encode()
    response = client.get(f"/t/acme/audit/exports/{ready_export.pk}/download.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Summary",
        "Decisions",
        "Candidates",
        "Review actions",
        "Rule packs",
        "Rule pack sources",
        "Audit events",
    ]
    downloads = AuditEvent.objects.filter(
        verb="audit.export.downloaded", actor=cast.users["auditor"]
    )
    assert sorted(e.data["rendering"] for e in downloads) == ["json", "xlsx"]


def test_the_certificate_shows_the_evidence_of_one_decision(cast, ready_export):
    page = (
        cast.client("auditor")
        .get(f"/t/acme/audit/exports/{ready_export.pk}/decisions/1/certificate/")
        .content.decode()
    )
    for expected in [
        "Classification certificate",
        "8471.30.01.00",  # final code
        "acme-broker",  # who decided
        "Rule laptops matched product_type=laptop.",  # rationale
        "8528.52.00.00",  # a rejected candidate
        "excluded_by_rule",
        "a" * 64,  # rule pack hash
        "2026 Revision 4",  # schedule revision
        ready_export.sha256,  # export digest
        "Laptop LAP-1",  # facts as classified
        "Free",  # duty line
    ]:
        assert expected in page, expected


def test_object_pages_get_a_history_panel_for_readers(cast, product_events, rf):
    pytest.importorskip("workbench.panels", reason="workbench object panels are not merged yet")
    from django.apps import apps

    from workbench.models import Tenant

    class Product:  # stands in for catalog.Product until the page tests live in catalog
        pk = 10

        class _meta:
            label_lower = "catalog.product"

    config = apps.get_app_config("audit")
    request = rf.get("/t/acme/catalog/products/10/")
    request.tenant, request.user = Tenant.objects.get(slug="acme"), cast.users["analyst"]
    [panel] = config.object_panels("product", request, Product())
    assert [e.pk for e in panel.context["history_events"]] == [product_events[0].pk]
    assert config.object_panels("import", request, Product()) == []


def test_a_log_download_beyond_the_limit_is_refused_with_advice(cast, product_events, monkeypatch):
    from audit import views

    monkeypatch.setattr(views, "LOG_XLSX_MAX", 2)
    response = cast.client("auditor").get(
        "/t/acme/audit/log.xlsx", {"verb": "catalog."}, follow=True
    )
    assert response.redirect_chain[0][0] == "/t/acme/audit/?verb=catalog."
    assert "3 events match: a download holds at most 2" in response.content.decode()


def test_an_export_whose_worker_stopped_shows_as_stalled_and_stops_polling(cast, live):
    import datetime as dt

    from django.utils import timezone

    export = services.export_request(actor=None, tenant=cast.tenant, scope={}, background=False)
    AuditExport.objects.filter(pk=export.pk).update(
        status="running", started_at=timezone.now() - dt.timedelta(hours=2)
    )
    client = cast.client("auditor")
    poll = client.get(
        f"/t/acme/audit/exports/{export.pk}/", {"poll": 1}, headers={"HX-Request": "true"}
    )
    assert poll.status_code == 286 and "Stalled" in poll.content.decode()
    assert "hx-trigger" not in poll.content.decode()


def test_an_export_whose_heartbeat_stopped_says_when_it_was_last_alive(cast):
    import datetime as dt

    from django.utils import timezone

    export = services.export_request(actor=None, tenant=cast.tenant, scope={}, background=False)
    beat = timezone.now() - dt.timedelta(seconds=40)
    AuditExport.objects.filter(pk=export.pk).update(
        status="running", started_at=beat, heartbeat_at=beat, progress=24
    )
    client, page = cast.client("auditor"), f"/t/acme/audit/exports/{export.pk}/"
    poll = client.get(page, {"poll": 1}, headers={"HX-Request": "true"})
    text = poll.content.decode()
    assert f"Stalled: no sign of life since {beat:%H:%M:%S} UTC (" in text and "s ago)" in text
    assert "Running…" not in text
    # Started as long ago, but beating: a build at work.
    AuditExport.objects.filter(pk=export.pk).update(heartbeat_at=timezone.now())
    poll = client.get(page, {"poll": 1}, headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "Running…" in poll.content.decode()


def test_the_log_links_to_exports_only_for_those_who_may_open_them(cast):
    assert "/audit/exports/" in cast.client("auditor").get("/t/acme/audit/").content.decode()
    assert (
        "/audit/exports/" not in cast.client("tenant_admin").get("/t/acme/audit/").content.decode()
    )


def test_the_sweep_fails_exports_whose_worker_stopped_and_leaves_live_ones(cast, settings):
    import datetime as dt

    from django.utils import timezone

    from audit.models import AuditEvent, OutboxEvent

    retry = settings.Q_CLUSTER["retry"]
    dead, alive = (
        services.export_request(actor=None, tenant=cast.tenant, scope={}, background=False)
        for _ in range(2)
    )
    # The heartbeat decides, not the age: both began a retry window ago.
    started = timezone.now() - dt.timedelta(seconds=retry + 5)
    stale = settings.WORKER_STALE_SECONDS
    for export, beat in ((dead, stale + 1), (alive, stale - 10)):
        AuditExport.objects.filter(pk=export.pk).update(
            status="running",
            started_at=started,
            heartbeat_at=timezone.now() - dt.timedelta(seconds=beat),
        )
    assert services.exports_fail_stalled() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == "failed" and "worker building this export stopped" in dead.failure_reason
    assert alive.status == "running"
    assert AuditEvent.objects.filter(verb="audit.export.failed", target_id=str(dead.pk)).exists()
    assert OutboxEvent.objects.filter(type="audit_export.failed", target_id=str(dead.pk)).exists()
    assert services.exports_fail_stalled() == 0
