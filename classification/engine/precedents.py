"""The tenant's finalized broker decisions as a candidate source, strongest match first.

Four kinds of precedent, in this order of strength: the same SKU whose facts have not changed
since the broker decided it, an identical normalised description (any SKU), products nearest in
meaning (cosine similarity of their embedded name, type, description, materials and use of at
least the index's ``meaning_min``), then similar descriptions (word-set similarity of at least
``SIMILAR_MIN``). Within a kind the most similar, then the most recent decision comes first, so a
broker's later correction outranks an older one.

Meaning needs a ``vectorize`` function (texts → normalised vectors): the transformer itself
(``classification.precedents``), or the schedule's static vectors (``tariffs.semantic``) where
the transformer cannot run; each space has its own threshold. Without one the index matches by
words only. Vectors are kept per decision id across indexes in this process, so a newly
finalized decision is embedded once and the others are not embedded again.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

from classification.engine.types import Evidence
from rulepacks import routing
from rulepacks.format.normalize import tokens

SAME_SKU = "same_sku"
IDENTICAL_DESCRIPTION = "identical_description"
SIMILAR_DESCRIPTION = "similar_description"
SIMILAR_MEANING = "similar_meaning"
KINDS = (SAME_SKU, IDENTICAL_DESCRIPTION, SIMILAR_MEANING, SIMILAR_DESCRIPTION)
KIND_LABELS = {
    SAME_SKU: "same SKU, facts unchanged",
    IDENTICAL_DESCRIPTION: "identical description",
    SIMILAR_MEANING: "similar product by meaning",
    SIMILAR_DESCRIPTION: "similar description",
}
SIMILAR_MIN = 0.5
SIMILAR_LIMIT = 5
# Cosine similarity from which a finalized product counts as a precedent by meaning, per vector
# space; each chosen on the ATLAS learning curve's validation half (seeds 1-3, docs/engine.md):
# below it, neighbours were right at 6 digits less often than the search's own first candidate.
MEANING_MIN = 0.65  # static vectors distilled from the model (tariffs.semantic)
MEANING_MIN_TRANSFORMER = 0.7  # the transformer's own vectors (workbench.embeddings_onnx)
# The transformer pass (~2 ms a product) is spent only when the cheap static vectors see a
# plausible neighbour. On the ATLAS learning curve (seeds 1-3) the gains are the same on both
# halves from 0.35 to 0.40 and fall on the test half from 0.45 (docs/engine.md).
SCREEN_MIN = 0.4
MEANING_LIMIT = 5
_VECTOR_CACHE_SIZE = 200_000
_vectors: dict[tuple, object] = {}
# Articles and conjunctions carry no meaning for similarity; generic words ("parts") neither.
_NOISE = routing.GENERIC_WORDS


@dataclass(frozen=True)
class Precedent:
    decision_id: int
    sku: str
    facts_sha256: str
    description: str
    code: str
    broker: str
    decided_at: str  # ISO date-time
    text: str = ""  # name, product type, description, materials, use: what meaning compares


def precedent_text(facts) -> str:
    """Return the text a product is compared by meaning: the article first, then its facts."""
    materials = facts.get("materials") or ()
    if isinstance(materials, str):
        materials = [materials]
    parts = [
        str(facts.get("name") or ""),
        str(facts.get("product_type") or ""),
        " ".join(str(facts.get("description") or "").split()[:40]),
        " ".join(str(m) for m in materials),
        str(facts.get("intended_use") or ""),
    ]
    return " ".join(p for p in parts if p)


def description_key(description: str) -> str:
    """Return the normalised form two descriptions must share to count as identical."""
    return " ".join(tokens(description or ""))


def meaningful_words(description: str) -> frozenset[str]:
    return frozenset(w for w in tokens(description or "") if w not in _NOISE and not w.isdigit())


class PrecedentIndex:
    """Finalized decisions indexed by SKU, normalised description and meaningful words."""

    def __init__(
        self,
        precedents: Iterable[Precedent],
        *,
        vectorize=None,
        space: str = "",
        meaning_min: float = MEANING_MIN,
        screen=None,
        screen_space: str = "",
        screen_min: float = SCREEN_MIN,
    ):
        self._all: list[Precedent] = sorted(
            precedents, key=lambda p: (p.decided_at, p.decision_id), reverse=True
        )  # newest first, so every bucket below is newest first too
        self._by_sku: dict[str, list[Precedent]] = defaultdict(list)
        self._by_key: dict[str, list[Precedent]] = defaultdict(list)
        self._by_word: dict[str, list[int]] = defaultdict(list)
        self._words: list[frozenset[str]] = []
        self._position: dict[int, int] = {}
        for i, p in enumerate(self._all):
            self._position[p.decision_id] = i
            self._by_sku[p.sku].append(p)
            self._by_key[description_key(p.description)].append(p)
            words = meaningful_words(p.description)
            self._words.append(words)
            for w in words:
                self._by_word[w].append(i)
        self._vectorize = vectorize
        self.space = space if vectorize is not None else ""
        self.meaning_min = meaning_min
        self._matrix = self._embed(space) if vectorize is not None and self._all else None
        # A cheaper space (``screen``: texts → vectors) that must find a neighbour of at least
        # ``screen_min`` before ``vectorize`` is run on the product's text.
        self._screen = screen if vectorize is not None else None
        self.screen_space = screen_space if self._screen is not None else ""
        self.screen_min = screen_min
        self._screen_matrix = (
            self._embed(screen_space, screen) if self._screen is not None and self._all else None
        )

    @property
    def by_meaning(self) -> bool:
        return self._vectorize is not None

    def _embed(self, space: str, vectorize=None):
        import numpy as np

        vectorize = vectorize or self._vectorize
        keys = [(space, p.decision_id, p.text or p.description) for p in self._all]
        missing = [k for k in keys if k not in _vectors]
        if missing:
            if len(_vectors) + len(missing) > _VECTOR_CACHE_SIZE:
                _vectors.clear()
                missing = keys
            for key, vector in zip(missing, vectorize([k[2] for k in missing]), strict=True):
                _vectors[key] = vector
        return np.stack([_vectors[k] for k in keys]).astype(np.float32)

    def __len__(self) -> int:
        return len(self._all)

    def lookup(
        self, sku: str, facts_sha256: str, description: str, text: str = ""
    ) -> list[tuple[Precedent, str, float]]:
        """Return ``(precedent, kind, similarity)`` best first; each decision appears once."""
        return self._lookup(sku, facts_sha256, description, text, frozenset(), ())

    def without(self, *, decision_ids: Iterable[int] = (), skus: Iterable[str] = ()):
        """Return this index as if ``decision_ids`` and every decision on ``skus`` were not final.

        For backtests: a finalized decision used as a case must not be answered by itself, nor
        by its product's other decisions. A view sharing this index (nothing is rebuilt), so
        each case of a few thousand costs only its own lookups.
        """
        skus = set(skus)
        left_out = frozenset(decision_ids) | {
            p.decision_id for sku in skus for p in self._by_sku.get(sku, ())
        }
        return _Without(self, left_out) if left_out else self

    def _lookup(
        self,
        sku: str,
        facts_sha256: str,
        description: str,
        text: str,
        left_out: frozenset[int],
        positions: Sequence[int],  # of the left-out decisions in ``self._all``
    ) -> list[tuple[Precedent, str, float]]:
        found: list[tuple[Precedent, str, float]] = []
        seen: set[int] = set(left_out)

        def add(p: Precedent, kind: str, similarity: float) -> None:
            if p.decision_id not in seen:
                seen.add(p.decision_id)
                found.append((p, kind, similarity))

        if sku and facts_sha256:
            for p in self._by_sku.get(sku, ()):
                if p.facts_sha256 == facts_sha256:
                    add(p, SAME_SKU, 1.0)
        key = description_key(description)
        if key:
            for p in self._by_key.get(key, ()):
                add(p, IDENTICAL_DESCRIPTION, 1.0)
        for p, similarity in self._nearest(text or description, positions):
            add(p, SIMILAR_MEANING, similarity)
        for p, similarity in self._similar(meaningful_words(description), left_out):
            add(p, SIMILAR_DESCRIPTION, similarity)
        return found

    def _nearest(self, text: str, positions: Sequence[int] = ()) -> list[tuple[Precedent, float]]:
        if self._matrix is None or not text:
            return []
        import numpy as np

        if self._screen_matrix is not None:
            near = self._screen_matrix @ self._screen([text])[0]
            if positions:
                near[list(positions)] = -np.inf
            if not len(near) or float(near.max()) < self.screen_min:
                return []  # no plausible neighbour: the costly pass would find none
        vector = self._vectorize([text])[0]
        sims = self._matrix @ vector
        if positions:  # rank only what is left: the nearest five of the others
            sims[list(positions)] = -np.inf
        limit = min(MEANING_LIMIT, len(sims))
        top = np.argpartition(-sims, limit - 1)[:limit]
        ranked = sorted(
            ((round(float(sims[i]), 4), int(i)) for i in top), key=lambda s: (-s[0], s[1])
        )
        return [(self._all[i], s) for s, i in ranked if s >= self.meaning_min]

    def _similar(
        self, words: frozenset[str], left_out=frozenset()
    ) -> list[tuple[Precedent, float]]:
        if not words:
            return []
        # Counting shared words over the postings in C (Counter over a chained iterable) keeps
        # lookups fast when common words ("steel", "cotton") have long posting lists.
        shared = Counter(chain.from_iterable(self._by_word.get(w, ()) for w in words))
        size = len(words)
        scored = []
        for i, common in shared.items():
            if left_out and self._all[i].decision_id in left_out:
                continue
            # Jaccard = common / (|query| + |other| - common) >= SIMILAR_MIN
            similarity = common / (size + len(self._words[i]) - common)
            if similarity >= SIMILAR_MIN:
                scored.append((round(similarity, 4), i))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [(self._all[i], s) for s, i in scored[:SIMILAR_LIMIT]]


class _Without:
    """A ``PrecedentIndex`` with some decisions left out (``PrecedentIndex.without``)."""

    def __init__(self, index: PrecedentIndex, left_out: frozenset[int]):
        self._index = index
        self._left_out = left_out
        self._positions = tuple(
            index._position[pk] for pk in sorted(left_out) if pk in index._position
        )
        self._size = len(index) - len(self._positions)

    @property
    def by_meaning(self) -> bool:
        return self._index.by_meaning

    @property
    def space(self) -> str:
        return self._index.space

    @property
    def meaning_min(self) -> float:
        return self._index.meaning_min

    @property
    def screen_space(self) -> str:
        return self._index.screen_space

    @property
    def screen_min(self) -> float:
        return self._index.screen_min

    def __len__(self) -> int:
        return self._size

    def lookup(self, sku: str, facts_sha256: str, description: str, text: str = ""):
        return self._index._lookup(
            sku, facts_sha256, description, text, self._left_out, self._positions
        )


def _best_first(scored: tuple[float, int]) -> tuple[float, int]:
    return (-scored[0], scored[1])


_RESEMBLING = (SIMILAR_MEANING, SIMILAR_DESCRIPTION)  # other products, not this one


def set_aside_contradicted(entries, readings) -> None:
    """Set aside precedents of *other* products (similar by meaning or words) whose code
    contradicts what this product's text states (``Proposal.contradicts`` of every structured
    reading): a "men's knit pullover of cotton" is close in meaning to a pullover of polyester,
    but its subheading is not this one's, and PVC sheets are not PVC floor tiles. Such a precedent
    stays in the record, with why, at weight 0; precedents of the same product (SKU or identical
    description) always count.
    """
    if not readings:
        return
    for entry in entries:  # the engine's candidate codes: ``.code``, ``.evidence``, ``.rationale``
        if not all(p.contradicts(entry.code) for p in readings):
            continue
        reading, refs = readings[0], []
        for i, e in enumerate(entry.evidence):
            if e.kind == "precedent" and e.detail.get("kind") in _RESEMBLING:
                detail = {**e.detail, "set_aside": f"the text reads as {reading.label}"}
                detail["set_aside_by"] = reading.basis
                entry.evidence[i] = Evidence("precedent", e.ref, 0.0, detail)
                refs.append(f"#{e.ref}")
        if refs:
            entry.rationale.append(
                f"Precedent{'s' if len(refs) > 1 else ''} {', '.join(refs)} set aside: this "
                f"product's text reads as {reading.label}."
            )
