"""Garments read the way Section XI reads them: construction, wearer, garment, predominant fibre;
their line proposed with its own evidence, and precedents that contradict the reading set aside."""

import pytest

from classification.engine import PrecedentIndex, calibration, classify, descent, garments
from classification.engine import readings as readings_module
from classification.engine.calibration import UNCALIBRATED
from classification.engine.precedents import Precedent
from classification.engine.types import Candidate, Evidence
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

M_KNIT = "Men's or boys' suits, ensembles, jackets, blazers, trousers and shorts, knitted"
W_KNIT = "Women's or girls' suits, ensembles, jackets, dresses, trousers and shorts, knitted"
M_WOVEN = "Men's or boys' suits, ensembles, jackets, blazers, trousers and shorts"
SHORTS = "Trousers, bib and brace overalls, breeches and shorts"
TSHIRTS = "T-shirts, singlets, tank tops and similar garments, knitted or crocheted"
M_SHIRTS = "Men's or boys' shirts (not knitted or crocheted)"
# (code, declarable, path below the heading): a slice of the US schedule's chapters 61 and 62.
LINES = [
    ("6103", False, [M_KNIT]),
    ("6103421050", True, [M_KNIT, SHORTS, "Of cotton", "Shorts", "Men's (347)"]),
    ("6103421070", True, [M_KNIT, SHORTS, "Of cotton", "Shorts", "Boys' (347)"]),
    (
        "6103431020",
        True,
        [M_KNIT, SHORTS, "Of synthetic fibers", "Containing 23 percent or more by weight of wool"],
    ),
    ("6103431550", True, [M_KNIT, SHORTS, "Of synthetic fibers", "Other", "Men's (647)"]),
    ("6103431570", True, [M_KNIT, SHORTS, "Of synthetic fibers", "Other", "Boys' (647)"]),
    ("6103498026", True, [M_KNIT, SHORTS, "Of other textile materials", "Shorts (847)"]),
    ("6104", False, [W_KNIT]),
    ("6104620011", True, [W_KNIT, SHORTS, "Of cotton", "Shorts"]),
    ("6104630011", True, [W_KNIT, SHORTS, "Of synthetic fibers", "Shorts"]),
    ("6104690011", True, [W_KNIT, SHORTS, "Of other textile materials", "Shorts"]),
    ("6109", False, [TSHIRTS]),
    ("6109100012", True, [TSHIRTS, "Of cotton", "Men's or boys'", "T-shirts"]),
    ("6205", False, [M_SHIRTS]),
    ("6205200000", True, [M_SHIRTS, "Of cotton"]),
    ("6203", False, [M_WOVEN]),
    ("6203424050", True, [M_WOVEN, SHORTS, "Of cotton", "Shorts"]),
    ("6203434040", True, [M_WOVEN, SHORTS, "Of synthetic fibers", "Shorts"]),
    ("6203498050", True, [M_WOVEN, SHORTS, "Of other textile materials", "Shorts"]),
    ("5515120000", True, ["Woven fabrics of polyester staple fibers, mixed with cotton"]),
    ("3926201010", True, ["Articles of apparel of plastics: gloves"]),
]


@pytest.fixture(scope="module")
def reference():
    return fakes.path_reference(LINES, name="garments")


def product(description, **extra):
    return facts(description, name="", materials=(), product_type="", **extra)


def only(readings):
    assert len(readings) == 1
    return readings[0]


