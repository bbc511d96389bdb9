"""The backtest measures accuracy, review rate, denied goods rated low and per-rule precision."""

from types import MappingProxyType

from rulepacks import backtest
from rulepacks.cases import CasesError, parse_cases
from rulepacks.format import parse
from tests.rulepacks.fakes import facts, pack_source
from tests.tariff_fakes import FakeReference


def case(ident, name, description, code, outcome="", **extra):
    data = facts(name, description, **extra)
    return backtest.Case(ident, "uploaded", MappingProxyType(data), code, outcome)


def test_the_report_measures_the_pack_and_shows_the_cases_behind_each_figure():
    pack = parse(pack_source()).pack
    cases = (
        [*backtest.golden_cases(pack)]
        + [case(f"tee-{i}", "Tee", "Knitted t-shirt", "6109100012") for i in range(8)]
        + [case("wrong-1", "Sweater", "Knitted crewneck sweater", "6110303059")]
    )
    report = backtest.run_backtest(pack, cases, FakeReference())
    assert report["cases_total"] == 19
    assert report["sources"] == {"golden": 10, "uploaded": 9}
    assert report["accuracy"] == round(18 / 19, 4)
    assert report["review_rate"] == round(2 / 19, 4)
    assert report["wrong"] == ["wrong-1"]
    per_rule = {entry["rule"]: entry for entry in report["per_rule"]}
    assert report["per_rule"][0]["rule"] == "knit-sweater"  # worst first
    assert per_rule["knit-sweater"]["wrong"] == ["wrong-1"]
    assert per_rule["knit-sweater"]["cases"] == ["g-sweater-1", "g-sweater-2", "wrong-1"]
    assert per_rule["knit-sweater"]["precision"] == round(2 / 3, 4)
    assert per_rule["cotton-tee"]["fired"] == 10
    assert not report["passed"]
    assert backtest.failed_checks(report) == ["backtest cases is 19, needs ≥ 20"]


def test_a_case_expected_blocked_but_rated_low_risk_is_counted():
    pack = parse(pack_source()).pack
    cases = [case("fur-tee", "Tee", "Knitted t-shirt", "6109100012", "blocked")]
    report = backtest.run_backtest(pack, cases, FakeReference())
    assert report["denied_low_risk"] == ["fur-tee"]
    assert "denied goods rated low risk is 1, needs = 0" in backtest.failed_checks(report)


def test_uploaded_toml_cases_are_parsed_with_their_line():
    text = b"""
[[cases]]
id = "c1"
code = "6109.10.00.12"
[cases.facts]
name = "Tee"
description = "Knitted t-shirt"
materials = "cotton; elastane"
"""
    [c] = parse_cases("set.toml", text, jurisdiction="US")
    assert (c.id, c.expect_code, c.where) == ("c1", "6109100012", "line 2")
    assert c.facts["materials"] == ["cotton", "elastane"] and c.facts["destination"] == "US"


def test_bad_cases_are_refused_whole_with_where_and_what():
    text = b'[[cases]]\nid = "c1"\ncode = "61X"\n[cases.facts]\ncolour = "red"\n'
    try:
        parse_cases("set.toml", text, jurisdiction="US")
    except CasesError as err:
        messages = [str(p) for p in err.problems]
    assert "line 1: unknown facts colour" in messages
    assert "line 1: expected code '61X' must be 2 to 10 digits" in messages


def test_uploaded_xlsx_cases_are_parsed_and_bad_rows_located(tmp_path):
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "expected_code", "name", "description", "materials", "origin"])
    sheet.append(["x1", "6109100012", "Tee", "Knitted t-shirt", "cotton", "cn"])
    sheet.append(["x2", "6109100012", "Tee", "Knitted t-shirt", "cotton", "CN"])
    buffer = io.BytesIO()
    book.save(buffer)
    cases = parse_cases("set.xlsx", buffer.getvalue(), jurisdiction="US")
    assert [c.id for c in cases] == ["x1", "x2"]
    assert cases[0].facts["country_of_origin"] == "CN" and cases[0].where == "row 2"
    sheet.append(["Bad Id", "12345678901"])
    buffer = io.BytesIO()
    book.save(buffer)
    try:
        parse_cases("set.xlsx", buffer.getvalue(), jurisdiction="US")
        raise AssertionError("expected CasesError")
    except CasesError as err:
        messages = [str(p) for p in err.problems]
    assert any(m.startswith("row 4: id 'Bad Id'") for m in messages), messages
    assert "row 4: expected code '12345678901' must be 2 to 10 digits" in messages


def test_the_xlsx_template_parses_back_into_its_example_case():
    from rulepacks.cases import template_xlsx

    [case] = parse_cases("template.xlsx", template_xlsx(), jurisdiction="US")
    assert (case.id, case.expect_code, case.expect_outcome) == (
        "bt-001",
        "6109100012",
        "classified",
    )
    assert case.facts["materials"] == ["cotton"] and case.facts["destination"] == "US"
