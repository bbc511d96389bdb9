import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tariffs import selectors, services
from tests.conftest import shared_data_path
from tests.tariffs.conftest import REV_2025, REV_2026

pytestmark = pytest.mark.django_db


def test_diff_lists_codes_added_removed_split_and_rerated(us_both):
    diff = selectors.schedule_diff("US", REV_2025, REV_2026)
    assert [code for code, _ in diff.added] == ["8507600030", "8507600090"]
    assert diff.split == [("8507600020", ["8507600030", "8507600090"])]
    assert [code for code, _ in diff.removed] == ["0409000000"]
    assert diff.rerated == [("0101300000", "6.5%", "6.8%")]


def test_diff_is_pure_over_plain_maps():
    old = {
        "0101300000": ("Asses", "6.5%"),
        "8507600020": ("Other", "3.4%"),
        "0409000000": ("Honey", "1.9¢/kg"),
    }
    new = {"0101300000": ("Asses", "6.5%"), "8507600030": ("BESS", "3.4%")}
    added, removed, split, rerated = selectors.diff_lines(old, new)
    assert added == [("8507600030", "BESS")]
    assert removed == [("0409000000", "Honey")]
    assert split == [("8507600020", ["8507600030"])]
    assert rerated == []


def test_diff_command_prints_each_section(us_both, capsys):
    call_command("tariffs_diff", "--jurisdiction", "US", "--from", REV_2025, "--to", REV_2026)
    out = capsys.readouterr().out
    assert "US 2025 Rev 13 → 2026 Rev 4: 2 added, 1 removed, 1 split, 1 re-rated" in out
    assert "8507.60.00.20  → 8507.60.00.30, 8507.60.00.90" in out
    assert "0101.30.00.00  6.5% → 6.8%" in out


def test_diff_command_names_the_loaded_revisions_when_one_is_unknown(us_both):
    with pytest.raises(CommandError, match="loaded US revisions: 2026 Rev 4, 2025 Rev 13"):
        call_command("tariffs_diff", "--from", "2024 Rev 1", "--to", REV_2026)


def test_invalid_code_uses_come_from_app_providers(us_both, cast, monkeypatch):
    from django.apps import apps

    monkeypatch.setattr(
        apps.get_app_config("catalog"),
        "tariff_code_uses",
        lambda tenant, jurisdiction: [
            services.CodeUse("product", "SKU-9", "0409.00.00.00", jurisdiction),
            services.CodeUse("product", "SKU-10", "8507.60.00.30", jurisdiction),
        ],
        raising=False,
    )
    found = services.invalid_code_uses(tenant=cast.tenant, jurisdiction="US")
    assert [item.use.label for item in found] == ["SKU-9"]
    assert "valid in US 2025 Rev 13" in found[0].message


@pytest.mark.shared_data
def test_real_revisions_show_splits_the_concordance_knows(real_2026):
    import csv

    from tariffs import parsers

    old = parsers.parse_usitc(
        parsers.read_source(shared_data_path("us_htsus_2025_rev13_usitc_export.csv"))
    )
    old_map = {x.code: (x.full_description, x.general_text) for x in old.lines if x.declarable}
    new_map = {
        x.code: (x.full_description, x.general_text) for x in real_2026.lines() if x.declarable
    }
    _, _, split, _ = selectors.diff_lines(old_map, new_map)
    split_codes = {code for code, _ in split}
    with open(
        shared_data_path("us_hts10_revision_concordance_budgetlab_mit.csv"), newline=""
    ) as handle:
        known = {
            row["old_hts10"] for row in csv.DictReader(handle) if row["change_type"] == "split"
        }
    known_in_window = known & set(old_map) - set(new_map)
    assert known_in_window and known_in_window <= split_codes
