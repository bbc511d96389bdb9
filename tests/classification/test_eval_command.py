"""``classification_eval``: labelled cases in, accuracy, recall, outcomes and calibration out."""

import json

import pytest
from django.core.management import CommandError, call_command

from classification.engine import calibration, evaluation
from tariffs import lexicon as tariff_lexicon
from tariffs import reference as tariff_reference
from tests.tariff_fakes import FakeReference

CASES = """\
id,name,description,materials,intended_use,product_type,country_of_origin,expected_code
c1,Sweater,Knitted sweaters of cotton,cotton,retail,apparel,CN,6110.20.2079
c2,Tee,T-shirts knitted of cotton men's,cotton,retail,apparel,CN,6109.10.0012|6109.90.1000
c3,Battery,Lithium-ion batteries,lithium,retail,battery,CN,8507.60.0020
c4,Ladle,Kitchen articles of stainless steel,steel,kitchen,utensil,CN,7323.93.0099
"""


@pytest.fixture
def reference(monkeypatch):
    fake = FakeReference()
    monkeypatch.setattr(tariff_reference, "get_reference", lambda jurisdiction, revision=None: fake)
    # No database here: no lexicon of everyday terms is loaded either.
    monkeypatch.setattr(tariff_lexicon, "get_lexicon", lambda: None)
    return fake


def run(tmp_path, text=CASES, *args):
    path = tmp_path / "cases.csv"
    path.write_text(text, encoding="utf-8")
    out = []

    class Out:
        def write(self, s, *a, **k):
            out.append(s)

        def flush(self):
            pass

    call_command(
        "classification_eval", "--cases", str(path), "--jurisdiction", "US", *args, stdout=Out()
    )
    return "".join(out)


def test_it_prints_accuracy_recall_outcomes_and_calibration(tmp_path, reference):
    text = run(tmp_path)
    assert "Cases: 4   mode: search and precedents only" in text
    assert "HS6 recall in top 5" in text and "in top 10" in text
    assert "Outcomes: blocked 4" in text
    assert "Share routed 'classified':   0.0 %" in text
    assert "Calibration against top-1 hits at 6 digits" in text
    assert "Expected calibration error (6 digits)" in text


def test_json_figures_score_hits_per_level(tmp_path, reference):
    data = json.loads(run(tmp_path, CASES, "--json", "--top", "3"))
    assert data["cases"] == 4
    # c1, c2, c3 are found exactly; c4's expected line is not in the schedule, so it counts
    # at 6 digits, where 7323.93 matches.
    assert data["accuracy"] == {"2": 1.0, "4": 1.0, "6": 1.0, "full": 1.0}
    # Recall in the top 5 and top 10 is always reported, whatever --top asks for.
    assert data["recall_hs6_top3"] == data["recall_hs6_top5"] == data["recall_hs6_top10"] == 1.0
    assert data["expected_codes_scored_at_6_digits"] == 2  # 6109.90.1000 and 7323.93.0099
    assert data["outcomes"] == {"blocked": 4}
    assert data["classified_share"] == 0.0
    assert data["classified_precision"] is None
    assert data["classified_precision_hs6"] is None
    assert data["calibration_scored_at"] == "6 digits"
    assert sum(b["cases"] for b in data["calibration"]) == 4
    assert 0.0 <= data["ece"] <= 1.0
    assert "baseline" not in data and "learned" not in data


def test_a_missing_expected_code_is_reported_with_its_line_and_column(tmp_path, reference):
    bad = CASES + "c5,Box,Cardboard boxes,paper,retail,box,CN,\n"
    with pytest.raises(CommandError, match=r"line 6, column expected_code: no code given"):
        run(tmp_path, bad)


def test_an_unknown_jurisdiction_is_refused(tmp_path, reference):
    path = tmp_path / "cases.csv"
    path.write_text(CASES)
    with pytest.raises(CommandError, match="'XX' is not one of"):
        call_command("classification_eval", "--cases", str(path), "--jurisdiction", "XX")


