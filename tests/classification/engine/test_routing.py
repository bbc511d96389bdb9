"""Each row of DESIGN §5, produced by the engine from facts, pack, reference and precedents."""

import pytest

from classification.engine import calibration, classify
from classification.engine.calibration import UNCALIBRATED
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts
from tests.tariff_fakes import FakeReference, Flags

TEE = "Crew neck knitted t-shirt for men, short sleeves"


def run(product, *, pack=None, reference=None, **kw):
    # The routing table is held to the evidence scores here; calibration has its own tests.
    kw.setdefault("calibration", UNCALIBRATED)
    return classify(
        product,
        pack=fakes.pack() if pack is None else pack,
        reference=reference or FakeReference(search=[]),
        **kw,
    )


# A fit whose probability (0.95) is far from any evidence score.
CONFIDENT = calibration.Calibration("test-0.95", (0.0,) * len(calibration.FEATURES), 2.944)


def codes_of(decision):
    return [r.code for r in decision.reasons]


def test_a_confident_rule_with_nothing_against_it_is_classified_at_low_risk():
    decision = run(facts(TEE))
    assert decision.outcome == "classified"
    assert decision.selected_code == "6109100012"
    assert decision.confidence == pytest.approx(0.92)
    assert decision.risk_band == "low"
    assert decision.reasons == ()


def test_no_candidate_blocks():
    decision = run(facts("Hydraulic excavator bucket teeth of forged alloy", materials=["alloy"]))
    assert decision.outcome == "blocked"
    assert codes_of(decision) == ["no_candidate"]
    assert decision.selected_code is None
    assert decision.risk_band == "high"


def test_denied_goods_block_at_high_risk_whatever_the_rule_confidence():
    decision = run(facts("Winter parka with trimmed hood collar", materials=["dog fur", "nylon"]))
    assert decision.outcome == "blocked"
    assert "denied_goods" in codes_of(decision)
    assert decision.risk_band == "high"
    denied = next(r for r in decision.reasons if r.code == "denied_goods")
    assert denied.detail["entries"][0]["id"] == "dog-cat-fur"
    assert "19 U.S.C. 1308" in denied.message


def test_no_active_pack_blocks_without_ranking_anything():
    reference = FakeReference()
    decision = classify(facts(TEE), pack=None, reference=reference)
    assert decision.outcome == "blocked"
    assert codes_of(decision) == ["no_active_rule_pack", "no_candidate"]
    assert decision.candidates == ()
    assert reference.searches == 0
    assert decision.pack is None


def test_missing_required_facts_block_and_name_the_facts():
    decision = run(facts(TEE, materials=[], intended_use=""))
    assert decision.outcome == "blocked"
    reason = decision.reasons[0]
    assert reason.code == "incomplete_facts"
    assert reason.detail == {"missing": ["materials", "intended_use"]}


def test_a_rule_below_the_pack_minimum_goes_to_review():
    decision = run(facts("Plush toy bear for children", materials=["polyester"]))
    assert decision.outcome == "needs_review"
    assert codes_of(decision) == ["low_confidence"]
    reason = decision.reasons[0]
    assert reason.detail == {"confidence": 0.7, "minimum": 0.82}
    assert decision.selected_code == "9503000073"
    assert decision.risk_band == "medium"


@pytest.mark.parametrize("fit", [UNCALIBRATED, CONFIDENT], ids=["uncalibrated", "calibrated"])
def test_a_runner_up_within_the_tie_margin_goes_to_review(fit):
    decision = run(
        facts("Knitted sweater, crew neck", materials=["cotton", "polyester"]), calibration=fit
    )
    assert decision.outcome == "needs_review"
    assert codes_of(decision) == ["tie"]
    tie = decision.reasons[0].detail
    assert (tie["code"], tie["runner_up"]) == ("6110202079", "6110303059")
    # The margin is between evidence scores (what the tie margin compares), not between the
    # best's calibrated confidence and the runner-up's score.
    scores = {c.code: c.score for c in decision.candidates}
    assert 0 <= tie["margin"] <= tie["tie_margin"]
    assert tie["margin"] == round(scores["6110202079"] - scores["6110303059"], 4)
    assert f"({scores['6110202079']:.2f})." in decision.reasons[0].message
    assert [(r.code, r.reason) for r in decision.rejected] == [("6110303059", "tie")]


