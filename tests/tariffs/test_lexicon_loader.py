"""Loading a lexicon of everyday terms: whole or nothing, once per file, audited, corrected."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from tariffs import lexicon, parsers, selectors, services
from tariffs.models import Lexicon, LexiconEntry
from tests.conftest import shared_data_path
from tests.factories import UserFactory
from tests.tariffs.conftest import FIXTURES, fixture_source, load_lexicon

pytestmark = pytest.mark.django_db
HEADER = "term,message,commodity_codes,subheadings,headings,chapters,too_generic\n"


def _source(body: str, name="lexicon.csv") -> parsers.Source:
    return parsers.Source(name, (HEADER + body).encode())


def test_loading_a_lexicon_stores_every_term_with_its_codes_and_levels(lexicon_small):
    assert lexicon_small.entry_count == 12 == LexiconEntry.objects.count()
    vape = LexiconEntry.objects.get(term="vape")
    assert vape.codes == [
        {"code": "8543400000", "level": "national"},
        {"code": "2404", "level": "heading"},
    ]
    assert LexiconEntry.objects.get(term="gel pen").codes == [
        {"code": "960810", "level": "subheading"}
    ]
    assert LexiconEntry.objects.get(term="boys' t shirt").normalised == "boy t shirt"
    assert LexiconEntry.objects.get(term="accessories").too_generic


def test_codes_repeated_in_a_cell_are_stored_once(lexicon_small):
    assert LexiconEntry.objects.get(term="glass mug").codes == [
        {"code": "7013", "level": "heading"}
    ]


def test_a_term_that_points_at_nothing_is_kept_with_its_message(lexicon_small):
    mug = LexiconEntry.objects.get(term="coffee mug")
    assert mug.codes == [] and "say the material" in mug.message


def test_power_bank_is_corrected_from_8407_to_8507_with_its_reason(lexicon_small):
    entry = LexiconEntry.objects.get(term="power bank")
    assert entry.codes == [{"code": "8507", "level": "heading"}]
    assert "heading 8507" in entry.message and "8407" not in entry.message
    assert entry.correction.startswith("Corrected at load: the source says 8407")
    [fix] = lexicon_small.corrections
    assert (fix["term"], fix["from"], fix["to"], fix["line"], fix["applied"]) == (
        "power bank",
        "8407",
        "8507",
        2,
        True,
    )
    assert "engines" in fix["reason"]


def test_a_correction_the_source_no_longer_needs_is_recorded_as_not_applied():
    result = services.lexicon_load(source=_source("power bank,Accumulators.,,,8507,,False\n"))
    [fix] = result.obj.corrections
    assert fix["term"] == "power bank" and not fix["applied"]
    assert LexiconEntry.objects.get().correction == ""


def test_the_load_is_audited_with_its_corrections(lexicon_small):
    event = AuditEvent.objects.get(verb="tariffs.lexicon.loaded")
    assert event.tenant_id is None
    assert event.data["entries"] == 12 and event.data["sha256"] == lexicon_small.source_sha256
    assert event.data["corrections"][0]["to"] == "8507"


def test_the_loader_is_recorded_as_the_actor():
    user = UserFactory(username="loader")
    result = load_lexicon(actor=user)
    assert result.obj.loaded_by == user
    assert AuditEvent.objects.get(verb="tariffs.lexicon.loaded").actor_id == user.pk


def test_the_same_file_twice_is_already_loaded_and_writes_nothing(lexicon_small):
    again = load_lexicon()
    assert not again.created and again.obj == lexicon_small and again.rows == 12
    assert Lexicon.objects.count() == 1 and LexiconEntry.objects.count() == 12
    assert AuditEvent.objects.filter(verb="tariffs.lexicon.loaded").count() == 1


def test_a_code_that_is_not_digits_refuses_the_whole_file_naming_line_and_column():
    with pytest.raises(parsers.SourceError, match=r"line 3: column headings: '85O7' is not"):
        load_lexicon("lexicon_bad_code.csv")
    assert not Lexicon.objects.exists() and not LexiconEntry.objects.exists()
    assert not AuditEvent.objects.filter(verb="tariffs.lexicon.loaded").exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("mug,M.,,,691,,False\n", r"line 3: column headings: 691 has 3 digits, expected 4"),
        ("mug,M.,69120000001,,,,False\n", r"column commodity_codes: .* expected 8 or 10"),
        ("mug,M.,,,6912,,maybe\n", r"line 3: column too_generic: 'maybe' is not True or False"),
        (" ,M.,,,6912,,False\n", r"line 3: column term: empty"),
        ("mug,M.,,,6912,False\n", r"line 3: expected 7 columns, found 6"),
    ],
)
def test_bad_rows_are_refused_with_line_and_column(row, message):
    with pytest.raises(parsers.SourceError, match=message):
        services.lexicon_load(source=_source("aa battery,Cells.,,,8506,,False\n" + row))
    assert not Lexicon.objects.exists()


def test_a_file_without_the_lexicon_columns_is_refused():
    source = parsers.Source("x.csv", b"term,codes\nmug,6912\n")
    with pytest.raises(parsers.SourceError, match=r"line 1: missing columns"):
        services.lexicon_load(source=source)


def test_the_newest_lexicon_is_current_and_loaded_rows_are_immutable(lexicon_small):
    newer = services.lexicon_load(source=_source("mug,Mugs.,,,6912,,False\n")).obj
    assert selectors.current_lexicon() == newer
    assert [e.term for e in selectors.lexicon_entries(newer.pk)] == ["mug"]
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        LexiconEntry.objects.filter(lexicon=lexicon_small).update(message="edited")


def test_a_load_is_seen_at_once_by_get_lexicon_in_this_process(lexicon_small):
    assert lexicon.get_lexicon().lexicon_id == lexicon_small.pk
    newer = services.lexicon_load(source=_source("mug,Mugs.,,,6912,,False\n")).obj
    index = lexicon.get_lexicon()
    assert index.lexicon_id == newer.pk and [h.term for h in index.match("mugs")] == ["mug"]


def test_get_lexicon_is_none_before_any_load():
    assert lexicon.get_lexicon() is None


def test_command_loads_and_reports_the_correction(capsys):
    UserFactory(username="ops")
    call_command("tariffs_load_lexicon", str(FIXTURES / "lexicon_small.csv"), "--user", "ops")
    out = capsys.readouterr().out
    assert "Loaded lexicon: 12 rows" in out
    assert "Corrected “power bank” (line 2): 8407 → 8507." in out
    assert Lexicon.objects.get().source_location.endswith("fixtures/lexicon_small.csv")


def test_command_says_when_the_file_is_already_loaded(capsys, lexicon_small):
    call_command("tariffs_load_lexicon", str(FIXTURES / "lexicon_small.csv"))
    out = capsys.readouterr().out
    assert "Already loaded (lexicon, same SHA-256): nothing to do." in out
    assert "Corrected" not in out


def test_command_refuses_a_bad_file_saying_where(capsys):
    with pytest.raises(CommandError, match=r"Refused, nothing was loaded: .*line 3: column"):
        call_command("tariffs_load_lexicon", str(FIXTURES / "lexicon_bad_code.csv"))
    assert not Lexicon.objects.exists()


def test_command_refuses_an_unknown_user_and_a_missing_file():
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command(
            "tariffs_load_lexicon", str(FIXTURES / "lexicon_small.csv"), "--user", "nobody"
        )
    with pytest.raises(CommandError, match="no such file"):
        call_command("tariffs_load_lexicon", str(FIXTURES / "missing.csv"))


@pytest.mark.shared_data
def test_the_published_lexicon_loads_and_power_bank_gives_8507():
    path = shared_data_path("uk_trade_tariff_search_intercept_messages.csv")
    result = services.lexicon_load(source=parsers.read_source(path), location=path)
    assert result.created and result.rows == 4376
    assert [c["applied"] for c in result.obj.corrections] == [True]
    [hit] = lexicon.get_lexicon().match("Power banks, 10000 mAh")
    assert hit.term == "power bank" and hit.codes == ("8507",) and hit.levels == ("heading",)
    assert fixture_source("lexicon_small.csv").sha256 != result.obj.source_sha256


def test_admin_lists_lexicons_read_only(admin_client, lexicon_small):
    response = admin_client.get("/admin/tariffs/lexicon/")
    assert response.status_code == 200 and "lexicon_small.csv" in response.content.decode()
    assert admin_client.get("/admin/tariffs/lexicon/add/").status_code == 403
