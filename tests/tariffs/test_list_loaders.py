import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from tariffs import parsers, reference, services
from tariffs.models import AgencyFlag, ReferenceList, TariffLine, TradeMeasure
from tests.conftest import shared_data_path
from tests.tariffs.conftest import FIXTURES, fixture_source, load_small

pytestmark = pytest.mark.django_db


def test_pga_report_gives_agency_and_ad_cv_flags_per_hts10():
    result = services.reference_list_load(
        actor=None, kind="pga", source=fixture_source("pga_small.csv")
    )
    assert result.created and result.rows == 5
    assert result.obj.as_of.isoformat() == "2026-02-21"
    flag = AgencyFlag.objects.get(code="8507600090")
    assert flag.pga == ["FD1", "EP7"] and not flag.antidumping
    doors = AgencyFlag.objects.get(code="7610100010")
    assert doors.antidumping and doors.countervailing and doors.pga == []
    assert AuditEvent.objects.filter(verb="tariffs.referencelist.loaded", tenant=None).count() == 1


def test_a_truncated_pga_report_is_refused_and_nothing_is_loaded():
    with pytest.raises(parsers.SourceError, match=r"line 5: expected 19 columns, found 10"):
        services.reference_list_load(
            actor=None, kind="pga", source=fixture_source("pga_truncated.csv")
        )
    assert not ReferenceList.objects.exists() and not AgencyFlag.objects.exists()


def test_the_same_list_twice_is_a_no_op():
    services.reference_list_load(
        actor=None, kind="section301", source=fixture_source("section301_small.csv")
    )
    again = services.reference_list_load(
        actor=None, kind="section301", source=fixture_source("section301_small.csv")
    )
    assert not again.created
    assert TradeMeasure.objects.count() == 7


def test_additional_command_recognises_301_and_232_lists(capsys):
    call_command(
        "tariffs_load_additional",
        str(FIXTURES / "section301_small.csv"),
        str(FIXTURES / "section232_small.csv"),
    )
    assert set(ReferenceList.objects.values_list("kind", flat=True)) == {"section301", "section232"}
    measure = TradeMeasure.objects.get(prefix="76101000", reference_list__kind="section232")
    assert (measure.metal, measure.list_name, str(measure.effective_date)) == (
        "aluminum",
        "1a",
        "2026-04-06",
    )
    assert TradeMeasure.objects.get(prefix="61102020", list_name="3").heading == "99038803"
    assert "Loaded Section 301" in capsys.readouterr().out


def test_additional_command_refuses_an_unknown_file():
    with pytest.raises(CommandError, match="not a Section 301 or 232 list"):
        call_command("tariffs_load_additional", str(FIXTURES / "pga_small.csv"))
    assert not ReferenceList.objects.exists()


def test_a_section301_row_with_a_bad_heading_names_its_line(tmp_path):
    path = tmp_path / "s301.csv"
    path.write_text("hts8,list,ch99_code\n85076000,4B,9903.88.16\n85076000,4B,990388\n")
    with pytest.raises(parsers.SourceError, match=r"line 3: ch99_code '990388'"):
        services.reference_list_load(
            actor=None, kind="section301", source=parsers.read_source(str(path))
        )
    assert not TradeMeasure.objects.exists()


def test_pga_command_loads_the_report(capsys):
    call_command("tariffs_load_pga", str(FIXTURES / "pga_small.csv"))
    assert "Loaded PGA flags: 5 rows" in capsys.readouterr().out


def test_eu_cn_is_loaded_as_nomenclature_only(capsys):
    call_command(
        "tariffs_load_eu_cn",
        str(FIXTURES / "eu_cn_cn8_codes_small.json"),
        "--headings",
        str(FIXTURES / "eu_cn_headings_small.json"),
        "--subheadings",
        str(FIXTURES / "eu_cn_subheadings_small.json"),
    )
    assert "no duty rates" in capsys.readouterr().out
    schedule = services.current_schedule("EU")
    assert not schedule.has_rates and "no duty rates loaded" in schedule.name
    other = TariffLine.objects.get(schedule=schedule, code="85076000")
    assert other.full_description == (
        "Electric accumulators, including separators therefor › Lithium-ion accumulators › Other"
    )
    assert other.declarable and other.units == ["PST"]
    check = services.code_validate(jurisdiction="EU", code="8507 60 00")
    assert check.ok and check.national_verified
    estimate = reference.get_reference("EU").duty(
        "85076000", origin="CN", customs_value=1000, currency="EUR"
    )
    assert not estimate.computable and estimate.total is None
    assert "No duty rates are loaded for EU" in estimate.notes[0]


def test_loading_a_list_does_not_touch_schedules():
    load_small()
    before = TariffLine.objects.count()
    services.reference_list_load(
        actor=None, kind="section232", source=fixture_source("section232_small.csv")
    )
    assert TariffLine.objects.count() == before


@pytest.mark.shared_data
def test_the_real_pga_report_parses_every_row():
    parsed = parsers.parse_pga(
        parsers.read_source(shared_data_path("us_cbp_hts_pga_report_2026-02-21.csv"))
    )
    assert len(parsed.rows) == 22_154
    battery = next(r for r in parsed.rows if r.code == "8507600030")
    assert battery.pga == ("FD1",)


@pytest.mark.shared_data
def test_the_real_eu_cn_files_build_full_descriptions():
    cn8 = shared_data_path("eu_cn2026_cn8_codes_php-cncodes.json")
    parsed = parsers.parse_eu_cn(
        parsers.read_source(cn8),
        parsers.read_source(cn8.replace("_cn8_codes_", "_headings_")),
        parsers.read_source(cn8.replace("_cn8_codes_", "_subheadings_")),
    )
    cn8_lines = [line for line in parsed.lines if len(line.code) == 8]
    assert len(cn8_lines) == 9_791 and all(line.declarable for line in cn8_lines)
    bare_other = [line for line in cn8_lines if line.full_description.strip() == "Other"]
    assert not bare_other


def test_flags_of_an_eight_digit_code_are_the_union_of_its_suffixes(us_small):
    flags = us_small.flags("85076000")
    assert flags.pga == ["EP7", "FD1"]
    assert flags.agencies == ["Environmental Protection Agency", "Food and Drug Administration"]
    assert us_small.flags("8507600010").pga == []
    doors = us_small.flags("7610100010")
    assert doors.antidumping and doors.countervailing
    assert [m.label() for m in doors.section232] == ["Section 232 aluminum (annex 1a)"]
    assert not reference.get_reference("GB").flags("850760").any
