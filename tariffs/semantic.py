"""Semantic search over a schedule: every declarable line embedded with its full description path.

A line's text is its full description (every ancestor's text, so "Other" lines read in full)
plus its HS 2022 subheading text. Vectors come from ``workbench.embeddings.static_encoder`` with
inverse-document-frequency weights over the schedule's own word pieces (a piece in half the
lines, "of" or "other", says little), centred on the schedule's mean vector (static vectors share
a large common direction that otherwise swamps the differences) and normalised, so a dot product
is a cosine.

Built once per schedule revision and stored under ``var/embeddings/`` keyed by the schedule's
source SHA-256 and the encoder version; ``tariffs.tasks.schedule_embed`` builds it in the
background after a load, and a worker that finds no file builds it itself (seconds) and keeps it.
"""

import bisect
import math
import threading
from collections import Counter, OrderedDict
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tariffs import derived
from workbench import embeddings

# Chapters 98 and 99 are special provisions, not what goods are (as in the word search).
SPECIAL_CHAPTERS = ("98", "99")
PREFETCH_KEEP = 1000  # query texts whose nearest lines are kept (a few worker batches)
GROUPS_PROBED = 40  # subheadings whose lines are compared with a query (of ~5,400)


class SemanticHit(NamedTuple):
    code: str
    similarity: float  # cosine in [-1, 1]