def test_a_review_restriction_goes_to_review_with_its_reason_and_risk():
    decision = run(facts("Rechargeable lithium ion battery pack 10000 mAh", materials=["lithium"]))
    assert decision.outcome == "needs_review"
    assert codes_of(decision) == ["restricted_goods"]
    assert decision.risk_band == "high"
    assert decision.reasons[0].detail["entries"][0]["id"] == "lithium-batteries"


def test_agency_flags_on_the_selected_code_go_to_review():
    flags = {"6109100012": Flags(pga=["FD1", "FD2"], agencies=["Food and Drug Administration"])}
    decision = run(facts(TEE), reference=FakeReference(flags=flags, search=[]))
    assert decision.outcome == "needs_review"
    assert codes_of(decision) == ["agency_requirements"]
    assert decision.flags["pga"] == ["FD1", "FD2"]
    reason = decision.reasons[0]
    assert reason.detail["review_flags"] == ["FD2"]
    assert "FD2 (Food and Drug Administration)" in reason.message


def test_flags_saying_agency_data_may_be_required_follow_the_packs_policy():
    flags = {"6109100012": Flags(pga=["FD1"], agencies=["Food and Drug Administration"])}
    reference = FakeReference(flags=flags, search=[])
    default = run(facts(TEE), reference=reference)
    assert default.outcome == "classified"
    assert default.flags["pga"] == ["FD1"]  # recorded even when it does not route
    decision = run(facts(TEE), pack=fakes.pack(agency="any"), reference=reference)
    assert decision.outcome == "needs_review"
    assert codes_of(decision) == ["agency_requirements"]


def test_anti_dumping_or_countervailing_flags_go_to_review():
    flags = {"6109100012": Flags(antidumping=True)}
    decision = run(facts(TEE), reference=FakeReference(flags=flags, search=[]))
    assert decision.outcome == "needs_review"
    assert codes_of(decision) == ["trade_remedy"]
    assert decision.reasons[0].detail == {"antidumping": True, "countervailing": False}


def test_a_high_risk_origin_goes_to_review_at_high_risk():
    decision = run(facts(TEE, country_of_origin="KP"))
    assert decision.outcome == "needs_review"
    assert codes_of(decision) == ["high_risk_route"]
    assert decision.risk_band == "high"


def test_a_vague_description_goes_to_review_naming_the_facts_a_broker_needs():
    product = facts("Spare parts", name="Parts", materials=["various"], intended_use="general")
    decision = run(product, reference=FakeReference(search=[("7323930080", 0.4)]))
    assert decision.outcome == "needs_review"
    assert codes_of(decision) == ["low_confidence", "vague_description"]
    reason = decision.reasons[1]
    assert reason.detail["needed"] == ["description", "materials", "intended_use"]
    assert "what it is made of" in reason.message


@pytest.mark.parametrize("description", ["gift", "Sample", "accessories", "parts and accessories"])
def test_generic_words_alone_are_vague(description):
    decision = run(facts(description, name="x"))
    assert "vague_description" in codes_of(decision)


def test_a_vague_description_with_no_candidate_is_blocked_and_still_says_what_is_needed():
    decision = run(facts("gift", name="Gift"))
    assert decision.outcome == "blocked"
    assert codes_of(decision) == ["no_candidate", "vague_description"]


def test_several_reasons_are_all_recorded():
    flags = {"8211920000": Flags(pga=["FW2"], agencies=["US Fish and Wildlife Service"])}
    product = facts("Knife", materials=["steel"], country_of_origin="KP")
    decision = run(product, reference=FakeReference(flags=flags, search=[]))
    assert decision.outcome == "needs_review"
    assert codes_of(decision) == [
        "restricted_goods",
        "agency_requirements",
        "high_risk_route",
        "vague_description",
    ]
    assert decision.risk_band == "high"


def test_blocking_and_review_reasons_together_block_with_both_recorded():
    product = facts("Fur trimmed knife sheath", materials=["cat fur"], intended_use="")
    decision = run(product)
    assert decision.outcome == "blocked"
    assert codes_of(decision)[:2] == ["incomplete_facts", "denied_goods"]
    assert "restricted_goods" in codes_of(decision)
    assert decision.risk_band == "high"
    assert decision.selected_code is None
    assert decision.candidates  # the best codes stay visible as advice
