"""Precedents: the tenant's finalized broker decisions, strongest first, cited in the evidence."""

import pytest

from classification.engine import Precedent, PrecedentIndex, calibration, classify
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts
from tests.tariff_fakes import FakeReference

DESCRIPTION = "Knitted pullover sweater with ribbed cuffs"


def precedent(
    decision_id,
    *,
    sku="SKU-1",
    sha="f1",
    description=DESCRIPTION,
    code="6110202079",
    broker="bea",
    decided_at="2026-03-01T10:00:00+00:00",
):
    return Precedent(decision_id, sku, sha, description, code, broker, decided_at)


def test_same_sku_with_unchanged_facts_comes_before_identical_then_similar_descriptions():
    index = PrecedentIndex(
        [
            precedent(1, sku="OTHER", description="Knitted pullover sweater with ribbed collar"),
            precedent(
                2, sku="OTHER-2", description="knitted  PULLOVER sweaters, with ribbed cuffs!"
            ),
            precedent(3),
        ]
    )
    found = index.lookup("SKU-1", "f1", DESCRIPTION)
    assert [(p.decision_id, kind) for p, kind, _ in found] == [
        (3, "same_sku"),
        (2, "identical_description"),
        (1, "similar_description"),
    ]
    assert found[2][2] == pytest.approx(0.6667, abs=1e-4)


def test_a_product_whose_facts_changed_is_no_longer_a_same_sku_precedent():
    index = PrecedentIndex([precedent(3, sha="old")])
    found = index.lookup("SKU-1", "new", DESCRIPTION)
    assert [(p.decision_id, kind) for p, kind, _ in found] == [(3, "identical_description")]


def test_newer_decisions_come_first_within_a_kind():
    index = PrecedentIndex(
        [
            precedent(1, decided_at="2026-01-01T00:00:00+00:00"),
            precedent(2, decided_at="2026-05-01T00:00:00+00:00"),
        ]
    )
    assert [p.decision_id for p, _, _ in index.lookup("SKU-1", "f1", DESCRIPTION)] == [2, 1]


def test_unrelated_descriptions_are_not_precedents():
    index = PrecedentIndex([precedent(1, sku="X", description="Lithium ion battery pack")])
    assert index.lookup("SKU-9", "zz", DESCRIPTION) == []


def test_precedent_evidence_cites_the_decision_the_broker_and_the_date():
    index = PrecedentIndex([precedent(41, broker="bea", decided_at="2026-03-01T10:00:00+00:00")])
    product = facts(DESCRIPTION, materials=["wool"])  # no rule matches wool
    decision = classify(
        product,
        pack=fakes.pack(),
        reference=FakeReference(search=[]),
        precedents=index,
        facts_sha256="f1",
    )
    best = decision.candidates[0]
    (evidence,) = best.sources
    assert (evidence.kind, evidence.ref) == ("precedent", "41")
    assert evidence.detail["broker"] == "bea"
    assert evidence.detail["decided_at"] == "2026-03-01T10:00:00+00:00"
    assert evidence.detail["kind"] == "same_sku"
    assert "Broker bea decided 6110.20.20.79 on 2026-03-01 (decision #41" in best.rationale
    assert decision.outcome == "classified"
    # A broker's decision on the same, unchanged product: the calibrated probability is high.
    assert decision.confidence > 0.95
    assert decision.confidence == pytest.approx(
        calibration.default().probability(decision.calibration["features"]), abs=1e-4
    )


def test_a_similar_description_alone_is_advice_for_review():
    index = PrecedentIndex(
        [precedent(7, sku="X", description="Knitted pullover sweater with ribbed collar")]
    )
    product = facts(DESCRIPTION, sku="NEW", materials=["wool"])
    decision = classify(
        product, pack=fakes.pack(), reference=FakeReference(search=[]), precedents=index
    )
    assert decision.candidates[0].code == "6110202079"
    assert decision.outcome == "needs_review"
    assert decision.reason_codes == ("low_confidence",)


def test_a_precedent_that_agrees_with_a_rule_raises_confidence():
    index = PrecedentIndex([precedent(5)])
    alone = classify(facts(DESCRIPTION), pack=fakes.pack(), reference=None)
    both = classify(
        facts(DESCRIPTION), pack=fakes.pack(), reference=None, precedents=index, facts_sha256="f1"
    )
    assert both.confidence > alone.confidence
    assert [e.kind for e in both.candidates[0].sources] == ["rule", "precedent"]


def test_a_broker_correction_outranks_the_decision_it_replaced():
    index = PrecedentIndex(
        [
            precedent(1, code="6110303059", decided_at="2026-01-01T00:00:00+00:00"),
            precedent(2, code="6110202079", decided_at="2026-04-01T00:00:00+00:00"),
        ]
    )
    product = facts(DESCRIPTION, materials=["wool"])
    decision = classify(
        product, pack=fakes.pack(), reference=None, precedents=index, facts_sha256="f1"
    )
    assert decision.selected_code == "6110202079"
    older = next(c for c in decision.candidates if c.code == "6110303059")
    assert older.sources[0].detail["superseded_by_code"] == "6110202079"


def test_similar_precedents_for_other_codes_are_not_treated_as_superseded():
    index = PrecedentIndex(
        [
            precedent(1, sku="A", description="Knitted pullover sweater with ribbed collar"),
            precedent(2, sku="B", code="6110303059", description="Knitted pullover sweater ribbed"),
        ]
    )
    product = facts(DESCRIPTION, sku="NEW", materials=["wool"])
    decision = classify(product, pack=fakes.pack(), reference=None, precedents=index)
    for candidate in decision.candidates:
        assert "superseded_by_code" not in candidate.sources[0].detail


def test_an_index_without_a_decision_leaves_it_and_its_products_other_decisions_out():
    index = PrecedentIndex(
        [
            precedent(1, decided_at="2026-01-01T00:00:00+00:00"),  # the same product, earlier
            precedent(2),  # the decision used as a backtest case
            precedent(3, sku="TWIN"),  # another product with the same description
        ]
    )
    without = index.without(decision_ids=[2], skus=["SKU-1"])
    found = without.lookup("SKU-1", "f1", DESCRIPTION)
    assert [(p.decision_id, kind) for p, kind, _ in found] == [(3, "identical_description")]
    assert len(without) == 1 and len(index) == 3  # a view: the index itself is unchanged
    assert [p.decision_id for p, _, _ in index.lookup("SKU-1", "f1", DESCRIPTION)] == [2, 1, 3]
    assert index.without() is index