@pytest.mark.parametrize(
    ("text", "material", "composition"),
    [
        ("men's knit shorts of 100% cotton", "cotton", "100 % cotton"),
        # No material predominates: the one whose chapter comes last (man-made, 54/55) counts.
        ("men's knit shorts made from 50% polyester and 50% cotton", "synthetic", ""),
        # Chapters 54 and 55 count together: 35 % polyester + 25 % rayon outweigh 40 % cotton,
        # and within them the synthetic fibre weighs more.
        ("men's knit shorts of 40% cotton, 35% polyester and 25% rayon", "synthetic", ""),
        ("a women's poncho made from 55% linen and 45% viscose knit fabric", "flax", ""),
        # Without shares, fibres are listed by decreasing weight.
        ("a women's coat made of ramie, wool, nylon, and acrylic", "vegetable", ""),
        ("a women's poncho made of acrylic, wool, and nylon", "synthetic", ""),
        # A lining named after the shell's 100 % does not count.
        ("a woman's 100% nylon lace, knit dress with a 100% polyester knit liner", "synthetic", ""),
        ("a women's coat made from 100% lambswool knit fabric", "wool", "100 % lambswool"),
    ],
)
def test_the_predominant_fibre_follows_section_xi_note_2(text, material, composition):
    reading = only(garments.read(product(text)))
    assert reading.material == material
    if composition:
        assert reading.composition == composition


def test_a_catalogs_materials_give_each_fibre_its_share_after_it():
    # Catalog materials read "cotton 98%", "elastane 2%": a share belongs to the fibre before it.
    jeans = facts(
        "Men's five-pocket trousers of woven blue denim",
        name="Men's slim jeans",
        materials=["cotton 98%", "elastane 2%"],
        product_type="Trousers",
    )
    reading = garments.read(jeans)[0]
    assert (reading.material, reading.composition) == ("cotton", "98 % cotton, 2 % elastane")
    assert reading.construction == garments.WOVEN


def test_a_garment_of_plastics_coated_fabric_goes_to_its_own_heading(reference):
    anorak = product("Unisex anorak of woven nylon with polyurethane coating, taped seams")
    assert only(garments.read(anorak)).coated
    assert garments._heading(only(garments.read(anorak)), garments.WOMEN, garments.WOVEN) == (
        "6210"
    )


def test_construction_wearer_and_garment_are_read_from_the_opening_phrase():
    reading = only(garments.read(product("a boys' knit jacket made of 100% polyester")))
    assert (reading.garment.key, reading.word) == ("coat", "jacket")
    assert reading.construction == garments.KNITTED and reading.wearers == (garments.MEN,)
    woven = only(garments.read(product("men's shorts of woven 100% cotton twill")))
    assert woven.construction == garments.WOVEN
    assert only(garments.read(product("men's shorts of 100% cotton"))).construction == ""


def test_a_garment_for_neither_men_nor_women_is_a_womens_garment_and_babies_come_first():
    # Chapter 61 note 9: unidentifiable garments are women's or girls'.
    assert only(garments.read(product("unisex knit shorts of cotton"))).wearers == (garments.WOMEN,)
    vest = only(garments.read(product("a knitted vest for infants and large girls, cotton")))
    assert vest.wearers == (garments.BABIES, garments.WOMEN)


@pytest.mark.parametrize(
    "text",
    [
        "wooden coat hanger with a trouser bar",
        "men's dress shoes of leather",
        "a men's leather jacket with a polyester lining",
        "ice-climbing gloves with a palm of PVC plastic and a nylon shell",
        "stainless steel hose nozzle",
        "adult life vest of nylon, foam filled",  # life-jackets: 6307.20
    ],
)
def test_what_is_not_a_textile_garment_is_not_read_as_one(text):
    assert garments.read(product(text)) == []


def test_faux_fur_is_still_a_textile_garment():
    text = "a women's jacket made from polyester pile knit faux fur fabric bonded to leather"
    assert only(garments.read(product(text))).material == "synthetic"


def proposals(text, reference):
    return garments.propose(garments.read(product(text)), reference)


def test_the_line_follows_the_reading_level_by_level(reference):
    # Section XI's tie rule picks synthetic fibres; no wool share, so "Other"; men's, not boys'.
    found = proposals("men's knit shorts made from 50% polyester and 50% cotton", reference)
    assert [(p.code, p.heading) for p in found] == [("6103431550", "6103")]
    boys = proposals("boys' knit shorts of 100% cotton", reference)
    assert [p.code for p in boys] == ["6103421070"]
    wool = proposals("men's knit shorts of 70% polyester and 30% wool", reference)
    assert [p.code for p in wool] == ["6103431020"]  # containing 23 % or more of wool
    women = proposals("women's knit shorts of 100% silk", reference)
    assert [p.code for p in women] == ["6104690011"]  # of other textile materials


