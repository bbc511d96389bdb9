"""Semantic retrieval: the model from the installed wheel, offline; the schedule's vectors per
revision; fusion with word search and the lexicon; word search alone when the model is missing."""

import socket

import numpy as np
import pytest

from classification.engine import classify
from classification.engine.calibration import UNCALIBRATED
from tariffs import lexicon as tariff_lexicon
from tariffs import reference as tariff_reference
from tariffs import semantic
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts
from workbench import embeddings

LINES = {
    "4202920000": "Trunks, suitcases, handbags: backpacks and rucksacks, outer surface of textile",
    "8471300100": "Portable automatic data processing machines, weighing not more than 10 kg",
    "8507600020": "Electric accumulators: lithium-ion batteries",
    "8407340000": "Spark-ignition reciprocating piston engines, cylinder capacity over 1,000 cc",
    "9102110000": "Wrist-watches, electrically operated, with mechanical display only",
    "8517130000": "Telephones for cellular networks: smartphones",
    "6912005000": "Ceramic tableware and kitchenware: mugs and cups",
    "9608100000": "Ball point pens",
}


def small_reference(sha256="test-semantic-1") -> tariff_reference.Reference:
    lines = [
        tariff_reference.Line(code, 1, text, text, (), "", "", "", True)
        for code, text in LINES.items()
    ]
    return tariff_reference.Reference(
        tariff_reference.ReferenceData(
            jurisdiction="US",
            revision="semantic test",
            schedule_id=None,
            national=True,
            has_rates=False,
            lines=lines,
            sha256=sha256,
        )
    )


@pytest.fixture
def offline(monkeypatch):
    """No hub, no sockets: anything that tried to download would fail loudly."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")

    def refuse(*args, **kwargs):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    embeddings.reset()
    yield
    embeddings.reset()


def test_the_model_loads_from_the_installed_wheel_with_the_network_off(offline):
    encoder = embeddings.static_encoder()
    vectors = encoder.encode(["laptop backpack", "rucksack for a notebook computer", "frozen fish"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embeddings.MODEL_NAME in encoder.version


def test_a_distilled_token_vector_is_the_models_output_for_that_token_alone(offline):
    encoder = embeddings.static_encoder()
    transformer = embeddings.Transformer()
    (token,) = encoder.token_ids(["pen"])[0]
    full = transformer.encode(["pen"])[0]
    static = encoder.table[token] / np.linalg.norm(encoder.table[token])
    assert float(full @ static) > 0.999


def test_a_missing_model_says_why_and_the_engine_searches_by_words(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_EMBEDDING_MODEL_DIR", str(tmp_path / "nowhere"))
    embeddings.reset()
    try:
        with pytest.raises(embeddings.ModelUnavailable, match=r"model\.safetensors is missing"):
            embeddings.static_encoder()
        reference = small_reference(sha256="test-semantic-missing")
        index, why = reference.semantic(wait=True)
        assert index is None
        assert "semantic search unavailable" in why and "word search only" in why
        decision = classify(
            facts("Ceramic coffee mug, glazed", materials=["ceramic"]),
            pack=None,
            reference=reference,
            rank_without_pack=True,
            calibration=UNCALIBRATED,
        )
        assert decision.candidates[0].code == "6912005000"
        assert decision.retrieval["semantic"] == why
        # Words, the material's residual line and the table-ware reading (each its heading's
        # first line without meaning); nothing from meaning.
        kinds = {e.kind for c in decision.candidates for e in c.sources}
        assert kinds == {"search", "residual", "reading"}
    finally:
        embeddings.reset()


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("laptop rucksack", "4202920000"),
        ("coffee mug", "6912005000"),
        ("ballpoint pen", "9608100000"),
        ("portable charger power bank", "8507600020"),
    ],
)
def test_everyday_words_find_the_legal_text_by_meaning(query, code):
    index, why = small_reference().semantic(wait=True)
    assert why == ""
    assert index.search(query, 1)[0].code == code


def test_the_vectors_are_stored_per_revision_and_read_back_without_rebuilding(monkeypatch):
    first, _ = small_reference(sha256="test-semantic-stored").semantic(wait=True)
    assert "test-sema" in first.key and first.key.startswith("US-")

    def refuse(*args, **kwargs):
        raise AssertionError("the stored vectors should have been read, not rebuilt")

    monkeypatch.setattr(semantic, "build", refuse)
    again, why = small_reference(sha256="test-semantic-stored").semantic(wait=True)
    assert why == ""
    assert again.codes == first.codes
    assert np.array_equal(again.matrix, first.matrix)


def test_meaning_and_the_lexicon_add_their_own_evidence_to_the_candidates():
    reference = small_reference()
    reference.semantic(wait=True)
    lexicon = tariff_lexicon.LexiconIndex(
        [tariff_lexicon.Entry("power bank", ("8507",), "Accumulators, heading 8507.")]
    )
    decision = classify(
        facts("Power bank 10000 mAh with two USB ports", materials=["plastic"]),
        pack=None,
        reference=reference,
        rank_without_pack=True,
        lexicon=lexicon,
        calibration=UNCALIBRATED,
    )
    best = decision.candidates[0]
    assert best.code == "8507600020"
    kinds = {e.kind for e in best.sources}
    assert {"semantic", "lexicon"} <= kinds
    lexicon_evidence = next(e for e in best.sources if e.kind == "lexicon")
    assert lexicon_evidence.ref == "power bank"
    assert decision.retrieval == {
        "query": "power bank mah usb port finished consumer plastic retail sale",
        "semantic": "on",
        "rerank": "the transformer re-rank is off (WORKBENCH_TRANSFORMER_RERANK)",
        "lexicon": [
            {"term": "power bank", "codes": ["8507"], "too_generic": False, "source": "lexicon"}
        ],
    }
    assert "everyday term “power bank”" in best.rationale


def test_a_worker_does_not_wait_for_the_vectors_and_says_so_meanwhile(monkeypatch):
    gate = __import__("threading").Event()
    real = semantic.load_or_build

    def slow(reference):
        gate.wait(10)
        return real(reference)

    monkeypatch.setattr(semantic, "load_or_build", slow)
    reference = small_reference(sha256="test-semantic-slow")
    index, why = reference.semantic()
    assert index is None and "is being built; word search only" in why
    gate.set()
    index, why = reference.semantic(wait=True)
    assert index is not None and why == ""


def test_the_packs_synonyms_are_everyday_terms_of_the_tenant():
    reference = small_reference()
    reference.semantic(wait=True)
    pack = fakes.pack(rules=fakes.RULES + '\n[synonyms]\n"hip flask mug" = "6912"\n')
    assert pack.synonyms == (("hip flask mug", ("6912",)),)
    decision = classify(
        facts("Hip flask mug for the office", materials=["ceramic"], product_type="mug"),
        pack=pack,
        reference=reference,
        calibration=UNCALIBRATED,
    )
    pointed = [c for c in decision.candidates if c.code == "6912005000"]
    assert pointed, [c.code for c in decision.candidates]
    (evidence,) = [e for e in pointed[0].sources if e.kind == "lexicon"]
    assert (evidence.ref, evidence.detail["source"]) == ("hip flask mug", "pack")
    assert decision.retrieval["lexicon"][0]["source"] == "pack"
