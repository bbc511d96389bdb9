import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

import audit
from audit.models import AuditEvent
from tariffs import parsers, services
from tariffs.models import TariffLine, TariffSchedule
from tests.conftest import shared_data_path, truncate_guards_lifted
from tests.tariffs.conftest import FIXTURES, REV_2025, REV_2026, fixture_source, load_small

pytestmark = pytest.mark.django_db


def line(code, revision=REV_2026):
    return TariffLine.objects.get(
        schedule__jurisdiction="US", schedule__revision=revision, code=code
    )


def test_label_rows_are_joined_into_full_descriptions():
    load_small()
    assert line("0101210010").full_description == (
        "Live horses, asses, mules and hinnies › Horses › Purebred breeding animals › Males"
    )
    assert line("6110202010").full_description.endswith(
        "Of cotton › Other › Sweaters › Men's (345)"
    )
    battery = line("8507600030").full_description
    assert battery.endswith(
        "Lithium-ion batteries › Other › Battery energy storage systems fully encased within a "
        "housing"
    )


def test_ten_digit_lines_inherit_the_rates_of_their_parent():
    load_small()
    sweater = line("6110202010")
    assert (sweater.general_text, sweater.column2_text) == ("16.5%", "50%")
    assert sweater.special_text.startswith("Free (AU,BH")
    assert sweater.rate_inherited_from == "61102020"
    assert sweater.general_kind == "ad_valorem" and sweater.general_ad_valorem == 16.5
    own = line("0101300000")
    assert own.general_text == "6.8%" and own.rate_inherited_from == ""


def test_special_programme_lists_are_normalised_on_load():
    load_small()
    assert (
        line("0101300000").special_text == "Free (A+,AU,BH,CL,CO,D,E,IL,JO,KR,MA,OM,P,PA,PE,S,SG)"
    )


def test_declarable_lines_are_the_leaves():
    load_small()
    assert line("8507600030").declarable
    assert not line("85076000").declarable  # it has statistical suffixes
    assert line("84713001").declarable  # an 8-digit line with no suffix
    assert not line("8507").declarable


def test_two_revisions_live_side_by_side_and_the_newest_is_current():
    load_small()
    load_small(REV_2025, "usitc_2025_small.csv", dt.date(2025, 12, 1))
    assert TariffSchedule.objects.filter(jurisdiction="US").count() == 2
    assert services.current_schedule("US").revision == REV_2026
    assert line("0101300000", REV_2025).general_text == "6.5%"
    assert line("0101300000", REV_2026).general_text == "6.8%"


def test_loading_is_audited_on_the_system_chain():
    result = load_small()
    event = AuditEvent.objects.get(verb="tariffs.schedule.loaded", target_id=str(result.obj.pk))
    assert event.tenant_id is None
    assert event.data["revision"] == REV_2026
    assert event.data["sha256"] == fixture_source("usitc_2026_small.csv").sha256
    assert event.data["label_rows"] == 4


def test_the_same_file_twice_is_a_no_op():
    first = load_small()
    second = load_small()
    assert first.created and not second.created
    assert second.obj.pk == first.obj.pk
    assert TariffSchedule.objects.filter(jurisdiction="US").count() == 1
    assert AuditEvent.objects.filter(verb="tariffs.schedule.loaded").count() == 1


def test_a_different_file_under_an_existing_revision_is_refused():
    load_small()
    with pytest.raises(ValidationError, match="already loaded from a different file"):
        load_small(REV_2026, "usitc_2025_small.csv")


def _write(tmp_path, text: str):
    path = tmp_path / "broken.csv"
    path.write_text(text, encoding="utf-8")
    return parsers.read_source(str(path))


def _refused(source, match):
    with pytest.raises(parsers.SourceError, match=match):
        services.schedule_load_usitc(
            actor=None, source=source, revision="X", effective_date=dt.date(2026, 1, 1)
        )
    assert not TariffSchedule.objects.filter(jurisdiction="US").exists()
    assert not TariffLine.objects.filter(schedule__jurisdiction="US").exists()


def test_a_truncated_file_is_refused_with_its_line_and_nothing_is_loaded(tmp_path):
    text = (FIXTURES / "usitc_2026_small.csv").read_text(encoding="utf-8-sig")
    cut = text[: text.index("8507.60.00.10") + 40]  # ends inside a quoted description
    _refused(_write(tmp_path, cut), r"line 31: broken CSV \(unexpected end of data\)")


def test_a_file_cut_between_fields_is_refused_with_its_line(tmp_path):
    text = (FIXTURES / "usitc_2026_small.csv").read_text(encoding="utf-8-sig")
    cut = text[: text.index("8507.60.00.10") + 18] + "\n"  # '"8507.60.00.10","2"'
    _refused(_write(tmp_path, cut), r"line 31: expected 9 columns, found 2")


def test_an_unterminated_quote_is_refused(tmp_path):
    text = (FIXTURES / "usitc_2026_small.csv").read_text(encoding="utf-8-sig")
    _refused(_write(tmp_path, text + '"9999.00.00","0","Broken'), r"broken CSV")


def test_a_bad_code_is_refused_with_its_line(tmp_path):
    text = (FIXTURES / "usitc_2026_small.csv").read_text(encoding="utf-8-sig")
    _refused(
        _write(tmp_path, text.replace('"0101.30.00.00"', '"0101.3O.00.00"')),
        r"line 7: HTS Number '0101.3O.00.00'",
    )


