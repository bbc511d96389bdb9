import copy
import hashlib
import io
import json

import pytest
from django.db import DatabaseError, connection, transaction
from openpyxl import load_workbook

import audit
from audit import canonical, renderers, selectors, services, snapshot
from audit.models import AuditEvent, AuditExport, OutboxEvent


def _export(cast, scope=None, who="compliance_lead"):
    export = services.export_request(
        actor=cast.users[who], tenant=cast.tenant, scope=scope or {}, background=False
    )
    return services.export_build(export_id=export.pk)


def _xlsx(document, sha256) -> bytes:
    buffer = io.BytesIO()
    renderers.render_xlsx(document, sha256, buffer)
    return buffer.getvalue()


def test_a_ready_export_stores_canonical_json_and_its_sha256(cast, live, product_events):
    export = _export(cast)
    assert export.status == "ready" and export.progress == 100
    data = selectors.export_bytes(export)
    assert export.sha256 == hashlib.sha256(data).hexdigest()
    document = json.loads(data)
    assert canonical.dumps_bytes(document) == data
    assert document["tenant"] == {"id": cast.tenant.pk, "slug": "acme", "name": "Acme Imports"}
    assert document["export"]["requested_by"] == "acme-compliance_lead"
    assert document["scope"] == {
        "from": None,
        "to": None,
        "jurisdiction": None,
        "outcome": None,
        "skus": [],
    }
    section = document["sections"]["classification"]
    assert [d["id"] for d in section["decisions"]] == [1, 2]
    assert "audit_targets" not in section
    assert section["rule_packs"][0]["source"].startswith("[pack]")
    assert export.summary["classification.decisions"] == 2


def test_the_snapshot_holds_the_events_in_scope_and_the_chain_head(cast, live, product_events):
    export = _export(cast)
    # The head at export time is the export's own request, the last event before the build.
    head = AuditEvent.objects.get(verb="audit.export.requested", target_id=str(export.pk))
    document = selectors.export_snapshot(export)
    assert document["chain"] == {"head_seq": head.seq, "head_hash": head.hash}
    hashes = [e["hash"] for e in document["audit_events"]]
    assert hashes == list(
        AuditEvent.objects.filter(tenant=cast.tenant, seq__lte=head.seq)
        .order_by("seq")
        .values_list("hash", flat=True)
    )


def test_a_scoped_export_keeps_only_its_products_and_their_events(cast, live, product_events):
    export = _export(cast, {"skus": ["LAP-1"]})
    document = selectors.export_snapshot(export)
    assert [d["product"]["sku"] for d in renderers.decisions(document)] == ["LAP-1"]
    targets = {(e["target_type"], e["target_id"]) for e in document["audit_events"]}
    assert targets == {("catalog.product", "10"), ("classification.decision", "1")}


def test_changing_live_data_after_export_changes_no_rendering(cast, live, product_events, client):
    export = _export(cast)
    before_bytes = selectors.export_bytes(export)
    before_doc = snapshot.parse(before_bytes)
    before_xlsx = _xlsx(before_doc, export.sha256)
    assert load_workbook(io.BytesIO(before_xlsx))["Decisions"]["C2"].value == "LAP-1"
    client.force_login(cast.users["auditor"])
    url = f"/t/acme/audit/exports/{export.pk}/decisions/1/certificate/"
    before_cert = client.get(url).content

    # The product's facts change, the pack is replaced, the decision is overridden.
    live.decisions[0]["product"]["facts"]["name"] = "Renamed laptop"
    live.decisions[0]["final"]["code"] = "8471410150"
    live.packs[0]["source"] = "[pack]\nversion = '2026.2'\n"
    live.packs[0]["sha256"] = "b" * 64
    audit.record(
        actor=None,
        verb="catalog.product.updated",
        tenant=cast.tenant,
        target=("catalog.product", 10),
        data={"name": ["New", "Renamed"]},
    )

    export.refresh_from_db()
    after_bytes = selectors.export_bytes(export)
    assert after_bytes == before_bytes
    assert hashlib.sha256(after_bytes).hexdigest() == export.sha256
    assert _xlsx(snapshot.parse(after_bytes), export.sha256) == before_xlsx
    assert client.get(url).content == before_cert
    assert client.get(f"/t/acme/audit/exports/{export.pk}/download.json").content == before_bytes
    # A new export does see the change, under another digest.
    assert _export(cast).sha256 != export.sha256


