"""Precedents by meaning: the tenant's finalized products nearest in meaning, above a threshold,
cited with broker, date and similarity; exact matches stay strongest; vectors kept per decision."""

import zlib

import numpy as np
import pytest

from classification.engine import classify
from classification.engine import precedents as prec
from classification.engine.calibration import UNCALIBRATED
from tests.classification.engine.fakes import facts
from tests.tariff_fakes import FakeReference

BACKPACKS = {"4202920000": ("Backpacks with outer surface of textile materials", True)}


class BagOfWords:
    """A stand-in for the schedule's semantic space: hashed words, normalised. Counts texts."""

    def __init__(self):
        self.embedded: list[str] = []

    def __call__(self, texts):
        self.embedded += texts
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace(",", " ").split():
                out[row, zlib.crc32(word.encode()) % 64] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def precedent(pk, text, code, *, sku=None, sha="old"):
    return prec.Precedent(
        decision_id=pk,
        sku=sku or f"SKU-{pk}",
        facts_sha256=sha,
        description=text,
        code=code,
        broker="bea",
        decided_at=f"2026-11-{pk:02d}T09:00:00+00:00",
        text=text,
    )


def test_a_product_similar_in_meaning_cites_the_brokers_decision_with_its_similarity():
    index = prec.PrecedentIndex(
        [precedent(3, "rucksack polyester padded laptop sleeve", "4202920000")],
        vectorize=BagOfWords(),
        space="test",
    )
    product = facts("Rucksack of polyester with a padded laptop sleeve and bottle pocket")
    decision = classify(
        product,
        pack=None,
        reference=FakeReference(search=[], lines=BACKPACKS),
        precedents=index,
        rank_without_pack=True,
        calibration=UNCALIBRATED,
    )
    best = decision.candidates[0]
    assert best.code == "4202920000"
    (evidence,) = [e for e in best.sources if e.kind == "precedent"]
    assert evidence.ref == "3"
    assert evidence.detail["kind"] == prec.SIMILAR_MEANING
    assert evidence.detail["broker"] == "bea"
    assert evidence.detail["decided_at"].startswith("2026-11-03")
    assert prec.MEANING_MIN <= evidence.detail["similarity"] < 1.0
    assert "similar product by meaning" in best.rationale
    assert evidence.weight < 0.82  # a neighbour by meaning never classifies alone


def test_products_below_the_threshold_are_not_precedents():
    index = prec.PrecedentIndex(
        [precedent(3, "stainless steel kitchen knife", "8211920000")],
        vectorize=BagOfWords(),
        space="test",
    )
    found = index.lookup("SKU-9", "new", "wool scarf", "wool scarf knitted")
    assert found == []


def test_the_same_product_outranks_a_neighbour_by_meaning():
    same = precedent(5, "cotton tee", "6109100012", sku="TEE-1", sha="facts-1")
    near = precedent(6, "knitted cotton tee crew neck", "6109100040")
    index = prec.PrecedentIndex([same, near], vectorize=BagOfWords(), space="test")
    found = index.lookup("TEE-1", "facts-1", "knitted cotton tee", "knitted cotton tee crew neck")
    assert [(p.decision_id, kind) for p, kind, _ in found][:2] == [
        (5, prec.SAME_SKU),
        (6, prec.SIMILAR_MEANING),
    ]


def test_a_newly_finalized_decision_is_embedded_without_embedding_the_others_again():
    vectorize = BagOfWords()
    first = [precedent(i, f"product number {i} of steel", "7323930080") for i in range(1, 5)]
    prec.PrecedentIndex(first, vectorize=vectorize, space="test-incremental")
    assert len(vectorize.embedded) == 4
    later = [*first, precedent(9, "steel saucepan with lid", "7323930080")]
    prec.PrecedentIndex(later, vectorize=vectorize, space="test-incremental")
    assert vectorize.embedded[4:] == ["steel saucepan with lid"]


def test_without_a_semantic_space_precedents_match_by_words_only():
    index = prec.PrecedentIndex([precedent(3, "rucksack polyester laptop sleeve", "4202920000")])
    assert not index.by_meaning
    found = index.lookup("SKU-9", "new", "rucksack polyester laptop sleeve pocket")
    assert [kind for _, kind, _ in found] == [prec.SIMILAR_DESCRIPTION]


