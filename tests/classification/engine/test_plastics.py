"""Goods of plastics read the way chapter 39 reads them: the form, then the polymer."""

import pytest

from classification.engine import PrecedentIndex, classify, plastics
from classification.engine import readings as readings_module
from classification.engine.calibration import UNCALIBRATED
from classification.engine.precedents import Precedent
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

SHEETS = "Other plates, sheets, film, foil and strip, of plastics, non-cellular"
OTHER_SHEETS = "Other plates, sheets, film, foil and strip, of plastics"
PACKING = "Articles for the conveyance or packing of goods, of plastics"
PE = "Polymers of ethylene, in primary forms"
# (code, declarable, path below the heading): a slice of the US schedule's chapter 39.
LINES = [
    ("3901", False, [PE]),
    ("3901105010", True, [PE, "Polyethylene having a specific gravity of less than 0.94"]),
    ("3901200000", True, [PE, "Polyethylene having a specific gravity of 0.94 or more"]),
    ("3901900000", True, [PE, "Other"]),
    ("3920", False, [SHEETS]),
    ("3920100000", True, [SHEETS, "Of polymers of ethylene"]),
    ("3920200055", True, [SHEETS, "Of polymers of propylene"]),
    (
        "3920435000",
        True,
        [
            SHEETS,
            "Of polymers of vinyl chloride",
            "Containing by weight not less than 6 percent of plasticizers",
        ],
    ),
    ("3920490000", True, [SHEETS, "Of polymers of vinyl chloride", "Other"]),
    ("3920620050", True, [SHEETS, "Of polyesters", "Of poly(ethylene terephthalate)"]),
    ("3920630000", True, [SHEETS, "Of polyesters", "Of unsaturated polyesters"]),
    ("3920990000", True, [SHEETS, "Of other plastics"]),
    ("3921", False, [OTHER_SHEETS]),
    ("3921120000", True, [OTHER_SHEETS, "Cellular", "Of polymers of vinyl chloride"]),
    ("3921905050", True, [OTHER_SHEETS, "Other"]),
    ("3923", False, [PACKING]),
    ("3923210085", True, [PACKING, "Sacks and bags", "Of polymers of ethylene"]),
    ("3923290000", True, [PACKING, "Sacks and bags", "Of other plastics"]),
    ("3923900080", True, [PACKING, "Other"]),
    ("4415203000", True, ["Packing cases, boxes, crates of wood", "Pallets"]),
    ("6305330000", True, ["Sacks and bags, of textile materials", "Of polyethylene strip"]),
]


@pytest.fixture(scope="module")
def reference():
    return fakes.path_reference(LINES, name="plastics")


def product(description):
    return facts(description, name="", materials=(), product_type="")


def decide(description, reference, precedents=None):
    return classify(
        product(description),
        pack=None,
        reference=reference,
        precedents=precedents,
        rank_without_pack=True,
        calibration=UNCALIBRATED,
    )


def line(description, reference) -> str:
    found = plastics.propose(plastics.read(product(description)), reference)
    return found[0].code if found else ""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("polyvinyl chloride (PVC) sheets used in furniture manufacturing", "3920490000"),
        ("flagging tape made of PVC with plasticizers", "3920435000"),
        ("PVC foam board sheets", "3921120000"),
        ("white reflective polyester film used in LED panels", "3920620050"),  # PET
        ("unsaturated polyester film", "3920630000"),  # unsaturated unless the text says so
        # Flat articles cut from sheeting stay sheets (note 10 to chapter 39).
        ("silage covers made of low density polyethylene sheeting", "3920100000"),
        ("disposable floor mats made of polyethylene plastic sheeting", "3920100000"),
        ("laminated BOPP film", "3920200055"),  # plastics on plastics stays in 3920
        ("PET film laminated to aluminium foil", "3921905050"),  # combined with a metal
        ("clear polyethylene plastic bags without handles", "3923210085"),
        ("plastic pallets made of high density polyethylene", "3923900080"),
        ("high density polyethylene (HDPE) used in blow molding", "3901200000"),
        ("low density polyethylene pellets", "3901105010"),
    ],
)
def test_the_form_then_the_polymer_choose_the_line(text, code, reference):
    assert line(text, reference) == code


@pytest.mark.parametrize(
    "text",
    [
        "stainless steel tube with a PVC coating",  # steel first: not goods of plastics
        "a polyester tote bag with cotton handles",  # a polyester bag is of textiles
        "ethylene glycol, 99 % pure",  # a chemical, no form of chapter 39
        "plastic toy car with wheels",  # an article no form names: the residual line's work
        "a backpack made of PVC sheeting",  # not a flat article: bags of 4202
        "a fitted mattress cover made of PVC film with a zipper",  # worked beyond cut to shape
        "toilet brush silicone",  # an article named before its polymer, not the polymer
    ],
)
def test_what_is_not_goods_of_plastics_in_a_named_form_is_not_read(text):
    assert plastics.read(product(text)) is None


def test_without_a_polymer_the_form_still_chooses_the_heading(reference):
    reading = plastics.read(product("clear plastic bags with a zip closure"))
    assert reading.form == "packing goods" and reading.polymer == ""
    found = plastics.propose(reading, reference)
    assert found[0].heading == "3923" and not found[0].stated
    assert "polymer not stated" in found[0].label


def test_the_plastics_line_leads_with_its_reading_as_evidence(reference):
    decision = decide("plastic pallets made of high density polyethylene", reference)
    best = decision.candidates[0]
    assert best.code == "3923900080"
    evidence = next(e for e in best.sources if e.kind == "reading")
    assert evidence.detail["basis"] == "plastics"
    assert evidence.detail["form"] == "packing goods"
    assert evidence.detail["polymer"] == "polymers of ethylene"
    assert evidence.detail["stated"] is True
    assert "plastics reading: packing goods (pallets)" in best.rationale
    assert decision.retrieval["reading"][0]["basis"] == "plastics"


def test_a_garment_is_read_as_a_garment_not_as_plastics(reference, monkeypatch):
    decision = decide("men's knit jacket of 100% polyester", reference)
    assert all(r["basis"] != "plastics" for r in decision.retrieval.get("reading", ()))
    monkeypatch.setattr(readings_module, "PLASTICS_WEIGHT", 0.0)
    decision = decide("plastic pallets made of high density polyethylene", reference)
    assert "reading" not in decision.retrieval


def test_a_similar_products_textile_precedent_is_set_aside_for_goods_of_plastics(reference):
    woven = Precedent(
        9,
        "OTHER",
        "sha",
        "clear polyethylene bags without handles, woven",
        "6305330000",
        "broker",
        "2026-03-01T10:00:00+00:00",
    )
    decision = decide(
        "clear polyethylene plastic bags without handles", reference, PrecedentIndex([woven])
    )
    assert decision.candidates[0].code == "3923210085"
    textile = next(c for c in decision.candidates if c.code == "6305330000")
    found = next(e for e in textile.sources if e.kind == "precedent")
    assert found.weight == 0.0 and found.detail["set_aside"].startswith("the text reads as")
