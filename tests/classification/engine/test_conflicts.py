"""Evidence that disagrees goes to a broker: a rule matching a modifier of another article, or a
rule whose chapter the other sources contradict, is routed needs_review / conflicting_evidence."""

from classification.engine import classify
from classification.engine import precedents as prec
from classification.engine.calibration import UNCALIBRATED
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts
from tests.tariff_fakes import FakeReference

LINES = {
    "8471": ("Automatic data processing machines", False),
    "8471300100": ("Portable automatic data processing machines, not over 10 kg", True),
    "8517": ("Telephone sets, including smartphones", False),
    "8517130000": ("Smartphones", True),
    "4202": ("Trunks, suitcases, handbags, backpacks and similar containers", False),
    "4202920000": ("Backpacks with outer surface of textile materials", True),
    "4202923100": ("Other containers with outer surface of textile materials", True),
}
RULES = """
[[rules]]
id = "laptop"
code = "8471300100"
confidence = 0.93
risk = "low"
rationale = "Heading 8471: portable data processing machines."
[rules.when]
text = ["laptop"]

[[rules]]
id = "smartphone"
code = "8517130000"
confidence = 0.94
risk = "low"
rationale = "Subheading 8517.13: smartphones."
[rules.when]
text = ["smartphone"]
"""


def run(product, *, search=None, precedents=None):
    # Uncalibrated, so that the rule alone would classify: the conflict is what stops it.
    return classify(
        product,
        pack=fakes.pack(rules=RULES),
        reference=FakeReference(lines=LINES, search=search if search is not None else []),
        precedents=precedents,
        calibration=UNCALIBRATED,
    )


def conflicts_of(decision):
    reason = next(r for r in decision.reasons if r.code == "conflicting_evidence")
    return reason


def test_a_laptop_rule_on_a_laptop_is_classified():
    decision = run(facts("Laptop, 14 inch, 16 GB", materials=["aluminium"], product_type="Laptop"))
    assert decision.outcome == "classified"
    assert decision.selected_code == "8471300100"


def test_a_laptop_rule_on_a_laptop_backpack_goes_to_review_naming_both_sides():
    product = facts(
        "Backpack with a padded laptop compartment, water-repellent",
        materials=["polyester"],
        product_type="Laptop backpack",
    )
    decision = run(product)
    assert decision.outcome == "needs_review"
    assert "conflicting_evidence" in decision.reason_codes
    reason = conflicts_of(decision)
    (conflict,) = reason.detail["conflicts"]
    assert conflict["kind"] == "article"
    assert (conflict["rule"], conflict["code"], conflict["article"]) == (
        "laptop",
        "8471300100",
        "backpack",
    )
    assert "“laptop”" in reason.message and "“backpack”" in reason.message
    assert "8471.30.01.00" in reason.message


def test_a_smartphone_rule_on_a_smartwatch_goes_to_review():
    product = facts(
        "Smartwatch with heart-rate sensor; pairs with any smartphone",
        materials=["aluminium", "silicone"],
        product_type="Smartwatch",
    )
    decision = run(product)
    assert decision.outcome == "needs_review"
    (conflict,) = conflicts_of(decision).detail["conflicts"]
    assert (conflict["rule"], conflict["article"]) == ("smartphone", "smartwatch")


def test_search_agreeing_on_another_chapter_contradicts_a_rule_it_never_found():
    product = facts("Laptop sleeve of neoprene", materials=["neoprene"], product_type="Laptop")
    search = [("4202920000", 0.9), ("4202923100", 0.8)]
    decision = run(product, search=search)
    assert decision.outcome == "needs_review"
    (conflict,) = conflicts_of(decision).detail["conflicts"]
    assert conflict["kind"] == "chapter"
    assert conflict["other_code"] == "4202920000"
    assert "chapter 84" in conflict["message"] and "chapter 42" in conflict["message"]


def test_search_that_also_finds_the_rules_code_does_not_contradict_it():
    product = facts("Laptop, 14 inch", materials=["aluminium"], product_type="Laptop")
    search = [("4202920000", 0.9), ("4202923100", 0.8), ("8471300100", 0.7)]
    decision = run(product, search=search)
    assert "conflicting_evidence" not in decision.reason_codes


def test_a_broker_precedent_for_a_similar_product_in_another_chapter_contradicts_a_rule():
    precedent = prec.Precedent(
        decision_id=41,
        sku="BAG-1",
        facts_sha256="x",
        description="Laptop carry case of nylon with shoulder strap",
        code="4202920000",
        broker="bea",
        decided_at="2026-11-02T10:00:00+00:00",
    )
    product = facts(
        "Laptop carry case of nylon with shoulder strap and pockets",
        materials=["nylon"],
        product_type="Laptop",
    )
    decision = run(product, precedents=prec.PrecedentIndex([precedent]))
    assert decision.outcome == "needs_review"
    conflict = next(c for c in conflicts_of(decision).detail["conflicts"] if c["kind"] == "chapter")
    assert "broker bea decided 4202.92.00.00" in conflict["message"]
