"""The right line within the right heading: conditions that set a line apart from its siblings."""

import pytest

from classification import engine
from classification.engine import search, subheadings
from tariffs import reference as tariff_reference

JEWELRY = (
    "Articles of jewelry and parts thereof, of precious metal or of metal clad with precious metal"
)
PRECIOUS = f"{JEWELRY} › Of precious metal whether or not plated or clad with precious metal"
SILVER = f"{PRECIOUS} › Of silver, whether or not plated or clad with other precious metal"
OTHER_PRECIOUS = (
    f"{PRECIOUS} › Of other precious metal, whether or not plated or clad with precious metal"
)
MOTORS = "Electric motors and generators (excluding generating sets)"
PATHS = {
    "7113": JEWELRY,
    "711311": SILVER,
    "7113115000": f"{SILVER} › Other",
    "711319": OTHER_PRECIOUS,
    "7113195030": f"{OTHER_PRECIOUS} › Earrings",
    "7113200000": f"{JEWELRY} › Of base metal clad with precious metal",
    "7117": "Imitation jewelry",
    "7117190000": "Imitation jewelry › Of base metal › Other earrings",
    "8501": MOTORS,
    "8501310000": f"{MOTORS} › DC motors › Of an output not exceeding 750 W",
    "8501320000": f"{MOTORS} › DC motors › Of an output exceeding 750 W but not exceeding 75 kW",
    "8501400000": f"{MOTORS} › AC motors, single-phase",
}


class WordsOnly(tariff_reference.Reference):
    """A real reference over a few lines, searched by words alone (no model is loaded)."""

    semantic = None
    transformer = None


def small_reference() -> WordsOnly:
    lines = [
        tariff_reference.Line(
            code, path.count("›"), path.rsplit(" › ", 1)[-1], path, (), "", "", "", len(code) == 10
        )
        for code, path in PATHS.items()
    ]
    data = tariff_reference.ReferenceData(
        jurisdiction="US",
        revision="subheadings test",
        schedule_id=None,
        national=True,
        has_rates=False,
        lines=lines,
    )
    return WordsOnly(data)


def rerank(facts, ranked, weight=0.4):
    ref = small_reference()
    return subheadings.rerank(facts, ref, ranked, weight=weight, key=search.schedule_key(ref))


def test_silver_earrings_prefer_the_silver_line_over_other_precious_metal():
    ranked = [("7113195030", 0.3), ("7113200000", 0.25), ("7113115000", 0.2)]
    facts = {"description": "Earrings", "materials": ["sterling silver"]}
    out, conditions = rerank(facts, ranked)
    assert [c for c, _ in out] == ["7113115000", "7113195030", "7113200000"]
    assert [r for _, r in out] == [0.3, 0.25, 0.2]  # each position keeps its relevance
    assert conditions == {"7113115000": "of silver", "7113195030": "earrings"}


def test_a_dc_motor_prefers_the_dc_line_and_the_one_its_output_meets():
    ranked = [("8501400000", 0.3), ("8501320000", 0.2), ("8501310000", 0.1)]
    out, conditions = rerank({"description": "DC motor, 24 V, output 200 W"}, ranked)
    assert [c for c, _ in out] == ["8501310000", "8501320000", "8501400000"]
    assert conditions["8501310000"] == "DC motors"
    out, conditions = rerank({"description": "DC motor with an output of 1.5 kW"}, ranked)
    assert out[0][0] == "8501320000"
    assert conditions["8501320000"] == "DC motors"


def test_a_product_that_meets_no_condition_keeps_the_fused_order():
    ranked = [("8501400000", 0.3), ("8501320000", 0.2), ("8501310000", 0.1)]
    out, conditions = rerank({"description": "electric motor for a fan"}, ranked)
    assert out == ranked
    assert conditions == {}


def test_weight_zero_leaves_the_ranking_as_it_is():
    ranked = [("7113195030", 0.3), ("7113115000", 0.2)]
    out, conditions = rerank({"description": "silver earrings"}, ranked, weight=0)
    assert out is ranked and conditions == {}


def test_limits_and_quantities_are_read_in_one_unit_per_dimension():
    assert subheadings.limits("Exceeding 37.5 W but not exceeding 1.5 kW") == (
        ("power", "exceeding", 37.5),
        ("power", "not exceeding", 1500.0),
    )
    assert subheadings.limits("Valued not over $18 per dozen") == ()
    found = subheadings.quantities("a 226 kg boat, 2,000 lbs with trailer, 4.5 m long")
    assert found == {"mass": [226_000.0, 907_200.0], "length": [4500.0]}


@pytest.fixture
def fused_jewelry(monkeypatch):
    """Word search finds the "other precious metal" earrings first, then imitation jewelry,
    then the silver line."""
    ranking = [("7113195030", 1.0), ("7117190000", 0.9), ("7113115000", 0.8)]

    def words(query, core, reference, article=""):
        return [(score, tariff_reference.SearchHit(code, score, "")) for code, score in ranking]

    monkeypatch.setattr(search, "_word_ranking", words)


@pytest.mark.usefixtures("fused_jewelry")
def test_the_order_of_headings_never_changes_only_lines_within_one(monkeypatch):
    facts = {"description": "sterling silver earrings"}
    ref = small_reference()
    # The word ranking alone (no readings: the glossary would put the silver line first itself).
    monkeypatch.setattr(search, "CONDITION_WEIGHT", 0.0)
    before = [c.code for c in search.search_candidates(facts, ref, proposals=False).candidates]
    monkeypatch.setattr(search, "CONDITION_WEIGHT", 0.4)
    after = search.search_candidates(facts, ref, proposals=False).candidates
    assert before == ["7113195030", "7117190000", "7113115000"]
    assert [c.code for c in after] == ["7113115000", "7117190000", "7113195030"]
    assert [c.condition for c in after] == ["of silver", "", "earrings"]


@pytest.mark.usefixtures("fused_jewelry")
def test_the_met_condition_is_in_the_evidence_and_the_rationale(monkeypatch):
    monkeypatch.setattr(search, "CONDITION_WEIGHT", 0.4)
    decision = engine.classify(
        {"description": "sterling silver earrings"},
        pack=None,
        reference=small_reference(),
        precedents=None,
        rank_without_pack=True,
    )
    best = decision.candidates[0]
    assert best.code == "7113115000"
    assert best.sources[0].detail["condition"] == "of silver"
    assert "meets its condition “of silver”" in best.rationale
