"""The routing table of DESIGN §5, applied to candidates and signals."""

from rulepacks import routing
from rulepacks.evaluate import run_pack
from rulepacks.format import parse
from tests.rulepacks.fakes import facts, pack_source
from tests.tariff_fakes import FakeReference, Flags

C = routing.Candidate


def route(candidates, **kwargs):
    return routing.route(candidates=candidates, min_confidence=0.82, tie_margin=0.05, **kwargs)


class R:
    def __init__(self, action="review", risk="medium"):
        self.action, self.risk = action, risk


def test_a_confident_unique_candidate_is_classified_at_its_risk():
    r = route([C("6109100012", 0.9, "low")])
    assert (r.outcome, r.reasons, r.risk, r.code) == ("classified", (), "low", "6109100012")


def test_low_confidence_and_ties_need_review():
    assert route([C("1", 0.8)]).reasons == ("low_confidence",)
    tie = route([C("1", 0.9), C("2", 0.86)])
    assert (tie.outcome, tie.reasons, tie.risk) == ("needs_review", ("tie",), "medium")
    assert route([C("1", 0.9), C("2", 0.84)]).outcome == "classified"


def test_no_candidate_is_blocked_and_high_risk():
    r = route([])
    assert (r.outcome, r.reasons, r.risk, r.code) == ("blocked", ("no_candidate",), "high", "")


def test_denied_goods_are_blocked_high_risk_even_with_a_low_risk_candidate():
    r = route([C("1", 0.99, "low")], denied=True)
    assert (r.outcome, r.reasons, r.risk) == ("blocked", ("denied_goods",), "high")


def test_every_reason_that_holds_is_recorded():
    r = route(
        [C("1", 0.7), C("2", 0.68)],
        missing=("materials",),
        restrictions=[R()],
        flags=Flags(pga=["FD2"], antidumping=True),
        high_risk_route=True,
        vague=True,
        has_pack=False,
    )
    assert r.outcome == "blocked"
    assert r.reasons == (
        "no_active_rule_pack",
        "incomplete_facts",
        "low_confidence",
        "tie",
        "restricted_goods",
        "agency_requirements",
        "trade_remedy",
        "high_risk_route",
        "vague_description",
    )
    assert set(r.reasons) <= set(routing.BLOCKING_REASONS + routing.REVIEW_REASONS)


def test_a_blocking_restriction_blocks_and_a_review_restriction_raises_risk():
    assert route([C("1", 0.9)], restrictions=[R("block", "medium")]).outcome == "blocked"
    r = route([C("1", 0.9, "low")], restrictions=[R("review", "high")])
    assert (r.outcome, r.risk) == ("needs_review", "high")


def test_vague_descriptions_and_missing_facts_are_detected():
    assert routing.is_vague("Misc parts")
    assert routing.is_vague("goods")
    assert not routing.is_vague("Knitted cotton sweater for men")
    assert routing.missing_facts({"sku": "a", "name": "b", "materials": []}) == (
        "description",
        "country_of_origin",
        "materials",
        "intended_use",
        "product_type",
        "destination",
    )


def test_the_pack_only_path_reads_thresholds_from_the_pack():
    source = pack_source().replace("min_confidence = 0.82", "min_confidence = 0.95")
    pack = parse(source).pack
    data = facts("Tee", "Knitted cotton t-shirt for men")
    outcome = run_pack(pack, data, FakeReference())
    assert outcome.routing.outcome == "needs_review"
    assert outcome.routing.reasons == ("low_confidence",)
    assert outcome.rule_ids == ("cotton-tee",)


def test_the_pack_only_path_routes_high_risk_origins_from_the_pack():
    source = pack_source().replace(
        "tie_margin = 0.05\n", 'tie_margin = 0.05\n\n[routing]\nhigh_risk_origins = ["KP"]\n'
    )
    pack = parse(source).pack
    outcome = run_pack(
        pack, facts("Tee", "Knitted cotton t-shirt", country_of_origin="KP"), FakeReference()
    )
    assert (outcome.routing.outcome, outcome.routing.risk) == ("needs_review", "high")
    assert outcome.routing.reasons == ("high_risk_route",)


def test_only_agency_flags_that_require_data_send_to_review_by_default():
    assert routing.agency_flags(["FD1", "EP7", "AL1"]) == ()
    assert routing.agency_flags(["FD1", "FD2", "AQX"]) == ("FD2", "AQX")
    assert routing.agency_flags(["FD1"], "any") == ("FD1",)
    assert route([C("1", 0.9)], flags=Flags(pga=["FD1"])).outcome == "classified"
    r = route([C("1", 0.9)], flags=Flags(pga=["FD1"]), agency_review="any")
    assert r.reasons == ("agency_requirements",)


def test_a_pack_can_review_every_agency_flag():
    source = pack_source().replace(
        "tie_margin = 0.05\n", 'tie_margin = 0.05\n\n[routing]\nagency_review = "any"\n'
    )
    pack = parse(source).pack
    reference = FakeReference(flags={"6109100012": Flags(pga=["FD1"])})
    outcome = run_pack(pack, facts("Tee", "Knitted cotton t-shirt for men"), reference)
    assert outcome.routing.reasons == ("agency_requirements",)
    assert (
        run_pack(
            parse(pack_source()).pack, facts("Tee", "Knitted cotton t-shirt for men"), reference
        ).routing.outcome
        == "classified"
    )
