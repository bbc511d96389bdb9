import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from audit import canonical, selectors, snapshot
from audit.models import AuditExport


def test_audit_export_writes_the_snapshot_and_its_digest(
    cast, live, product_events, tmp_path, capsys
):
    out = tmp_path / "acme.json"
    call_command("audit_export", tenant="acme", format="json", out=str(out), jurisdiction="US")
    export = AuditExport.objects.get()
    assert export.requested_by_label == "command line" and export.scope["jurisdiction"] == "US"
    assert out.read_bytes() == selectors.export_bytes(export)
    assert (tmp_path / "acme.json.sha256").read_text() == f"{export.sha256}  acme.json\n"
    assert f"sha256 {export.sha256}" in capsys.readouterr().out


def test_audit_export_verify_accepts_an_intact_file(cast, live, tmp_path, capsys):
    out = tmp_path / "acme.json"
    call_command("audit_export", tenant="acme", format="json", out=str(out))
    call_command("audit_export_verify", str(out))
    assert "OK" in capsys.readouterr().out
    (tmp_path / "acme.json.sha256").unlink()  # falls back to the recorded export
    call_command("audit_export_verify", str(out))
    assert "matches export #" in capsys.readouterr().out


def test_audit_export_verify_names_what_differs_in_a_tampered_file(cast, live, tmp_path):
    out = tmp_path / "acme.json"
    call_command("audit_export", tenant="acme", format="json", out=str(out))
    document = json.loads(out.read_bytes())
    document["sections"]["classification"]["decisions"][0]["final"]["code"] = "8471410150"
    out.write_bytes(canonical.dumps_bytes(document))
    with pytest.raises(CommandError) as err:
        call_command("audit_export_verify", str(out))
    message = str(err.value)
    assert "does not match" in message
    assert '$.sections.classification.decisions[0].final.code: export has "8471300100"' in message


def test_audit_export_verify_flags_a_reformatted_file_and_a_wrong_digest(cast, live, tmp_path):
    out = tmp_path / "acme.json"
    call_command("audit_export", tenant="acme", format="json", out=str(out))
    out.write_text(json.dumps(json.loads(out.read_bytes()), indent=2))
    with pytest.raises(CommandError, match="not in canonical form"):
        call_command("audit_export_verify", str(out))
    with pytest.raises(CommandError, match="does not match the digest given"):
        call_command("audit_export_verify", str(out), sha256="0" * 64)


def test_audit_export_writes_xlsx(cast, live, tmp_path):
    out = tmp_path / "acme.xlsx"
    call_command("audit_export", tenant="acme", format="xlsx", out=str(out), outcome="needs_review")
    decisions = list(load_workbook(out)["Decisions"].iter_rows(min_row=2, values_only=True))
    assert [row[2] for row in decisions] == ["LAP-2"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tenant": "nope"}, "No tenant"),
        ({"tenant": "acme", "date_from": "2026-02-30"}, "from: "),
        ({"tenant": "acme", "jurisdiction": "XX"}, "jurisdiction: XX is not one of"),
    ],
)
def test_audit_export_refuses_bad_options(cast, tmp_path, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("audit_export", format="json", out=str(tmp_path / "x.json"), **options)


def test_audit_export_reports_a_failed_build(cast, live, tmp_path):
    live.fail_with = RuntimeError("boom")
    with pytest.raises(CommandError, match="failed: RuntimeError: boom"):
        call_command("audit_export", tenant="acme", format="json", out=str(tmp_path / "x.json"))


def _tampered(out, **changes):
    """Rewrite the export file with a changed decision code (and other top-level changes)."""
    document = json.loads(out.read_bytes())
    document["sections"]["classification"]["decisions"][0]["final"]["code"] = "8471410150"
    document.update(changes)
    data = canonical.dumps_bytes(document)
    out.write_bytes(data)
    return snapshot.digest(data)


def test_a_forged_sidecar_does_not_make_a_tampered_file_ok(cast, live, tmp_path):
    out = tmp_path / "acme.json"
    call_command("audit_export", tenant="acme", format="json", out=str(out))
    recorded = AuditExport.objects.get().sha256
    forged = _tampered(out)
    (tmp_path / "acme.json.sha256").write_text(f"{forged}  acme.json\n")
    with pytest.raises(CommandError) as err:
        call_command("audit_export_verify", str(out))
    message = str(err.value)
    assert f"does not match export #{AuditExport.objects.get().pk} as recorded" in message
    assert f"({recorded})" in message
    assert "acme.json.sha256 names another digest than the record: do not trust it" in message
    assert "$.sections.classification.decisions[0].final.code" in message
    with pytest.raises(CommandError, match="does not match export"):
        call_command("audit_export_verify", str(out), sha256=forged)


def test_a_changed_export_id_is_refused_where_the_tenant_is_recorded(cast, live, tmp_path):
    out = tmp_path / "acme.json"
    call_command("audit_export", tenant="acme", format="json", out=str(out))
    document = json.loads(out.read_bytes())
    forged = _tampered(out, export={**document["export"], "id": 999_999})
    (tmp_path / "acme.json.sha256").write_text(f"{forged}  acme.json\n")
    with pytest.raises(CommandError, match="Export #999999 is not an export of Acme Imports"):
        call_command("audit_export_verify", str(out))


def test_offline_the_sidecar_is_used_and_the_output_says_so(cast, live, tmp_path, capsys):
    out = tmp_path / "acme.json"
    call_command("audit_export", tenant="acme", format="json", out=str(out))
    document = json.loads(out.read_bytes())
    # A tenant this database does not hold: the file was made on another installation.
    digest = _tampered(out, tenant={"id": 424242, "slug": "elsewhere", "name": "Elsewhere"})
    (tmp_path / "acme.json.sha256").write_text(f"{digest}  acme.json\n")
    capsys.readouterr()
    call_command("audit_export_verify", str(out))
    assert "checked against the file beside it, not the record" in capsys.readouterr().out
    call_command("audit_export_verify", str(out), sha256=digest)
    assert "checked against the digest given, not the record" in capsys.readouterr().out
    (tmp_path / "acme.json.sha256").unlink()
    with pytest.raises(CommandError, match="no record to compare with: give --sha256"):
        call_command("audit_export_verify", str(out))
    assert document["tenant"]["slug"] == "acme"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{", "not UTF-8 text"),
        (b'{"a": 1', "not JSON: Expecting"),
        (b'{"format": "something else"}', "not an audit export"),
        (b'{"format": "customs-workbench/audit-export", "export": {}}', r"no export id"),
    ],
)
def test_audit_export_verify_refuses_a_file_that_is_not_an_export(db, tmp_path, content, message):
    out = tmp_path / "x.json"
    out.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("audit_export_verify", str(out))
