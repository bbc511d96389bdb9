"""Each gate fails on its own, with a message that points at the line or the rule."""

from rulepacks import gates
from rulepacks.backtest import Case
from tests.rulepacks.fakes import GOLDEN, golden_toml, pack_source
from tests.tariff_fakes import FakeReference, Flags


def run(source, reference=None, **kwargs):
    return gates.run_gates(
        source, jurisdiction="US", reference=reference or FakeReference(), **kwargs
    )


def statuses(report):
    return {g.key: g.status for g in report.gates}


def only_failing(report, key):
    assert statuses(report) == {g: ("fail" if g == key else "pass") for g, _ in gates.GATES}
    return report.gate(key).problems


def line_of(source, problem):
    return source.splitlines()[problem.line - 1]


CATCH_ALL = """[[rules]]
id = "catch-all"
code = "9503000073"
confidence = 0.1
risk = "high"
rationale = "Matches whatever does not mention a knife."
[rules.when]
text = { none = ["knife"] }
"""


def test_a_good_pack_passes_every_gate():
    report = run(pack_source())
    assert report.passed, report.as_dict()


def test_a_syntax_error_fails_the_first_gate_and_skips_the_rest():
    source = pack_source().replace('[[rules]]\nid = "toys"', '[[rules]\nid = "toys"')
    report = run(source)
    assert statuses(report) == {
        "syntax": "fail",
        "validity": "skipped",
        "golden": "skipped",
        "safety": "skipped",
        "coverage": "skipped",
    }
    [problem] = report.gate("syntax").problems
    assert line_of(source, problem) == "[[rules]"


def test_a_schema_error_names_the_rule_and_key():
    source = pack_source().replace('risk = "medium"\n', 'risk = "severe"\n', 1)
    report = run(source)
    assert report.gate("syntax").status == "fail"
    [problem] = report.gate("syntax").problems
    assert problem.message.startswith("rule \"li-ion\": risk 'severe'")
    assert line_of(source, problem) == 'risk = "severe"'


def test_an_undeclarable_code_fails_validity_and_coverage():
    reference = FakeReference()
    del reference.lines["9503000073"]
    report = run(pack_source(), reference)
    assert statuses(report) == {
        "syntax": "pass",
        "validity": "fail",
        "golden": "pass",
        "safety": "pass",
        "coverage": "fail",
    }
    messages = [str(p) for p in report.gate("validity").problems]
    assert any(
        'rule "toys": code 9503000073: 9503000073 is not in the schedule' in m for m in messages
    ), messages
    assert any('golden case "g-toy-1"' in m for m in messages), messages


def test_validity_reports_a_heading_as_not_declarable():
    check = gates.declarable_in(FakeReference())
    assert check("6109") == "6109 is not a declarable line (it has subdivisions)"
    assert check("6109100012") is None


def test_validity_fails_on_duplicate_ids_empty_conditions_and_thresholds():
    source = pack_source().replace('id = "synthetic-sweater"', 'id = "knit-sweater"')
    source = source.replace("tie_margin = 0.05", "tie_margin = 0.5")
    source = source.replace("[[restrictions]]", CATCH_ALL + "\n[[restrictions]]", 1)
    problems = only_failing(run(source), "validity")
    messages = [str(p) for p in problems]
    assert any('rule "knit-sweater": id is used by 2 rules' in m for m in messages), messages
    assert any("tie_margin 0.5 is outside 0.0–0.2" in m for m in messages), messages
    assert any('rule "catch-all": conditions are empty' in m for m in messages), messages
    tie = next(p for p in problems if "tie_margin" in p.message)
    assert line_of(source, tie) == "tie_margin = 0.5"


def test_validity_uses_the_code_check_it_is_given():
    def check(code):
        return "withdrawn in Rev 4" if code == "6109100012" else None

    report = run(pack_source(), code_check=check)
    problems = report.gate("validity").problems
    assert 'rule "cotton-tee": code 6109100012: withdrawn in Rev 4' in str(problems[0])
    assert report.gate("coverage").problems[0].entry == 'rule "cotton-tee"'


