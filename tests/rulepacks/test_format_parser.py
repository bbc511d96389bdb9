"""The parser names the line of syntax errors and the rule id and key of schema errors."""

import dataclasses

import pytest

from rulepacks.format import parse
from tests.rulepacks.fakes import pack_source


def test_a_valid_pack_compiles_to_frozen_dataclasses():
    result = parse(pack_source())
    assert result.ok, result.problems
    pack = result.pack
    assert pack.jurisdiction == "US" and len(pack.rules) == 7 and len(pack.golden) == 10
    assert pack.rule("cotton-tee").code == "6109100012"  # dots are stripped
    assert pack.thresholds.min_confidence == 0.82
    with pytest.raises(dataclasses.FrozenInstanceError):
        pack.rules[0].code = "1"
    with pytest.raises(TypeError):
        pack.golden[0].facts["name"] = "changed"


def test_a_syntax_error_names_its_line_and_column():
    source = pack_source().replace('version = "1"', "version = ")
    result = parse(source)
    assert result.pack is None and not result.syntax_ok
    [problem] = result.problems
    assert problem.line == 4
    assert "TOML syntax error, column" in problem.message


def test_confidence_above_one_names_the_rule_and_line():
    source = pack_source().replace("confidence = 0.9\n", "confidence = 1.4\n", 1)
    result = parse(source)
    [problem] = result.problems
    assert problem.message == 'rule "knit-sweater": confidence 1.4 is above 1'
    line = source.splitlines()[problem.line - 1]
    assert line == "confidence = 1.4"


def test_unknown_keys_and_bad_enums_are_reported_with_their_rule():
    source = pack_source().replace('risk = "low"\n', 'risk = "tiny"\ncolour = "red"\n', 1)
    messages = [str(p) for p in parse(source).problems]
    assert any(
        "rule \"cotton-tee\": risk 'tiny' is not one of low or medium or high" in m
        for m in messages
    ), messages
    assert any("unknown key 'colour'" in m for m in messages), messages


def test_missing_pack_table_and_bad_codes():
    source = pack_source().replace('[pack]\nname = "Test pack"\n', "[pack]\n")
    source = source.replace('code = "6110202079"', 'code = "61A0"')
    messages = [str(p) for p in parse(source).problems]
    assert any("[pack]: name is missing" in m for m in messages), messages
    assert any(
        "rule \"knit-sweater\": code '61A0' must be 2 to 10 digits" in m for m in messages
    ), messages


def test_a_term_without_letters_is_refused():
    source = pack_source().replace('text = ["toy", "plush"]', 'text = ["toy", "!!"]')
    [problem] = parse(source).problems
    assert "term '!!' has no letters or digits" in problem.message
    assert problem.entry == 'rule "toys"'


def test_the_documented_example_parses():
    import pathlib
    import re

    doc = pathlib.Path(__file__).parents[2] / "docs" / "rule-packs.md"
    example = re.search(r"```toml\n(.*?)```", doc.read_text(), re.S).group(1)
    result = parse(example)
    assert result.ok, result.problems
    assert [r.id for r in result.pack.rules] == ["tshirt-cotton-men", "li-ion-battery"]
    assert result.pack.agency_review == "required" and result.pack.high_risk_origins


def test_a_rule_without_a_code_is_a_schema_error():
    source = pack_source().replace('code = "9503000073"', 'code = ""', 1)
    [problem] = parse(source).problems
    assert problem.message == 'rule "toys": code is empty'
    assert source.splitlines()[problem.line - 1] == 'code = ""'


def test_synonyms_map_the_tenants_terms_to_code_prefixes():
    source = pack_source() + '\n[synonyms]\n"hoodie" = ["6110.20", "6110.30"]\n"vape" = "8543"\n'
    result = parse(source)
    assert result.ok, result.problems
    assert result.pack.synonyms == (("hoodie", ("611020", "611030")), ("vape", ("8543",)))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('"hoodie" = "61102"', "'61102' is not a code of 2, 4, 6, 8 or 10 digits"),
        ('"vape" = 8543', "synonym 'vape' must name a code or a list of codes"),
        ('"tee" = []', "synonym 'tee' must name a code or a list of codes"),
    ],
)
def test_a_bad_synonym_names_the_term_and_its_line(entry, message):
    source = pack_source() + f"\n[synonyms]\n{entry}\n"
    [problem] = parse(source).problems
    assert message in problem.message
    assert problem.message.startswith("[synonyms]: ")
    assert source.splitlines()[problem.line - 1] == entry


def test_monitoring_thresholds_default_and_the_precision_target_follows_the_minimum():
    pack = parse(pack_source()).pack
    assert pack.monitoring.rule_override_rate == 0.25 and pack.monitoring.min_decisions == 30
    assert pack.monitoring.review_rate_margin == 0.10
    assert pack.precision_target == pack.thresholds.min_confidence == 0.82


def test_monitoring_thresholds_are_read_from_the_pack():
    source = pack_source() + (
        "\n[monitoring]\nrule_override_rate = 0.4\nmin_decisions = 12\n"
        "review_rate_margin = 0.05\nautomation_precision_target = 0.9\n"
    )
    result = parse(source)
    assert result.ok, result.problems
    monitoring = result.pack.monitoring
    assert (monitoring.rule_override_rate, monitoring.min_decisions) == (0.4, 12)
    assert monitoring.review_rate_margin == 0.05 and result.pack.precision_target == 0.9


def test_a_bad_monitoring_threshold_names_the_key_and_line():
    source = pack_source() + "\n[monitoring]\nrule_override_rate = 1.5\nmin_decisions = 0\nx = 1\n"
    messages = {p.message: p.line for p in parse(source).problems}
    lines = source.splitlines()
    line = messages["[monitoring]: rule_override_rate 1.5 is not a share between 0 and 1"]
    assert lines[line - 1] == "rule_override_rate = 1.5"
    assert "[monitoring]: min_decisions must be a whole number of at least 1, not 0" in messages
    assert any("x" in m and "[monitoring]" in m for m in messages)
