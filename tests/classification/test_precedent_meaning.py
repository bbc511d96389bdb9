"""Which vectors compare a product with the tenant's precedents: the transformer itself when it
runs, the schedule's static vectors where it cannot, words only without either; each with its own
threshold, and a product's vector never depends on the texts encoded beside it."""

import numpy as np
import pytest

from classification import precedents
from classification.engine import precedents as engine_precedents
from workbench import embeddings, embeddings_onnx


class _Static:
    key = "schedule-US-static-test"

    def vectors(self, texts):
        return np.ones((len(texts), 4), dtype=np.float32) / 2.0


class _Reference:
    def __init__(self, ready: bool):
        self.ready = ready

    def semantic(self):
        return (_Static(), "") if self.ready else (None, "vectors being built")


@pytest.fixture
def schedule(monkeypatch):
    def use(ready: bool):
        reference = _Reference(ready)
        monkeypatch.setattr(precedents.tariff_reference, "get_reference", lambda j: reference)

    return use


@pytest.fixture
def no_transformer(monkeypatch):
    def unavailable():
        raise embeddings.ModelUnavailable("onnxruntime is not installed (test)")

    monkeypatch.setattr(embeddings_onnx, "onnx_transformer", unavailable)


def test_the_transformer_compares_precedents_when_it_runs(settings, schedule):
    settings.PRECEDENT_TRANSFORMER = True
    schedule(ready=False)
    try:
        encoder = embeddings_onnx.onnx_transformer()
    except embeddings.ModelUnavailable as err:
        pytest.skip(f"the ONNX encoder cannot run here: {err}")
    found = precedents.meaning("US")
    vectorize = found["vectorize"]
    assert found["space"] == encoder.version and "onnx" in found["space"]
    assert found["meaning_min"] == engine_precedents.MEANING_MIN_TRANSFORMER
    texts = ["Wireless bluetooth earbuds with charging case", "stainless steel coffee mug"]
    together = vectorize(texts)
    assert together.shape == (2, encoder.dim)
    # One pass per text: a product's vector is the same alone as beside another text.
    assert np.array_equal(vectorize(texts[:1])[0], together[0])
    assert np.array_equal(vectorize(texts[1:])[0], together[1])
    assert vectorize([]).shape == (0, encoder.dim)


def test_the_static_vectors_screen_for_the_transformer_when_ready(settings, schedule):
    settings.PRECEDENT_TRANSFORMER = True
    try:
        embeddings_onnx.onnx_transformer()
    except embeddings.ModelUnavailable as err:
        pytest.skip(f"the ONNX encoder cannot run here: {err}")
    schedule(ready=True)
    found = precedents.meaning("US")
    assert found["screen_space"] == _Static.key and found["screen"](["a"]).shape == (1, 4)
    schedule(ready=False)
    assert "screen" not in precedents.meaning("US")  # the transformer alone, unscreened


def test_without_the_transformer_the_static_space_and_its_threshold(schedule, no_transformer):
    schedule(ready=True)
    found = precedents.meaning("US")
    assert found["space"] == _Static.key
    assert found["meaning_min"] == engine_precedents.MEANING_MIN
    assert "screen" not in found
    assert found["vectorize"](["a"]).shape == (1, 4)


def test_switched_off_the_transformer_is_not_loaded(settings, schedule, monkeypatch):
    settings.PRECEDENT_TRANSFORMER = False

    def must_not_load():
        raise AssertionError("the transformer was loaded although switched off")

    monkeypatch.setattr(embeddings_onnx, "onnx_transformer", must_not_load)
    schedule(ready=True)
    found = precedents.meaning("US")
    assert (found["space"], found["meaning_min"]) == (_Static.key, engine_precedents.MEANING_MIN)


def test_with_neither_precedents_match_by_words_only(schedule, no_transformer):
    schedule(ready=False)
    assert precedents.meaning("US") == {}
