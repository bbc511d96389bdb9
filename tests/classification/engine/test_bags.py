"""Bags and cases read the way heading 4202 reads them: the kind, then the outer surface."""

import pytest

from classification.engine import bags
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

CASES = "Trunks, suitcases, vanity cases, executive-cases, briefcases, school satchels"
POCKET = "Articles of a kind normally carried in the pocket or in the handbag"
LEATHER = "With outer surface of leather or of composition leather"
SHEETING = "With outer surface of sheeting of plastics or of textile materials"
# (code, declarable, path below the heading): a slice of the US schedule's heading 4202.
LINES = [
    ("4202", False, []),
    ("4202112000", True, [CASES, LEATHER]),
    ("4202122150", True, [CASES, "With outer surface of plastics"]),
    ("4202216000", True, ["Handbags, whether or not with shoulder strap", LEATHER]),
    ("4202221500", True, ["Handbags, whether or not with shoulder strap", SHEETING]),
    ("4202316000", True, [POCKET, LEATHER]),
    ("4202322000", True, [POCKET, SHEETING, "With outer surface of sheeting of plastics"]),
    ("4202919030", True, ["Other", LEATHER, "Travel, sports and similar bags"]),
    ("4202920400", True, ["Other", SHEETING, "Insulated food or beverage bags"]),
    (
        "4202923120",
        True,
        ["Other", SHEETING, "Travel, sports and similar bags", "Of man-made fibers"],
    ),
    ("4202923900", True, ["Other", SHEETING, "Travel, sports and similar bags", "Other"]),
    ("4202929700", True, ["Other", SHEETING, "Other"]),
    ("8471300100", True, ["Portable automatic data processing machines (laptops)"]),
]


@pytest.fixture(scope="module")
def reference():
    root = "Trunks, suitcases, handbags, wallets, backpacks and similar containers"
    return fakes.path_reference([(c, f, [root, *p]) for c, f, p in LINES], name="bags")


def product(description):
    return facts(description, name="", materials=(), product_type="")


def line(description, reference) -> str:
    found = bags.propose(bags.read(product(description)), reference)
    return found[0].code if found else ""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Laptop backpack with USB charging port, water-resistant polyester", "4202923120"),
        ("PU leather wallet with RFID blocking", "4202322000"),  # imitation leather: plastics
        ("Women's genuine leather handbag", "4202216000"),
        ("Insulated lunch bag of polyester", "4202920400"),
        ("leather duffle bag with brass fittings", "4202919030"),
        ("hard shell suitcase of polycarbonate", "4202122150"),
    ],
)
def test_the_kind_then_the_outer_surface_choose_the_line(text, code, reference):
    assert line(text, reference) == code


@pytest.mark.parametrize(
    "text",
    ["Backpack vacuum cleaner 1200 W", "Replacement strap for a handbag", "Laptop, 14 inch"],
)
def test_what_is_not_a_bag_or_case_is_not_read_as_one(text):
    assert bags.read(product(text)) is None


def test_without_an_outer_surface_the_kind_still_chooses(reference):
    reading = bags.read(product("Hiking backpack, 30 litres"))
    assert reading.kind == "travel, sports and similar bags" and reading.surface == ""
    (found,) = bags.propose(reading, reference)
    assert found.code.startswith("42029") and not found.stated
    assert "outer surface not stated" in found.label


def test_a_laptop_backpack_leads_with_its_reading_not_the_laptop(reference):
    decision = fakes.ranked(product("Laptop backpack with padded sleeve, polyester"), reference)
    best = decision.candidates[0]
    assert best.code == "4202923120"
    evidence = next(e for e in best.sources if e.kind == "reading")
    assert evidence.detail["basis"] == "bag" and evidence.detail["surface"] == "textile"
    assert "bag reading: travel, sports and similar bags (backpack)" in best.rationale