def test_a_wrong_header_is_refused(tmp_path):
    _refused(_write(tmp_path, "code,desc\n0101,Horses\n"), r"line 1: expected the USITC header")


def test_bad_units_json_is_refused(tmp_path):
    text = (FIXTURES / "usitc_2026_small.csv").read_text(encoding="utf-8-sig")
    _refused(
        _write(tmp_path, text.replace('"[""No.""]"', '"[No.]"', 1)), r"line 5: Unit of Quantity"
    )


def test_loaded_lines_cannot_be_edited_or_deleted():
    load_small()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        TariffLine.objects.filter(code="0101300000").update(general_text="Free")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        TariffLine.objects.filter(code="0101300000").delete()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        TariffSchedule.objects.filter(jurisdiction="US").update(revision="2026 Rev 5")


def test_the_command_loads_a_file_and_reports_progress(capsys):
    call_command(
        "tariffs_load_usitc",
        str(FIXTURES / "usitc_2026_small.csv"),
        "--revision",
        REV_2026,
        "--effective-date",
        "2026-02-20",
    )
    out = capsys.readouterr().out
    assert "Loaded US 2026 Rev 4: 33 rows" in out
    call_command(
        "tariffs_load_usitc",
        str(FIXTURES / "usitc_2026_small.csv"),
        "--revision",
        REV_2026,
        "--effective-date",
        "2026-02-20",
    )
    assert "Already loaded" in capsys.readouterr().out


def test_the_command_names_the_bad_line(tmp_path):
    text = (FIXTURES / "usitc_2026_small.csv").read_text(encoding="utf-8-sig")
    path = tmp_path / "us_htsus_2026_rev4.csv"
    path.write_text(
        text.replace('"Indent","Description"', '"Indent","Description"').replace(
            '"2","Purebred', '"two","Purebred'
        )
    )
    with pytest.raises(CommandError, match=r"Refused, nothing was loaded: .*line 4: Indent 'two'"):
        call_command("tariffs_load_usitc", str(path), "--effective-date", "2026-02-20")
    assert not TariffSchedule.objects.filter(jurisdiction="US").exists()


def test_the_command_refuses_plain_http():
    with pytest.raises(CommandError, match="only https"):
        call_command(
            "tariffs_load_usitc",
            "http://example.test/x.csv",
            "--revision",
            "X",
            "--effective-date",
            "2026-01-01",
        )


def test_hs_2022_is_there_after_migrate_without_placeholders():
    hs = services.current_schedule("HS")
    assert hs.revision == "HS 2022" and not hs.has_rates
    codes = set(hs.lines.values_list("code", flat=True))
    assert len([c for c in codes if len(c) == 6]) == 5612  # 5,613 subheadings minus 999999
    assert len([c for c in codes if len(c) == 2]) == 96
    assert not {"99", "9999", "999999", "TOTAL"} & codes
    assert hs.lines.get(code="850760").full_description.startswith("Electrical machinery")


@pytest.mark.shared_data
@pytest.mark.slow
def test_the_real_2025_and_2026_files_load_side_by_side():
    for name, revision, day in (
        ("us_htsus_2025_rev13_usitc_export.csv", REV_2025, dt.date(2025, 12, 1)),
        ("us_htsus_2026_rev4_usitc_export.csv", REV_2026, dt.date(2026, 2, 20)),
    ):
        services.schedule_load_usitc(
            actor=None,
            source=parsers.read_source(shared_data_path(name)),
            revision=revision,
            effective_date=day,
        )
    new = TariffSchedule.objects.get(jurisdiction="US", revision=REV_2026)
    assert new.line_count + new.label_rows == 35_733  # every row of the file, header excluded
    assert new.label_rows == 5_926
    assert TariffLine.objects.filter(schedule=new, code__regex=r"^\d{10}$").count() == 19_856
    battery = TariffLine.objects.get(schedule=new, code="8507600030")
    assert battery.general_text == "3.4%" and battery.rate_inherited_from == "85076000"
    check = services.code_validate(jurisdiction="US", code="0201.30.50.85")
    assert not check.ok
    assert "valid in US 2025 Rev 13 but is not in 2026 Rev 4" in check.message


def test_the_hs_nomenclature_is_restored_after_a_flush_and_only_once():
    assert not services.hs_nomenclature_load().created  # migration 0002 loaded it
    # What TransactionTestCase's flush does (rolled back here).
    with connection.cursor() as cursor, truncate_guards_lifted(cursor):
        cursor.execute("TRUNCATE tariffs_tariffline, tariffs_tariffschedule CASCADE")
    restored = services.hs_nomenclature_load()
    assert restored.created and restored.rows == 6_936
    assert AuditEvent.objects.filter(
        verb="tariffs.schedule.loaded", data__revision="HS 2022"
    ).exists()
    assert not services.hs_nomenclature_load().created
    assert services.code_validate(jurisdiction="GB", code="8507.60").ok


def test_a_failure_after_the_lines_are_written_leaves_nothing(monkeypatch):
    def refuse(**kwargs):
        raise RuntimeError("audit chain unavailable")

    monkeypatch.setattr(audit, "record", refuse)
    with pytest.raises(RuntimeError, match="audit chain unavailable"):
        load_small()
    assert not TariffSchedule.objects.filter(jurisdiction="US").exists()
    assert not TariffLine.objects.filter(schedule__jurisdiction="US").exists()