def test_what_the_text_leaves_open_is_left_to_the_other_rankings(reference):
    # Knitted or woven unsaid: both chapters' lines, at equal rank.
    both = proposals("men's shorts of 100% cotton", reference)
    assert {(p.code, p.rank) for p in both} == {("6103421050", 1), ("6203424050", 1)}
    assert {p.construction for p in both} == {garments.KNITTED, garments.WOVEN}
    assert "(not stated)" in both[0].label
    # No fibre named: no fibre line is preferred over another.
    reading = only(garments.read(product("men's knit shorts")))
    lines = [
        (code, path[1:]) for code, _, path in LINES if code.startswith("6103") and len(code) > 4
    ]
    kept = descent.descend(lines, 0, lambda s: garments._fit(s, reading))
    assert {code[:6] for code in kept} == {"610342", "610343", "610349"}


def test_a_t_shirt_is_knitted_unless_the_text_says_otherwise(reference):
    # Heading 6109 is the T-shirt's; a woven one is read only when the text says so.
    (knit,) = proposals("boys' t shirt of cotton", reference)
    assert (knit.code, knit.construction) == ("6109100012", garments.KNITTED)
    assert "(not stated)" in knit.label
    (woven,) = proposals("men's woven t-shirt of cotton", reference)
    assert woven.code == "6205200000"


def decide(description, reference, precedents=None):
    return classify(
        product(description),
        pack=None,
        reference=reference,
        precedents=precedents,
        rank_without_pack=True,
        calibration=UNCALIBRATED,
    )


def test_the_garment_line_leads_with_its_reading_as_evidence(reference):
    decision = decide("men's knit shorts made from 50% polyester and 50% cotton", reference)
    best = decision.candidates[0]
    assert best.code == "6103431550"
    evidence = next(e for e in best.sources if e.kind == "reading")
    assert evidence.detail["basis"] == "garment" and evidence.detail["stated"] is True
    assert evidence.detail["heading"] == "6103" and evidence.detail["garment"] == "shorts"
    assert evidence.detail["construction"] == garments.KNITTED
    assert evidence.detail["construction_stated"] is True
    assert evidence.detail["material"] == "synthetic"
    assert evidence.detail["composition"] == "50 % polyester, 50 % cotton"
    assert "garment reading: knitted or crocheted, men's or boys', shorts, synthetic" in (
        best.rationale
    )
    assert decision.retrieval["reading"] == [
        {"code": "6103431550", "basis": "garment", "reading": evidence.ref}
    ]
    assert decision.calibration["features"]["reading_stated"] == 1.0


def test_without_the_reading_the_fabric_heading_wins(reference, monkeypatch):
    # What the reading fixes: words alone put a garment of polyester and cotton with the fabric.
    monkeypatch.setattr(readings_module, "GARMENT_WEIGHT", 0.0)
    decision = decide("men's knit shorts made from 50% polyester and 50% cotton", reference)
    assert all(e.kind != "reading" for c in decision.candidates for e in c.sources)
    assert "reading" not in decision.retrieval


def precedent(decision_id, code, description, sku="OTHER"):
    return Precedent(
        decision_id, sku, "sha", description, code, "broker", "2026-03-01T10:00:00+00:00"
    )