def test_a_missing_file_is_refused_with_its_path(tmp_path, reference):
    with pytest.raises(CommandError, match=r"cannot read .*nope\.csv"):
        call_command(
            "classification_eval", "--cases", str(tmp_path / "nope.csv"), "--jurisdiction", "US"
        )


def test_atlas_columns_are_read_and_model_reasoning_is_ignored():
    text = (
        "source,split,row,description,hts_codes,first_code,all_codes,reasoning_llm_generated\n"
        'a,test,0,"Steel pipe fittings",7307.19.9060,7307.19.9060,7307.19.9060;7307.91.3000,'
        '"The answer is 7307.19.9060"\n'
    )
    (case,) = evaluation.read_cases(text, jurisdiction="US")
    assert case.expected == ("7307199060", "7307913000")
    assert "answer" not in json.dumps(case.facts)


def test_calibration_bins_and_expected_calibration_error():
    def scored(confidence, hit, outcome="needs_review"):
        hits = {2: hit, 4: hit, 6: hit, "full": hit}
        return evaluation.Scored("x", ("1",), (), outcome, confidence, hits, hit)

    rep = evaluation.report(
        [
            scored(0.95, True, "classified"),
            scored(0.95, False, "classified"),
            scored(0.15, False),
            scored(0.15, False),
        ],
        top=5,
    )
    assert [b["bin"] for b in rep.calibration] == ["0.1-0.2", "0.9-1.0"]
    assert rep.ece == pytest.approx(0.5 * 0.15 + 0.5 * 0.45)
    assert rep.classified_precision == 0.5
    assert rep.classified_share == 0.5
    assert rep.outcomes == {"classified": 2, "needs_review": 2}


def test_calibration_and_precision_at_6_digits_count_a_wrong_national_line_as_a_hit():
    # Right subheading, wrong national digits: the confidence ("right at 6 digits") was right.
    hits = {2: True, 4: True, 6: True, "full": False}
    rep = evaluation.report(
        [evaluation.Scored("x", ("6109100012",), (), "classified", 0.95, hits, True)], top=5
    )
    assert rep.calibration[0]["accuracy"] == 1.0
    assert rep.ece == pytest.approx(0.05)
    assert rep.classified_precision == 0.0
    assert rep.classified_precision_hs6 == 1.0


def test_hs6_recall_counts_distinct_subheadings_in_the_top_5_and_10():
    class Ranked:
        outcome, confidence = "needs_review", 0.3

        def __init__(self, codes):
            self.candidates = [type("C", (), {"code": c}) for c in codes]

    # Two lines of one subheading count once: the expected 9503.00 is the 6th distinct one.
    codes = ["61091000", "61091001", "6110", "8507", "8211", "4303", "950300", "7323"]
    (case,) = evaluation.read_cases(
        "description,expected_code\nA toy,9503.00.00.73\n", jurisdiction="US"
    )
    scored = evaluation.score_case(case, Ranked(codes), top=5, known=lambda c: True)
    assert scored.recall == {5: False, 10: True}


# The tenant path needs a real active pack: reuse the rule-pack fixtures (a tiny US schedule
# loaded through the tariffs service, and a pack taken through validation, backtest, activation).
from tests.rulepacks.conftest import lead, make_pack, us_schedule  # noqa: E402, F401


@pytest.fixture
def fresh_references():
    """Forget cached references before and after: the database is rolled back between tests."""
    tariff_reference.clear_cache()
    yield
    tariff_reference.clear_cache()


TENANT_CASES = """\
id,name,description,materials,intended_use,product_type,country_of_origin,expected_code
t1,Men's tee,Men's knitted cotton t-shirt,cotton,casual wear,apparel,BD,6109.10.00.12
t2,Women's tee,Women's knitted cotton t-shirt,cotton,casual wear,apparel,BD,6109.10.00.40
t3,Plush bear,Plush toy bear for children,polyester,play,toy,CN,9503.00.00.73
"""


