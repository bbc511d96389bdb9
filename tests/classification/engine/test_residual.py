"""The material's residual line and a part's parts line join the candidates with their own
evidence; a product with neither gets nothing new."""

import pytest

from classification.engine import classify, residual
from classification.engine import search as search_module
from classification.engine.calibration import UNCALIBRATED
from tariffs import reference as tariff_reference
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

# (code, declarable, text): headings first, as a schedule lists them.
LINES = [
    ("3924", False, "Tableware, kitchenware, other household articles, of plastics:"),
    ("3924100000", True, "Tableware and kitchenware"),
    ("3924905650", True, "Other household articles of plastics"),
    ("3926", False, "Other articles of plastics:"),
    ("3926100000", True, "Office or school supplies"),
    ("3926909990", True, "Other"),
    ("6912005000", True, "Ceramic tableware and kitchenware: mugs and cups"),
    ("8471300100", True, "Portable data processing machines (laptop computers), ≤ 10 kg"),
    (
        "8473",
        False,
        "Parts and accessories suitable for use with machines of headings 8470 to 8472:",
    ),
    ("847330", False, "Parts and accessories of the machines of heading 8471:"),
    ("8473301100", True, "Printed circuit assemblies"),
    ("8473305100", True, "Other"),
    ("8508", False, "Vacuum cleaners; parts thereof:"),
    (
        "8508110000",
        True,
        "Vacuum cleaners with self-contained electric motor, of a power ≤ 1,500 W",
    ),
    ("8508600000", True, "Other vacuum cleaners"),
    ("8508700000", True, "Parts"),
    ("9608100000", True, "Ball point pens"),
]


def small_reference() -> tariff_reference.Reference:
    return fakes.small_reference([(c, d, t, t) for c, d, t in LINES], name="residual")


@pytest.fixture(scope="module")
def reference():
    found = small_reference()
    found.semantic(wait=True)
    return found


def decide(product, reference):
    return classify(
        product, pack=None, reference=reference, rank_without_pack=True, calibration=UNCALIBRATED
    )


def residual_evidence(decision) -> dict:
    return {c.code: e for c in decision.candidates for e in c.sources if e.kind == "residual"}


def test_a_plastic_bin_gets_the_plastics_residual_line_with_residual_evidence(reference):
    decision = decide(facts("Laundry bin with lid", materials=["plastic"]), reference)
    found = residual_evidence(decision)
    residual_line = next(code for code in found if code.startswith("3926"))
    evidence = found[residual_line]
    assert evidence.detail["basis"] == "material"
    assert evidence.detail["material"] == "plastics" and evidence.detail["heading"] == "3926"
    assert evidence.weight > 0
    candidate = next(c for c in decision.candidates if c.code == residual_line)
    assert "residual line of heading 3926 for its material (plastics)" in candidate.rationale


def test_a_material_word_in_the_description_counts_when_the_facts_name_none(reference):
    product = facts("Stacking storage box made of polypropylene", materials=[])
    assert residual.materials(product) == ["plastics"]
    assert any(c.startswith("3926") for c in residual_evidence(decide(product, reference)))


def test_a_filter_cartridge_for_a_vacuum_gets_the_parts_line_of_vacuum_cleaners(reference):
    product = facts("Filter cartridge for a shop vacuum", materials=[])
    assert residual.part_of(product) == "a shop vacuum"
    evidence = residual_evidence(decide(product, reference))["8508700000"]
    assert evidence.detail["basis"] == "parts"
    assert evidence.detail["part_of"] == "a shop vacuum"
    assert evidence.detail["heading"] == "8508"


def test_a_machine_whose_parts_have_their_own_heading_gets_that_headings_line(reference):
    # 8473 names headings 8470 to 8472; 8473.30 names 8471 alone, so it is the one for 8471.
    assert residual.parts_lines(reference)["8471"] == ("847330",)
    assert residual.parts_lines(reference)["8508"] == ("8508700000",)
    product = facts("Replacement keyboard part for a laptop computer", materials=[])
    codes = residual_evidence(decide(product, reference))
    assert any(code.startswith("847330") for code in codes)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("washing machine parts including a tub", "washing machine"),
        ("faucet parts of unspecified origin", "faucet"),  # origin is not what they are for
        ("parts of electric fuel pumps, including a capacitor", "electric fuel pumps"),
        ("a spacer ring used in a pneumatic valve", "a pneumatic valve"),
        ("Ballpoint pen, blue ink", ""),
        ("spare parts", ""),
    ],
)
def test_what_a_part_is_for_is_read_from_its_text(text, what):
    assert residual.part_of({"description": text}) == what


def test_a_product_without_material_or_for_x_gets_nothing_new(reference, monkeypatch):
    product = facts("Ballpoint pen, blue ink", materials=[])
    with_proposals = decide(product, reference)
    assert residual_evidence(with_proposals) == {}
    monkeypatch.setattr(search_module, "RESIDUAL_WEIGHT", 0.0)
    monkeypatch.setattr(search_module, "PARTS_WEIGHT", 0.0)
    without = decide(product, reference)
    assert [(c.code, c.score) for c in with_proposals.candidates] == [
        (c.code, c.score) for c in without.candidates
    ]