class SemanticIndex:
    """Line vectors of one schedule revision and the query weighting that goes with them."""

    def __init__(self, codes: list[str], matrix, mean, idf, encoder, key: str):
        self.codes = codes
        self.matrix = matrix
        self.mean = mean
        self.idf = idf
        self.encoder = encoder
        self.key = key
        # Nearest lines per query text, filled a batch at a time by ``prefetch`` (one matrix
        # product serves a worker's whole batch) and kept for repeated texts.
        self._found: OrderedDict[tuple[str, int], list[SemanticHit]] = OrderedDict()
        self._found_lock = threading.Lock()
        # Query vectors per text: a product's is asked for by the batch's prefetch, then again
        # by its own search.
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        # Two stages: the subheadings (HS6) whose mean vector is nearest, then every line of
        # those. Codes are sorted, so a subheading's lines are one slice of the matrix. A full
        # scan of ~20,000 lines costs 5 ms a query on these cores; this, a quarter of it.
        self._starts = np.array(
            [i for i, c in enumerate(codes) if i == 0 or c[:6] != codes[i - 1][:6]], dtype=np.int64
        )
        self._ends = np.append(self._starts[1:], len(codes)).astype(np.int64)
        if len(codes):
            centroids = np.add.reduceat(matrix, self._starts, axis=0)
            norms = np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
            self.centroids = (centroids / norms).astype(np.float32)
        else:
            self.centroids = np.zeros((0, matrix.shape[1]), dtype=np.float32)

    def vector(self, text: str):
        """Return the query vector of ``text`` in this index's space (None for no known piece)."""
        v = self._vectors.get(text)
        if v is None:
            ids = self.encoder.token_ids([text])[0]
            if not ids:
                return None
            v = self.idf[ids] @ self.encoder.table[ids]
            v = v / max(float(np.linalg.norm(v)), 1e-12) - self.mean
            v = v / max(float(np.linalg.norm(v)), 1e-12)
            v.flags.writeable = False  # shared by every caller that asks for this text
            self._keep_vector(text, v)
        return v

    def _keep_vector(self, text: str, v) -> None:
        with self._found_lock:
            self._vectors[text] = v
            while len(self._vectors) > PREFETCH_KEEP:
                self._vectors.popitem(last=False)

    def vectors(self, texts: list[str]):
        """Return one query vector per text (zeros for a text with no known word piece)."""
        out = np.zeros((len(texts), self.matrix.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            v = self.vector(text)
            if v is not None:
                out[row] = v
        return out

    def search(self, text: str, limit: int = 60) -> list[SemanticHit]:
        """Return the ``limit`` lines nearest to ``text``, nearest first (prefetched if asked)."""
        with self._found_lock:
            found = self._found.get((text, limit))
        if found is None:
            found = self.nearest(self.vector(text), limit)
            with self._found_lock:  # product types and names repeat across a catalog
                self._found[(text, limit)] = found
                if len(self._found) > PREFETCH_KEEP:
                    self._found.popitem(last=False)
        return found

    def prefetch(self, texts: list[str], limit: int = 60) -> None:
        """Find the nearest lines of many texts at once (one product over the subheadings)."""
        texts = [t for t in dict.fromkeys(texts) if t]
        vectors = [(t, v) for t in texts if (v := self.vector(t)) is not None]
        if not vectors:
            return
        group_sims = np.stack([v for _, v in vectors]) @ self.centroids.T
        found = [
            (text, self._from_groups(v, group_sims[row], limit))
            for row, (text, v) in enumerate(vectors)
        ]
        with self._found_lock:
            for text, hits in found:
                self._found[(text, limit)] = hits
            while len(self._found) > PREFETCH_KEEP:
                self._found.popitem(last=False)

    def _from_groups(self, v, group_sims, limit: int) -> list[SemanticHit]:
        probe = min(GROUPS_PROBED, len(group_sims))
        if probe == 0:
            return []
        groups = np.argpartition(-group_sims, probe - 1)[:probe]
        # Every line of the probed groups, group by group: their rows without a Python loop.
        starts, lengths = self._starts[groups], self._ends[groups] - self._starts[groups]
        offsets = np.cumsum(lengths) - lengths
        rows = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
        sims = self.matrix[rows] @ v
        limit = min(limit, len(rows))
        top = np.argpartition(-sims, limit - 1)[:limit]
        top = top[np.argsort(-sims[top], kind="stable")]
        codes = self.codes
        return [
            SemanticHit(codes[r], round(x, 4))
            for r, x in zip(rows[top].tolist(), sims[top].tolist(), strict=True)
        ]

    def nearest(self, v, limit: int = 60) -> list[SemanticHit]:
        """Return the ``limit`` lines nearest to the query vector ``v``, nearest first."""
        if v is None:
            return []
        return self._from_groups(v, self.centroids @ v, limit)

    def under(self, prefix: str, v, limit: int = 1) -> list[SemanticHit]:
        """Return the ``limit`` lines under a code prefix nearest to ``v``, nearest first."""
        lo = bisect.bisect_left(self.codes, prefix)
        hi = bisect.bisect_left(self.codes, prefix + "\x7f")
        if v is None or lo >= hi:
            return []
        sims = self.matrix[lo:hi] @ v
        order = np.argsort(-sims, kind="stable")[:limit]
        return [SemanticHit(self.codes[lo + i], round(float(sims[i]), 4)) for i in order]


class TransformerIndex(SemanticIndex):
    """Line vectors from the transformer itself (onnxruntime), queries through the same network.

    Same search as the static index (two stages over subheading means); only the vectors differ:
    a query is one pass of the network (a few ms on one thread), kept per text. The engine uses
    ``similarities`` to re-rank a product's best candidates.
    """

    def __init__(self, codes: list[str], matrix, encoder, key: str):
        super().__init__(codes, matrix, None, None, encoder, key)
        self._row = {code: i for i, code in enumerate(codes)}

    def vector(self, text: str):
        """Return the transformer's vector of ``text`` (None for an empty text).

        One text per pass: int8 activations are scaled per call, so a text batched with others
        would get a slightly different vector (cosine ~0.99); alone, a product's vector, and so
        its ranking, depends on its own text only.
        """
        if not text:
            return None
        v = self._vectors.get(text)
        if v is None:
            v = self.encoder.encode([text])[0]
            self._keep_vector(text, v)
        return v

    def similarities(self, text: str, codes: list[str]) -> dict[str, float]:
        """Return the cosine of ``text`` with each of ``codes`` that has a vector here."""
        v = self.vector(text)
        rows = [(c, i) for c in codes if (i := self._row.get(c)) is not None]
        if v is None or not rows:
            return {}
        sims = self.matrix[[i for _, i in rows]] @ v
        return {c: round(float(x), 4) for (c, _), x in zip(rows, sims, strict=True)}

    def prefetch_vectors(self, texts: list[str]) -> None:
        """Encode a worker's batch of query texts in one call of the network."""
        self._encode([t for t in texts if t])


def line_text(reference, line) -> str:
    return f"{line.full_description} {reference.hs_description(line.code)}".strip()


def _idf(encoder, ids_list) -> np.ndarray:
    df = Counter()
    for ids in ids_list:
        df.update(set(ids))
    n = len(ids_list)
    idf = np.full(encoder.table.shape[0], math.log(n + 1), dtype=np.float32)
    for piece, count in df.items():
        idf[piece] = math.log((n + 1) / (count + 0.5))
    return idf


def build(reference, encoder) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(codes, matrix, mean, idf)`` for the reference's declarable lines."""
    lines = _declarable_lines(reference)
    ids_list = encoder.token_ids([line_text(reference, line) for line in lines])
    idf = _idf(encoder, ids_list)
    encoder_weights, encoder.weights = encoder.weights, idf
    try:
        matrix = encoder.encode_ids(ids_list)
    finally:
        encoder.weights = encoder_weights
    mean = matrix.mean(axis=0) if len(lines) else np.zeros(encoder.dim, dtype=np.float32)
    matrix = matrix - mean
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return [line.code for line in lines], matrix.astype(np.float32), mean, idf


def index_key(reference, encoder) -> str:
    sha = getattr(reference, "sha256", "") or f"{reference.jurisdiction}-{reference.revision}"
    return f"{reference.jurisdiction}-{sha[:16]}-{encoder.version}"


def _path(key: str) -> Path:
    return embeddings.cache_dir() / f"schedule-{key}.npz"


def load_or_build(reference) -> SemanticIndex:
    """Return the reference's semantic index from ``var/embeddings/``, building it if absent.

    One process builds at a time per file (an advisory lock); the file is written whole or not at
    all, and a damaged one is built again (``tariffs.derived``). Raises
    ``embeddings.ModelUnavailable`` when the model cannot be loaded.
    """
    encoder = embeddings.static_encoder()
    key = index_key(reference, encoder)

    def arrays() -> dict:
        codes, matrix, mean, idf = build(reference, encoder)
        return {"codes": np.array(codes), "matrix": matrix, "mean": mean, "idf": idf}

    def index(data: dict) -> SemanticIndex:
        return SemanticIndex(
            data["codes"].tolist(), data["matrix"], data["mean"], data["idf"], encoder, key
        )

    return derived.load_or_build(_path(key), arrays, index)


def is_ready(reference) -> bool:
    """Whether the index file for ``reference`` exists (the model loads; nothing is built)."""
    try:
        return _path(index_key(reference, embeddings.static_encoder())).exists()
    except embeddings.ModelUnavailable:
        return False


def _declarable_lines(reference) -> list:
    """Declarable lines outside chapters 98/99, in code order (a prefix's lines are one slice)."""
    return sorted(
        (
            line
            for line in reference.lines()
            if line.declarable and not line.code.startswith(SPECIAL_CHAPTERS)
        ),
        key=lambda line: line.code,
    )


def transformer_lines(reference) -> tuple[list[str], list[str]]:
    """Return the codes and texts the transformer embeds: the same lines as ``build``."""
    lines = _declarable_lines(reference)
    return [line.code for line in lines], [line_text(reference, line) for line in lines]


def load_or_build_transformer(reference) -> TransformerIndex:
    """Return the reference's transformer index from ``var/embeddings/``, building it if absent.

    Building passes every line through the network once (int8 on onnxruntime, one thread: about
    4–5 minutes of one core for the 19,833 US lines; the numpy pass took some two hours). Raises
    ``embeddings.ModelUnavailable`` when the model or onnxruntime cannot be loaded.
    """
    from workbench import embeddings_onnx

    encoder = embeddings_onnx.onnx_transformer()
    key = index_key(reference, encoder)

    def arrays() -> dict:
        codes, texts = transformer_lines(reference)
        return {"codes": np.array(codes), "matrix": encoder.encode(texts, batch_size=32)}

    def index(data: dict) -> TransformerIndex:
        return TransformerIndex(data["codes"].tolist(), data["matrix"], encoder, key)

    return derived.load_or_build(_path(key), arrays, index)