def test_a_ready_export_is_immutable_in_the_database(cast, live):
    export = _export(cast)
    for sql in (
        "UPDATE audit_auditexport SET payload = '{}' WHERE id = %s",
        "DELETE FROM audit_auditexport WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [export.pk])
    assert AuditExport.objects.get(pk=export.pk).sha256 == export.sha256


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_sql_cannot_seal_an_export_outside_its_lifecycle(cast):
    export = services.export_request(actor=None, tenant=cast.tenant, scope={}, background=False)
    update = "UPDATE audit_auditexport SET {} WHERE id = %s"
    sealed = "status = 'ready', sha256 = repeat('a', 64), payload = '{}'"
    with pytest.raises(DatabaseError, match="status queued to ready is refused"):
        _raw(update.format(sealed), [export.pk])
    _raw(update.format("status = 'running'"), [export.pk])  # legal: what a worker does
    with pytest.raises(DatabaseError, match="ready needs its snapshot and its SHA-256"):
        _raw(update.format("status = 'ready', sha256 = repeat('a', 64)"), [export.pk])
    with pytest.raises(DatabaseError, match="status running to queued is refused"):
        _raw(update.format("status = 'queued'"), [export.pk])
    assert AuditExport.objects.get(pk=export.pk).status == "running"


def test_raw_sql_cannot_insert_a_ready_export(cast, live):
    export = _export(cast)
    with pytest.raises(DatabaseError, match="a new export starts queued, not ready"):
        _raw(
            "INSERT INTO audit_auditexport (tenant_id, requested_by_label, scope, status, "
            "progress, progress_note, failure_reason, payload, payload_file, sha256, summary, "
            "created_at) SELECT tenant_id, requested_by_label, scope, status, progress, "
            "progress_note, failure_reason, payload, payload_file, sha256, summary, now() "
            "FROM audit_auditexport WHERE id = %s",
            [export.pk],
        )
    assert AuditExport.objects.count() == 1


def test_a_failing_section_fails_the_export_with_its_reason_and_an_outbox_event(cast, live):
    live.fail_with = RuntimeError("rule pack 7 has no source")
    export = _export(cast)
    assert export.status == "failed"
    assert export.failure_reason == "RuntimeError: rule pack 7 has no source"
    event = OutboxEvent.objects.get(type="audit_export.failed")
    assert event.payload["export_id"] == export.pk
    assert event.payload["reason"] == export.failure_reason
    assert event.payload["link"] == f"/t/acme/audit/exports/{export.pk}/"
    assert AuditEvent.objects.filter(verb="audit.export.failed", target_id=str(export.pk)).exists()
    assert not OutboxEvent.objects.filter(type="audit_export.ready").exists()


def test_a_ready_export_emits_its_outbox_event_and_audit_events(cast, live):
    export = _export(cast)
    event = OutboxEvent.objects.get(type="audit_export.ready")
    assert event.payload["sha256"] == export.sha256 and event.payload["tenant"] == "acme"
    verbs = set(
        AuditEvent.objects.filter(
            target_id=str(export.pk), target_type="audit.auditexport"
        ).values_list("verb", flat=True)
    )
    assert verbs == {"audit.export.requested", "audit.export.completed"}


def test_building_an_export_twice_builds_it_once(cast, live):
    export = _export(cast)
    assert services.export_build(export_id=export.pk) is None
    assert OutboxEvent.objects.filter(type="audit_export.ready").count() == 1


def test_a_tampered_stored_snapshot_is_refused(cast, live):
    export = _export(cast)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditexport DISABLE TRIGGER audit_export_immutable")
        cursor.execute(
            "UPDATE audit_auditexport SET payload = replace(payload, 'LAP-1', 'LAP-9') "
            "WHERE id = %s",
            [export.pk],
        )
        cursor.execute("ALTER TABLE audit_auditexport ENABLE TRIGGER audit_export_immutable")
    with pytest.raises(selectors.SnapshotTampered, match="does not match"):
        selectors.export_bytes(export)


@pytest.mark.parametrize(
    ("scope", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "to"),
        ({"jurisdiction": "XX"}, "jurisdiction"),
        ({"outcome": "maybe"}, "outcome"),
        ({"colour": "red"}, "scope"),
    ],
)
def test_a_bad_scope_is_refused_naming_the_field(cast, scope, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        services.export_request(actor=None, tenant=cast.tenant, scope=scope, background=False)
    assert field in err.value.message_dict
    assert not AuditExport.objects.exists()


def test_large_snapshots_go_to_storage_and_still_verify(cast, live, monkeypatch):
    monkeypatch.setattr(services, "INLINE_PAYLOAD_MAX", 100)
    export = _export(cast)
    assert export.payload == "" and export.payload_file.startswith("audit_exports/acme/")
    data = selectors.export_bytes(export)
    assert hashlib.sha256(data).hexdigest() == export.sha256
    assert renderers.decisions(snapshot.parse(data))[0]["id"] == 1


def test_requesting_an_export_queues_the_build_on_commit(
    cast, live, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        export = services.export_request(
            actor=cast.users["compliance_lead"], tenant=cast.tenant, scope={}
        )
    assert len(callbacks) == 1
    export.refresh_from_db()
    assert export.status == "ready"  # django-q2 runs tasks synchronously in tests


def _materialised(value):
    if isinstance(value, snapshot.LazyArray):
        return [_materialised(v) for v in value]
    if isinstance(value, dict):
        return {k: _materialised(v) for k, v in value.items()}
    return value


def test_the_lazy_reading_of_a_snapshot_equals_the_full_parse(cast, live, product_events):
    live.decisions.append(copy.deepcopy(live.decisions[0]) | {"id": 3, "review_actions": []})
    export = _export(cast)
    data = selectors.export_bytes(export)
    lazy, full = snapshot.open_lazily(data), snapshot.parse(data)
    assert isinstance(lazy["audit_events"], snapshot.LazyArray)
    decisions = lazy["sections"]["classification"]["decisions"]
    assert len(decisions) == 3 and decisions[2]["id"] == 3 and list(decisions) == list(decisions)
    assert _materialised(lazy) == full
    assert _xlsx(lazy, export.sha256) == _xlsx(full, export.sha256)


def test_an_export_with_no_sections_and_no_events_in_range_still_renders(cast, monkeypatch):
    from django.apps import apps

    monkeypatch.setattr(
        apps.get_app_config("classification"), "audit_export_sections", lambda t, s: {}
    )
    export = _export(cast, {"from": "2001-01-01", "to": "2001-01-31"})
    document = snapshot.open_lazily(selectors.export_bytes(export))
    assert document["sections"] == {} and len(document["audit_events"]) == 0
    assert load_workbook(io.BytesIO(_xlsx(document, export.sha256)))["Decisions"].max_row == 1
