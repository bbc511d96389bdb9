"""Candidate sources, their evidence, scoring, and why every other code was rejected."""

import pytest

from classification.engine import REJECTION_REASONS, classify
from classification.engine.calibration import UNCALIBRATED
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts
from tests.tariff_fakes import FakeReference

SWEATER = "Knitted pullover sweater with ribbed cuffs"


def run(product, *, search=(), pack=None, **kw):
    # Scores and selection are held to the evidence; calibration has its own tests.
    kw.setdefault("calibration", UNCALIBRATED)
    reference = FakeReference(search=list(search))
    return classify(product, pack=pack or fakes.pack(), reference=reference, **kw)


def test_rule_evidence_names_the_rule_and_the_terms_matched_per_fact():
    decision = run(facts(SWEATER))
    best = decision.candidates[0]
    assert best.code == "6110202079"
    (rule,) = best.sources
    assert (rule.kind, rule.ref, rule.weight) == ("rule", "cotton-sweater", 0.9)
    assert rule.detail["matched"] == {"text": ["sweater"], "materials": ["cotton"]}
    assert best.rationale.startswith("GRI 1 and 6: heading 6110")
    assert best.description == "Sweaters, knitted, of cotton, other"


def test_search_evidence_is_advisory_and_records_its_rank_and_query():
    decision = run(facts(SWEATER), search=[("6110202079", 0.8), ("6110303059", 0.6)])
    best = decision.candidates[0]
    assert [e.kind for e in best.sources] == ["rule", "search"]
    search = best.sources[1]
    assert search.ref == "search"
    assert search.detail["rank"] == 1
    assert "sweater" in decision.retrieval["query"]  # recorded once per decision
    assert decision.selected_code == "6110202079"
    # agreement from search moves a rule's confidence only a little
    assert 0.9 < decision.confidence < 0.92


@pytest.mark.parametrize("min_confidence", [0.82, 0.5, 0.3])
def test_search_alone_never_reaches_the_packs_minimum(min_confidence):
    pack = fakes.pack(min_confidence=min_confidence)
    product = facts("Stainless steel kitchen ladle with a long handle", materials=["steel"])
    decision = run(product, search=[("7323930080", 1.0)], pack=pack)
    assert decision.candidates[0].code == "7323930080"
    assert decision.confidence < min_confidence
    assert decision.outcome == "needs_review"
    assert "low_confidence" in decision.reason_codes


def test_a_code_not_declarable_in_the_schedule_is_rejected_and_never_selected():
    decision = run(facts("Heading knife for leather work", materials=["steel"]))
    assert decision.selected_code == "8211920000"
    rejected = {r.code: r for r in decision.rejected}
    assert rejected["8211"].reason == "not_declarable_in_schedule"
    assert "8211" not in [c.code for c in decision.candidates]
    assert "not a declarable line" in rejected["8211"].detail


def test_lower_scores_are_rejected_with_the_gap_to_the_selected_code():
    decision = run(facts(SWEATER), search=[("6109100012", 0.9)])
    (rejected,) = decision.rejected
    assert rejected.code == "6109100012"
    assert rejected.reason == "lower_score"
    assert "below 6110.20.20.79" in rejected.detail


def test_a_code_a_blocking_pack_entry_names_is_rejected_as_excluded_by_rule():
    product = facts(SWEATER, country_of_origin="VN")
    decision = run(product, search=[("6110303059", 0.9)])
    assert decision.selected_code == "6110202079"
    (rejected,) = decision.rejected
    assert (rejected.code, rejected.reason) == ("6110303059", "excluded_by_rule")
    assert "no-polyester-sweaters-code" in rejected.detail


def test_rejection_reasons_are_the_documented_ones():
    decision = run(
        facts("Heading knife, knitted sweater", materials=["cotton", "polyester"]),
        search=[("7323930080", 0.5)],
    )
    assert {r.reason for r in decision.rejected} <= set(REJECTION_REASONS)
    assert {r.reason for r in decision.rejected} >= {"tie", "not_declarable_in_schedule"}


def test_candidates_are_best_first_and_the_selected_code_leads():
    decision = run(facts(SWEATER), search=[("6110303059", 0.9), ("7323930080", 0.5)])
    scores = [c.score for c in decision.candidates]
    assert scores == sorted(scores, reverse=True)
    assert decision.candidates[0].code == decision.selected_code


def test_without_a_reference_rules_still_classify_and_no_revision_is_claimed():
    decision = classify(facts(SWEATER), pack=fakes.pack(), reference=None)
    assert decision.selected_code == "6110202079"
    assert decision.schedule_revision is None
    assert decision.duty["selected"] is None


def test_search_can_be_left_out():
    reference = FakeReference()
    classify(facts(SWEATER), pack=fakes.pack(), reference=reference, search=False)
    assert reference.searches == 0


def test_ranking_without_a_pack_keeps_the_outcome_blocked_but_ranks_candidates():
    reference = FakeReference(search=[("6110202079", 0.7)])
    decision = classify(facts(SWEATER), pack=None, reference=reference, rank_without_pack=True)
    assert decision.outcome == "blocked"
    assert decision.reason_codes == ("no_active_rule_pack", "low_confidence")
    assert decision.candidates[0].code == "6110202079"
    assert decision.selected_code is None


class HsOnlyReference(FakeReference):
    """A jurisdiction with no national schedule loaded: HS 2022 six-digit lines only."""

    national = False
    revision = "HS 2022"

    def __init__(self):
        super().__init__(search=[])
        self.lines = {"610910": ("T-shirts, knitted, of cotton", True)}


def test_with_only_hs_loaded_a_national_rule_code_is_checked_at_six_digits():
    decision = classify(
        facts("Crew neck knitted t-shirt for men", destination="EU"),
        pack=fakes.pack(),
        reference=HsOnlyReference(),
    )
    assert decision.selected_code == "6109100012"
    assert decision.schedule_revision == "HS 2022"
    assert not [r for r in decision.rejected if r.reason == "not_declarable_in_schedule"]


def test_with_only_hs_loaded_a_code_outside_the_nomenclature_is_rejected():
    decision = classify(
        facts("Knitted sweater, crew neck", destination="EU"),
        pack=fakes.pack(),
        reference=HsOnlyReference(),
    )
    assert decision.selected_code is None
    assert decision.reason_codes[0] == "no_candidate"
    assert {r.reason for r in decision.rejected} == {"not_declarable_in_schedule"}