def test_a_similar_products_precedent_that_contradicts_the_stated_fibre_is_set_aside(
    reference,
):
    index = PrecedentIndex(
        [precedent(7, "6103421050", "Men's knit shorts made from 100% cotton jersey")]
    )
    decision = decide("Men's knit shorts made from 100% polyester jersey", reference, index)
    assert decision.candidates[0].code == "6103431550"
    cotton = next(c for c in decision.candidates if c.code == "6103421050")
    found = next(e for e in cotton.sources if e.kind == "precedent")
    assert found.weight == 0.0
    assert found.detail["set_aside"].startswith("the text reads as knitted or crocheted")
    assert found.detail["set_aside_by"] == "garment"
    assert "Precedent #7 set aside" in cotton.rationale
    assert decision.calibration["features"]["words"] == 0.0


def test_the_same_products_precedent_is_never_set_aside(reference):
    # The broker decided this very product: their code stands whatever the text reads as.
    description = "Men's knit shorts made from 100% polyester jersey"
    index = PrecedentIndex([precedent(8, "6103421050", description, sku="SKU-1")])
    decision = decide(description, reference, index)
    best = decision.candidates[0]
    assert best.code == "6103421050"
    assert next(e for e in best.sources if e.kind == "precedent").weight > 0


def test_a_reading_of_a_sibling_national_line_counts_for_the_confidence():
    # Confidence is about the subheading: the pack's men's line and the reading's line for
    # T-shirts of the same 6109.10 back the same six digits.
    rule = Evidence("rule", "tee", 0.9, {"matched": {}, "risk": "low"})
    reading = Evidence("reading", "knitted …", 0.3, {"basis": "garment", "stated": True})
    best = Candidate("6109100012", 0.9, "", "", (rule,))
    sibling = Candidate("6109100004", 0.3, "", "", (reading,))
    elsewhere = Candidate("6110202005", 0.3, "", "", (reading,))
    found = calibration.features(best, [best, sibling], ())
    assert found["reading"] == 1.0 and found["reading_stated"] == 1.0
    found = calibration.features(best, [best, elsewhere], ())
    assert found["reading"] == 0.0 and found["reading_stated"] == 0.0


def test_a_lines_examples_are_not_its_condition():
    # 6115.10 names stockings only as an example of graduated compression hosiery.
    socks = only(garments.read(product("knitted crew socks of 80% cotton and 20% polyamide")))
    compression = "Graduated compression hosiery (for example, stockings for varicose veins)"
    lines = [
        ("6115100500", [compression]),
        ("6115959000", ["Other", "Of cotton"]),
        ("6115969020", ["Other", "Of synthetic fibers"]),
    ]
    reading = garments._with(socks, socks.construction, garments.WOMEN)
    assert descent.descend(lines, 0, lambda s: garments._fit(s, reading)) == ["6115959000"]


SHORTS_RULE = """
[[rules]]
id = "shorts-cotton"
code = "6103421050"
confidence = 0.95
risk = "low"
rationale = "Men's knitted shorts of cotton."
[rules.when]
text = ["shorts"]
"""


def test_a_rule_the_stated_reading_contradicts_goes_to_review_naming_both(reference):
    # Uncalibrated, so that the rule alone would classify: the conflict is what stops it.
    decide_with = {
        "pack": fakes.pack(rules=SHORTS_RULE),
        "reference": reference,
        "calibration": UNCALIBRATED,
    }
    shorts = {"name": "Men's shorts", "product_type": "Shorts"}
    cotton = facts("Men's knit shorts of 100% cotton", materials=["cotton"], **shorts)
    cotton = classify(cotton, **decide_with)
    assert cotton.outcome == "classified" and cotton.selected_code == "6103421050"
    polyester = facts("Men's knit shorts of 100% polyester", materials=["polyester"], **shorts)
    polyester = classify(polyester, **decide_with)
    assert polyester.outcome == "needs_review"
    reason = next(r for r in polyester.reasons if r.code == "conflicting_evidence")
    (conflict,) = [c for c in reason.detail["conflicts"] if c["kind"] == "reading"]
    assert (conflict["rule"], conflict["code"], conflict["other_code"]) == (
        "shorts-cotton",
        "6103421050",
        "6103431550",
    )
    assert "the text reads as knitted or crocheted, men's or boys', shorts" in reason.message