def test_golden_gate_fails_with_nine_cases():
    report = run(pack_source(golden=golden_toml(GOLDEN[:9])))
    [problem] = only_failing(report, "golden")
    assert problem.message == "the pack has 9 golden cases; at least 10 are required"


def test_golden_gate_names_the_case_that_does_not_reproduce():
    source = pack_source().replace(
        'id = "g-toy-2"\ncode = "9503000073"\noutcome = "classified"',
        'id = "g-toy-2"\ncode = "9503000073"\noutcome = "needs_review"',
    )
    [problem] = only_failing(run(source), "golden")
    assert problem.message == (
        'golden case "g-toy-2": expected 9503000073 needs_review, got 9503000073 classified'
    )
    assert line_of(source, problem) == "[[golden]]"


def test_agency_flags_on_the_code_send_a_golden_case_to_review():
    reference = FakeReference(flags={"9503000073": Flags(pga=["EP8"])})
    problems = only_failing(run(pack_source(), reference), "golden")
    assert "got 9503000073 needs_review (agency_requirements)" in problems[0].message


def test_safety_fails_on_a_term_too_long():
    long_term = "x" * 90
    source = pack_source().replace('text = ["toy", "plush"]', f'text = ["toy", "{long_term}"]')
    [problem] = only_failing(run(source), "safety")
    assert problem.message.startswith('rule "toys": term \'xxxxxxxxxx')
    assert "is 90 characters, above 80" in problem.message


def test_safety_fails_when_evaluation_is_over_budget(monkeypatch):
    ticks = iter(range(0, 10**9, 7))  # every perf_counter call 7 s later: 7000 ms per case

    monkeypatch.setattr("rulepacks.backtest.time.perf_counter", lambda: next(ticks))
    problems = only_failing(run(pack_source()), "safety")
    assert "evaluation p99 is 7000.00 ms per product over 10 cases" in problems[0].message


def test_safety_times_the_uploaded_cases_too():
    extra = [Case(f"c{i}", "uploaded", {"name": "toy"}, "9503000073") for i in range(5)]
    report = run(pack_source(), cases=extra)
    assert report.gate("safety").details["cases_timed"] == 15


def test_coverage_fails_without_a_denied_goods_list():
    source = pack_source()
    start = source.index("[[denied]]")
    end = source.index("[[golden]]")
    source = source[:start] + source[end:]
    source = source.replace(
        """\n[[golden]]
id = "g-fur-1"
code = "4303101000"
outcome = "blocked\"""",
        """\n[[golden]]
id = "g-fur-1"
code = "4303101000"
outcome = "classified\"""",
    )
    [problem] = only_failing(run(source), "coverage")
    assert "denied-goods list is not declared" in problem.message


def test_coverage_accepts_an_explicit_not_computable_reason_but_not_silence():
    report = run(pack_source(), FakeReference(uncomputable={"4303101000"}))
    assert report.passed
    assert report.gate("coverage").details["duty"]["4303101000"].startswith("not computable")
    [problem] = only_failing(run(pack_source(), FakeReference(silent={"4303101000"})), "coverage")
    assert problem.entry == 'rule "fur-apparel"'
    assert "neither a duty estimate nor a reason" in problem.message


def test_coverage_fails_on_a_missing_rationale():
    source = pack_source().replace(
        'rationale = "GRI 1: heading 9503 covers toys; Chapter 95 note 1 exclusions do not apply."',
        'rationale = ""',
    )
    [problem] = only_failing(run(source), "coverage")
    assert problem.message.startswith('rule "toys": rationale is missing')
    assert line_of(source, problem) == "[[rules]]"


def test_validity_says_when_only_hs_six_digits_could_be_checked():
    reference = FakeReference()
    reference.national, reference.revision = False, "HS 2022"
    report = run(pack_source(), reference)
    assert report.passed
    assert report.gate("validity").details["note"] == (
        "No national US schedule is loaded: codes were checked against HS 2022 at six digits; "
        "the national digits are unverified."
    )
