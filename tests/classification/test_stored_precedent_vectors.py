"""The transformer's vectors of finalized decisions are stored once per machine: a worker that
starts reads the bytes another one's pass gave instead of passing every precedent through the
network again; a damaged file is encoded again, a new model version is a new folder."""

import numpy as np
import pytest

from classification import precedents
from workbench import embeddings_onnx

pytest.importorskip("onnxruntime")

TEXTS = ["Wireless bluetooth earbuds", "stainless steel coffee mug", "Wireless bluetooth earbuds"]


class FakeEncoder:
    """Stands in for the ONNX encoder: a vector per text, and a count of the passes run."""

    dim = 4

    def __init__(self, version="minilm-onnx1-int8-test"):
        self.version = version
        self.passes: list[str] = []

    def encode(self, texts):
        assert len(texts) == 1, "one text per pass"
        self.passes.append(texts[0])
        seed = sum(texts[0].encode())
        return np.random.default_rng(seed).standard_normal((1, self.dim)).astype(np.float32)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path / "embeddings"


def test_each_text_is_encoded_once_per_machine(var_dir):
    first = FakeEncoder()
    found = embeddings_onnx.encode_each_stored(first, TEXTS)
    assert first.passes == TEXTS[:2]  # the repeated text once
    second = FakeEncoder()  # another worker process
    again = embeddings_onnx.encode_each_stored(second, TEXTS)
    assert second.passes == []
    for text in TEXTS:
        assert again[text].tobytes() == found[text].tobytes()
        assert again[text].tobytes() == FakeEncoder().encode([text])[0].tobytes()


def test_a_new_encoder_version_does_not_read_the_old_vectors(var_dir):
    embeddings_onnx.encode_each_stored(FakeEncoder(), TEXTS)
    newer = FakeEncoder(version="minilm-onnx2-int8-test")
    embeddings_onnx.encode_each_stored(newer, TEXTS)
    assert newer.passes == TEXTS[:2]


@pytest.mark.parametrize("damage", [b"", b"garbage", "wrong shape"])
def test_a_damaged_vector_file_is_encoded_again(var_dir, damage):
    expected = embeddings_onnx.encode_each_stored(FakeEncoder(), TEXTS[:1])[TEXTS[0]]
    [path] = var_dir.rglob("*.npy")
    if damage == "wrong shape":
        np.save(path, np.zeros(3, dtype=np.float32))
    else:
        path.write_bytes(damage)
    encoder = FakeEncoder()
    found = embeddings_onnx.encode_each_stored(encoder, TEXTS[:1])
    assert encoder.passes == TEXTS[:1]
    assert found[TEXTS[0]].tobytes() == expected.tobytes()
    assert np.load(path).tobytes() == expected.tobytes()  # stored whole again


def test_an_unwritable_store_still_gives_the_vectors(var_dir, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", full_disk)
    encoder = FakeEncoder()
    found = embeddings_onnx.encode_each_stored(encoder, TEXTS)
    assert set(found) == set(TEXTS) and encoder.passes == TEXTS[:2]
    assert not list(var_dir.rglob("*.npy"))


def test_precedents_are_read_from_the_store_and_other_texts_encoded(var_dir):
    encoder = FakeEncoder()
    vectorize = precedents._one_at_a_time(encoder)
    vectorize.remember(TEXTS)
    assert encoder.passes == TEXTS[:2]
    other = "a spacer ring for a pneumatic valve"
    vectors = vectorize([TEXTS[1], other, TEXTS[0]])
    assert encoder.passes == [*TEXTS[:2], other]  # only the product's own text is a new pass
    for row, text in zip(vectors, [TEXTS[1], other, TEXTS[0]], strict=True):
        assert row.tobytes() == FakeEncoder().encode([text])[0].tobytes()
    assert vectorize([]).shape == (0, encoder.dim)
