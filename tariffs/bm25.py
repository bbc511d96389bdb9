"""Okapi BM25 ranking of short tariff descriptions, in memory. Pure (numpy sums the postings).

Used by ``Reference.search`` as advisory evidence for the classification engine; the web pages
search with PostgreSQL full-text instead.
"""

import functools
import hashlib
import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

_STOP = {
    "a",
    "an",
    "and",
    "or",
    "of",
    "the",
    "for",
    "in",
    "on",
    "to",
    "with",
    "by",
    "other",
    "not",
    "nesoi",
    "etc",
    "than",
    "its",
    "their",
}
_TOKEN = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """A light English stemmer: plurals only, so 'batteries' meets 'battery'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    return [stem(t) for t in _TOKEN.findall((text or "").lower()) if t not in _STOP]


@functools.lru_cache(maxsize=200_000)
def _segment_tokens(segment: str) -> tuple[str, ...]:
    return tuple(tokens(segment))


def _document_tokens(text: str) -> list[str]:
    # Full descriptions repeat their ancestors' segments thousands of times: tokenise each once.
    out: list[str] = []
    for segment in text.split(" › "):
        out.extend(_segment_tokens(segment))
    return out


class SearchIndex:
    """Okapi BM25 over a few tens of thousands of short documents."""

    K1 = 1.2
    B = 0.75

    def __init__(self, documents: list[tuple[str, str]]):
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = []
        for index, (_, text) in enumerate(documents):
            words = _document_tokens(text)
            for word, count in Counter(words).items():
                postings[word].append((index, count))
            lengths.append(len(words))
        average = sum(lengths) / max(len(lengths), 1) or 1.0
        norm = self.K1 * (1 - self.B + self.B * np.array(lengths, dtype=np.float64) / average)
        # Each posting's term weight, computed once (document indexes, weights), so a query only
        # multiplies by the idf; numpy does the same float operations as Python would.
        indexes, weights, offsets = [], [], [0]
        for posts in postings.values():
            found = np.fromiter((i for i, _ in posts), dtype=np.int64, count=len(posts))
            counts = np.fromiter((n for _, n in posts), dtype=np.float64, count=len(posts))
            indexes.append(found)
            weights.append(counts * (self.K1 + 1) / (counts + norm[found]))
            offsets.append(offsets[-1] + len(posts))
        total = len(documents)
        self._store(
            [code for code, _ in documents],
            list(postings),
            np.concatenate(indexes) if indexes else np.zeros(0, dtype=np.int64),
            np.concatenate(weights) if weights else np.zeros(0, dtype=np.float64),
            offsets,
            [math.log(1 + (total - len(p) + 0.5) / (len(p) + 0.5)) for p in postings.values()],
        )

    def _store(self, codes, words, indexes, weights, offsets: list[int], idf: list[float]):
        # Every word's postings are one slice of two flat arrays: an index read from a file is
        # then a few arrays and two dicts, not an array object per word.
        self.codes = codes
        self.size = len(codes)
        self.indexes, self.weights = indexes, weights
        self.spans = dict(zip(words, itertools.pairwise(offsets), strict=True))
        self.idf = dict(zip(words, idf, strict=True))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Return the index as flat arrays (what ``from_arrays`` reads back, value for value)."""
        return {
            "codes": np.array(self.codes, dtype=str),
            "words": np.array(list(self.spans), dtype=str),
            "offsets": np.array([0, *(end for _, end in self.spans.values())], dtype=np.int64),
            "indexes": self.indexes,
            "weights": self.weights,
            "idf": np.array(list(self.idf.values()), dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> "SearchIndex":
        """Return the index that ``to_arrays`` flattened: the same floats, so the same ranking.

        Raises ``ValueError`` when the arrays do not fit together (a damaged file).
        """
        words, offsets = arrays["words"].tolist(), arrays["offsets"].tolist()
        indexes, weights = arrays["indexes"], arrays["weights"]
        if (
            len(offsets) != len(words) + 1
            or offsets[-1] != len(indexes)
            or len(weights) != len(indexes)
            or indexes.dtype != np.int64
            or weights.dtype != np.float64
        ):
            raise ValueError("the stored word index is inconsistent")
        index = cls.__new__(cls)
        index._store(
            arrays["codes"].tolist(), words, indexes, weights, offsets, arrays["idf"].tolist()
        )
        return index

    def rank(
        self, text: str, limit: int, boost: Mapping[str, float] | None = None
    ) -> list[tuple[str, float]]:
        """Best ``limit`` documents for ``text``: ``(code, score / the query's ceiling)``.

        ``boost`` multiplies the weight of some query words (the article a product *is*, over
        its materials and details); the ceiling is boosted alike, so scores stay in [0, 1].
        """
        words = [w for w in dict.fromkeys(tokens(text)) if w in self.spans]
        if not words:
            return []
        factor = {t: f for w, f in (boost or {}).items() for t in tokens(w)}
        idf = {w: self.idf[w] * factor[w] if w in factor else self.idf[w] for w in words}
        # Each document's score sums its words' weights in query-word order, as a loop over the
        # postings would, so the floats (and so ties and order) are exactly the same; numpy only
        # does the adding (a common word such as "cotton" has thousands of postings).
        scores = np.zeros(self.size)
        for word in words:
            start, end = self.spans[word]
            scores[self.indexes[start:end]] += idf[word] * self.weights[start:end]
        ceiling = sum(idf[w] * (self.K1 + 1) for w in words) or 1.0
        found = np.flatnonzero(scores)
        if len(found) > limit:
            values = scores[found]
            threshold = np.partition(values, len(values) - limit)[len(values) - limit]
            found = found[values >= threshold]
        # Best ``limit`` by score, ties to the lower index (documents are in code order).
        best = found[np.lexsort((found, -scores[found]))[:limit]]
        return [
            (self.codes[i], round(min(score / ceiling, 1.0), 4))
            for i, score in zip(best.tolist(), scores[best].tolist(), strict=True)
        ]


# This module's own text: what turns documents into an index (the stop words, the stemmer, K1
# and B). Part of ``fingerprint``, so changed code never reads an index built by the old code;
# a version number to bump by hand would sooner or later be forgotten.
_CODE = Path(__file__).read_bytes()


def fingerprint(documents: list[tuple[str, str]]) -> str:
    """Return the SHA-256 of ``documents`` and of this module: the key of their stored index."""
    # NUL separates the fields: PostgreSQL text cannot hold one, so no two lists collide.
    text = "".join(f"{code}\0{words}\0" for code, words in documents)
    return hashlib.sha256(_CODE + text.encode()).hexdigest()
