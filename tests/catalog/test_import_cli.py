"""manage.py import_catalog: exit 0 when the file was read, non-zero for a refused file."""

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from catalog.models import ImportBatch, Product
from tests.catalog.conftest import csv_bytes, row


def test_the_command_imports_and_prints_the_summary(cast, tmp_path, capsys):
    path = tmp_path / "catalog.csv"
    path.write_bytes(csv_bytes([row("A-1"), row("B-2", **{"Country of origin": "Chna"})]))
    errors = tmp_path / "refused.xlsx"
    call_command(
        "import_catalog", str(path), tenant="acme", user="acme-analyst", errors_out=str(errors)
    )
    out = capsys.readouterr().out
    assert "1 new, 0 updated, 0 unchanged, 1 refused" in out
    assert "row 3, Country of origin: 'Chna' is not an ISO 3166 country code" in out
    assert load_workbook(errors).active.cell(row=2, column=1).value == "B-2"
    assert ImportBatch.objects.get().source == "cli"
    assert Product.objects.filter(tenant=cast.tenant, sku="A-1").exists()


def test_the_command_fails_with_the_message_for_a_refused_file(cast, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_bytes(csv_bytes([["A-1"]], headers=["SKU"]))
    with pytest.raises(CommandError, match="Required columns are missing"):
        call_command("import_catalog", str(path), tenant="acme", user="acme-analyst")
    assert not Product.objects.exists()


def test_the_command_requires_a_member_who_may_edit_the_catalog(cast, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_bytes(csv_bytes([row("A-1")]))
    with pytest.raises(CommandError, match="may edit the catalog"):
        call_command("import_catalog", str(path), tenant="acme", user="acme-auditor")
    with pytest.raises(CommandError, match="may edit the catalog"):
        call_command("import_catalog", str(path), tenant="acme", user="globex-broker")