@pytest.mark.usefixtures("fresh_references")
def test_with_a_tenant_its_active_pack_classifies_and_precision_is_measured(
    tmp_path, request, cast
):
    request.getfixturevalue("make_pack")(stage="active")
    # A fit that trusts the pack's rules (as a tenant's own fit does once its rules prove right).
    fit = calibration.Calibration(
        version="trusts-rules",
        coef=tuple(6.0 if f == "rule" else 0.0 for f in calibration.FEATURES),
        intercept=-3.0,
    )
    (tmp_path / "fit.json").write_text(json.dumps(fit.to_json()))
    data = json.loads(
        run(
            tmp_path,
            TENANT_CASES,
            "--tenant",
            cast.tenant.slug,
            "--calibration",
            str(tmp_path / "fit.json"),
            "--json",
        )
    )
    assert data["mode"].startswith("pack Test pack v1")
    assert "calibration trusts-rules" in data["mode"]
    assert data["outcomes"]["classified"] >= 2
    assert data["accuracy"]["6"] == 1.0
    # t2 is a woman's tee: the pack's men's line is right at 6 digits and wrong at 10
    assert data["accuracy"]["full"] == pytest.approx(2 / 3, abs=1e-3)
    assert data["classified_precision"] is not None
    assert data["classified_share"] == pytest.approx(data["outcomes"]["classified"] / 3, abs=1e-3)
    assert data["classified_precision_hs6"] == 1.0


# The same goods, their texts silent on how the tees are made: the pack's rules alone speak.
RULE_ONLY_CASES = TENANT_CASES.replace("knitted cotton t-shirt", "t-shirt")


@pytest.mark.usefixtures("us_schedule", "fresh_references")
def test_with_the_default_fit_a_rule_alone_is_not_trusted_to_classify(tmp_path, request, cast):
    # The shipped fit saw rules fire on products they did not describe: a tenant's rules earn
    # automation through its own fit, not through the pack author's stated confidence.
    request.getfixturevalue("make_pack")(stage="active")
    data = json.loads(run(tmp_path, RULE_ONLY_CASES, "--tenant", cast.tenant.slug, "--json"))
    assert f"calibration {calibration.default().version}" in data["mode"]
    assert data["outcomes"].get("classified", 0) == 0
    assert data["outcomes"]["needs_review"] == 3


@pytest.mark.usefixtures("us_schedule", "fresh_references")
def test_with_the_default_fit_a_rule_the_garment_reading_confirms_may_classify(
    tmp_path, request, cast
):
    # "Men's knitted cotton t-shirt": the rule's 6109.10 is also where the text's stated
    # construction, garment and fibre lead (engine/garments.py), which the shipped fit trusts.
    request.getfixturevalue("make_pack")(stage="active")
    data = json.loads(run(tmp_path, TENANT_CASES, "--tenant", cast.tenant.slug, "--json"))
    assert data["outcomes"].get("classified", 0) >= 1
    assert data["classified_precision_hs6"] == 1.0


def test_a_calibration_file_that_is_not_a_fit_is_refused(tmp_path, db):
    (tmp_path / "fit.json").write_text('{"version": "x", "coef": [1.0], "intercept": 0}')
    with pytest.raises(
        CommandError, match=r"is not a calibration fit: .*one coefficient a feature"
    ):
        run(tmp_path, CASES, "--calibration", str(tmp_path / "fit.json"))


@pytest.mark.usefixtures("us_schedule", "fresh_references")
def test_a_tenant_without_an_active_pack_is_refused(tmp_path, cast):
    with pytest.raises(CommandError, match="has no active rule pack for US"):
        run(tmp_path, TENANT_CASES, "--tenant", cast.tenant.slug)


def test_an_unknown_tenant_is_refused(tmp_path, db):
    with pytest.raises(CommandError, match="no tenant 'nobody'"):
        run(tmp_path, TENANT_CASES, "--tenant", "nobody")
