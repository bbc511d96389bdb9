"""The issue's "done when", end to end through the pages and commands an auditor uses."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from audit import services


def test_an_auditor_filters_history_downloads_verifies_and_prints_a_certificate(
    cast, live, product_events, tmp_path, capsys
):
    export = services.export_build(
        export_id=services.export_request(
            actor=cast.users["compliance_lead"], tenant=cast.tenant, scope={}, background=False
        ).pk
    )
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "acme-auditor", "password": "pw-for-tests-1"}
    )
    assert response.status_code == 302

    # One product's history, from the log.
    page = client.get("/t/acme/audit/", {"target_type": "catalog.product", "target_id": "10"})
    events = page.context["page"].events
    assert [e.pk for e in events] == [product_events[0].pk]

    # The JSON export, downloaded and verified with the digest shown on the export page.
    detail = client.get(f"/t/acme/audit/exports/{export.pk}/").content.decode()
    assert export.sha256 in detail and "Certificate" in detail
    download = client.get(f"/t/acme/audit/exports/{export.pk}/download.json")
    path = tmp_path / "export.json"
    path.write_bytes(download.content)
    call_command("audit_export_verify", str(path), sha256=export.sha256)
    assert "OK" in capsys.readouterr().out

    # The printable certificate of one decision.
    certificate = client.get(f"/t/acme/audit/exports/{export.pk}/decisions/2/certificate/")
    assert certificate.status_code == 200
    assert "Classification certificate" in certificate.content.decode()

    # The auditor changes nothing.
    assert client.post("/t/acme/audit/exports/new/", {}).status_code == 403

    # A tampered event is caught by audit_verify.
    call_command("audit_verify", tenant="acme")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(
            'UPDATE audit_auditevent SET data = \'{"name": ["Old", "Forged"]}\' WHERE id = %s',
            [product_events[0].pk],
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    with pytest.raises(CommandError, match=f"seq {product_events[0].seq}.*altered"):
        call_command("audit_verify", tenant="acme")