def test_an_index_without_a_decision_ranks_the_nearest_of_the_others():
    texts = [f"rucksack polyester padded laptop sleeve model {n}" for n in range(7)]
    index = prec.PrecedentIndex(
        [precedent(pk, text, "4202920000") for pk, text in enumerate(texts, 1)],
        vectorize=BagOfWords(),
        space="test",
    )
    query = "rucksack polyester padded laptop sleeve"
    nearest = [p.decision_id for p, _ in index._nearest(query)]
    assert len(nearest) == prec.MEANING_LIMIT
    left_out = index.without(decision_ids=nearest[:2])
    found = [p.decision_id for p, kind, _ in left_out.lookup("Q", "", "", query)]
    assert not set(found) & set(nearest[:2])
    # The five nearest of the others: the two beyond the first five come in.
    assert set(found) == set(range(1, 8)) - set(nearest[:2])


def test_each_vector_space_has_its_own_threshold():
    near = precedent(4, "rucksack polyester padded laptop sleeve", "4202920000")
    query = "rucksack polyester laptop sleeve pocket"
    similarity = float(BagOfWords()([near.text])[0] @ BagOfWords()([query])[0])
    below, above = similarity - 0.05, similarity + 0.05
    low = prec.PrecedentIndex([near], vectorize=BagOfWords(), space="low", meaning_min=below)
    high = prec.PrecedentIndex([near], vectorize=BagOfWords(), space="high", meaning_min=above)
    assert [k for _, k, _ in low.lookup("Q", "", "", query)] == [prec.SIMILAR_MEANING]
    assert [k for _, k, _ in high.lookup("Q", "", "", query)] == []
    assert (low.space, low.meaning_min) == ("low", below)
    assert high.without(decision_ids=[9]).meaning_min == above  # a backtest view keeps it


def test_the_weight_of_a_neighbour_starts_at_its_spaces_threshold():
    near = precedent(4, "rucksack polyester padded laptop sleeve", "4202920000")
    product = facts("rucksack polyester padded laptop sleeve pocket")
    text = prec.precedent_text(product)
    similarity = float(BagOfWords()([near.text])[0] @ BagOfWords()([text])[0])
    floor = similarity - 0.01
    index = prec.PrecedentIndex([near], vectorize=BagOfWords(), space="floor", meaning_min=floor)
    decision = classify(
        product,
        pack=None,
        reference=FakeReference(search=[], lines=BACKPACKS),
        precedents=index,
        rank_without_pack=True,
        calibration=UNCALIBRATED,
    )
    (evidence,) = [e for e in decision.candidates[0].sources if e.kind == "precedent"]
    # 0.01 above its space's threshold: barely above the base weight of a neighbour by meaning.
    assert evidence.weight == pytest.approx(0.3 + 0.45 * 0.01 / (1 - floor), abs=1e-3)
    assert decision.retrieval["precedents"] == {
        "meaning": "floor",
        "min_similarity": pytest.approx(floor),
    }


class Counting(BagOfWords):
    """The costly space of a screened index: counts the product texts it is asked for."""


def test_the_costly_pass_runs_only_when_the_screen_sees_a_plausible_neighbour():
    costly, cheap = Counting(), BagOfWords()
    near = precedent(4, "rucksack polyester padded laptop sleeve", "4202920000")
    index = prec.PrecedentIndex(
        [near],
        vectorize=costly,
        space="costly",
        meaning_min=0.5,
        screen=cheap,
        screen_space="cheap",
        screen_min=0.3,
    )
    assert costly.embedded == [near.text]  # the precedents, once
    assert index.lookup("Q", "", "", "wool scarf knitted") == []
    assert costly.embedded == [near.text]  # nothing like it by the screen: no costly pass
    found = index.lookup("Q", "", "", "rucksack polyester laptop sleeve")
    assert [k for _, k, _ in found] == [prec.SIMILAR_MEANING]
    assert costly.embedded[-1] == "rucksack polyester laptop sleeve"
    view = index.without(decision_ids=[4])  # a backtest leaving the only neighbour out
    assert view.lookup("Q", "", "", "rucksack polyester laptop sleeve") == []
    assert (view.screen_space, view.screen_min) == ("cheap", 0.3)
