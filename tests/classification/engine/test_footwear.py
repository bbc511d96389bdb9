"""Footwear read the way chapter 64 reads it: outer sole and upper, then the kind."""

import pytest

from classification.engine import footwear
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

RUBBER = "Other footwear with outer soles and uppers of rubber or plastics"
SOLES = "Footwear with outer soles of rubber, plastics, leather or composition leather"
LEATHER, TEXTILE = f"{SOLES} and uppers of leather", f"{SOLES} and uppers of textile materials"
ATHLETIC = "Sports footwear; tennis shoes, basketball shoes, gym shoes, training shoes and the like"
# (code, declarable, path below the chapter): a slice of the US schedule's headings 6402-6404.
LINES = [
    ("6402", False, [RUBBER]),
    ("6402190000", True, [RUBBER, "Sports footwear", "Other"]),
    (
        "6402200000",
        True,
        [RUBBER, "Footwear with upper straps or thongs assembled to the sole by means of plugs"],
    ),
    ("6402910000", True, [RUBBER, "Other footwear", "Covering the ankle"]),
    ("6402990000", True, [RUBBER, "Other footwear", "Other"]),
    ("6403", False, [LEATHER]),
    ("6403190000", True, [LEATHER, "Sports footwear", "Other"]),
    ("6403400000", True, [LEATHER, "Other footwear, incorporating a protective metal toe-cap"]),
    (
        "6403510000",
        True,
        [LEATHER, "Other footwear, with outer soles of leather", "Covering the ankle"],
    ),
    ("6403590000", True, [LEATHER, "Other footwear, with outer soles of leather", "Other"]),
    ("6403910000", True, [LEATHER, "Other footwear", "Covering the ankle"]),
    ("6403996040", True, [LEATHER, "Other footwear", "Other", "For men, youths and boys"]),
    ("6403996075", True, [LEATHER, "Other footwear", "Other", "For women"]),
    ("6404", False, [TEXTILE]),
    ("6404110000", True, [TEXTILE, "Footwear with outer soles of rubber or plastics", ATHLETIC]),
    ("6404190000", True, [TEXTILE, "Footwear with outer soles of rubber or plastics", "Other"]),
    ("6404200000", True, [TEXTILE, "Footwear with outer soles of leather or composition leather"]),
    ("4202923120", True, ["Trunks, suitcases", "Other", "Travel, sports and similar bags"]),
]


@pytest.fixture(scope="module")
def reference():
    return fakes.path_reference(LINES, name="footwear")


def product(description, materials=()):
    return facts(description, name="", materials=materials, product_type="")


@pytest.mark.parametrize(
    ("text", "materials", "code"),
    [
        ("Men's running shoes with mesh upper and rubber outsole", (), "6404110000"),
        ("Canvas slip-on shoes, rubber sole", (), "6404190000"),
        ("Espadrille-style textile shoes with leather soles", (), "6404200000"),
        ("EVA flip flops", (), "6402200000"),
        ("Women's leather ankle boots, rubber sole", (), "6403910000"),
        ("Work boots, leather upper, steel toe", (), "6403400000"),
        ("Men's dress shoes", ("leather", "rubber"), "6403996040"),  # the rubber is the sole
        ("Women's PU leather sandals", (), "6402990000"),  # imitation leather is plastics
        ("Soccer cleats with synthetic upper", (), "6402190000"),  # note 1 sports footwear
        (
            "Leather sneakers for women, rubber cupsole",
            (),
            "6403996075",
        ),  # sneakers are not note 1's
    ],
)
def test_the_upper_and_sole_then_the_kind_choose_the_line(text, materials, code, reference):
    (found,) = footwear.propose(footwear.read(product(text, materials)), reference)
    assert found.code == code


@pytest.mark.parametrize(
    "text",
    [
        "Shoe horn, stainless steel",
        "Shoe rack with 4 shelves",
        "Water pumps",
        "Worn shoes, mixed",  # worn footwear: heading 6309
        "Float collar and float shoe used in downhole drilling",
        "Drum brake shoes for trailers",
    ],
)
def test_what_is_not_footwear_is_not_read_as_footwear(text):
    assert footwear.read(product(text)) is None


def test_without_the_upper_every_heading_the_sole_allows_ranks_equal(reference):
    reading = footwear.read(product("Hiking boots"))
    assert reading.upper == "" and reading.ankle is True
    found = footwear.propose(reading, reference)
    assert [p.heading for p in found] == ["6402", "6403", "6404"]
    assert {p.rank for p in found} == {1} and not any(p.stated for p in found)
    assert "upper not stated" in found[0].label


def test_a_stated_upper_contradicts_another_heading_of_footwear(reference):
    (found,) = footwear.propose(
        footwear.read(product("Running shoes, mesh upper, rubber outsole")), reference
    )
    assert found.stated and found.detail == {
        "footwear": "running shoes",
        "upper": "textile",
        "sole": "rubber or plastics",
    }
    assert found.contradicts("6403990000") and not found.contradicts("6404190000")
    assert not found.contradicts("4202923120")


def test_sneakers_lead_with_their_reading(reference):
    decision = fakes.ranked(product("Canvas sneakers with rubber sole, lace-up"), reference)
    best = decision.candidates[0]
    assert best.code == "6404110000"
    evidence = next(e for e in best.sources if e.kind == "reading")
    assert evidence.detail["basis"] == "footwear" and evidence.detail["upper"] == "textile"
    assert "footwear reading: sneakers: upper of textile" in best.rationale
    # No labelled footwear behind the shipped calibration: the reading does not raise the
    # confidence until it is measured (calibration.FITTED_READINGS).
    assert decision.calibration["features"]["reading"] == 0.0
    assert decision.calibration["features"]["reading_stated"] == 0.0
