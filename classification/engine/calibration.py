"""Calibrated confidence: the estimated probability that the selected code is right at 6 digits.

A logistic model over features of the evidence behind the best candidate (which sources found it,
the rule's weight, the precedent's kind and similarity, the retrieval share and margin, whether
the word and meaning rankings agree, conflicts) maps a decision to the probability that its
HS6 subheading is right, fitted on labelled cases. The pack's minimum confidence then means what
it says: what is routed ``classified`` is right at least that often on labelled data.

``Calibration`` is plain data (coefficients and a version); applying it is a dot product, so the
engine stays pure and fast. ``fit`` (scikit-learn's logistic regression) runs offline: the
default fit shipped beside this module comes from ``manage.py classification_calibrate`` on the
development set; a tenant's own fit comes from its finalized decisions and backtest cases once
there are ``TENANT_MIN_CASES`` of them.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from classification.engine import precedents as prec
from classification.engine.types import RETRIEVAL_KINDS as RETRIEVAL

TENANT_MIN_CASES = 200
DEFAULT_PATH = Path(__file__).with_name("calibration_default.json")
FEATURES = (
    "rule",  # a pack rule proposes the code
    "rule_weight",  # the rule's stated confidence
    "rule_found",  # search also found the rule's code (same heading)
    "same_product",  # a broker decided this SKU with the same facts, or the same description
    "meaning",  # a finalized product similar by meaning chose it
    "meaning_similarity",  # its cosine similarity above the threshold (0 when none)
    "meaning_strong",  # how far that similarity is above 0.8 (neighbours that close are rare)
    "words",  # a finalized product with a similar description chose it
    "retrieval_share",  # the code's share of the fused search relevance
    "margin",  # its share minus the runner-up's
    "word_top",  # first in the word search
    "semantic_top",  # first by meaning
    "lexicon",  # an everyday term of the product points at it
    "residual",  # its material's residual line, or the parts line of what it is for
    "reading",  # a structured reading (a garment's construction, wearer, kind, fibre) points at it
    "reading_stated",  # … and the text states all the reading turns on
    "agree",  # word search and meaning put the same HS6 first
    "conflict",  # the sources contradict each other (conflicts.find)
    "sources",  # independent kinds backing the code: rule, precedent, search (0–3)
)


# The readings the labelled cases behind the shipped fit contain (ATLAS: garments, goods of
# plastics, bags, chemicals, fasteners, instruments, valves). A reading of another basis
# (footwear: none there) is not yet evidence that the code is right, so it does not raise the
# confidence: its products stay in review until a basis is measured and added here. Instruments
# and valves joined in 2026.12.7 (18 rulings between them, 14 right first): left out, the fit
# under-claimed on their right firsts (held-out ECE 0.058 / 0.063 against 0.049 / 0.061 in).
FITTED_READINGS = frozenset(
    {"garment", "plastics", "bag", "chemical", "fastener", "instrument", "valve"}
)


@dataclass(frozen=True)
class Calibration:
    version: str
    coef: tuple[float, ...]
    intercept: float
    cases: int = 0
    fitted_on: str = ""
    features: tuple[str, ...] = FEATURES

    def probability(self, x: dict[str, float]) -> float:
        pairs = zip(self.features, self.coef, strict=True)
        z = self.intercept + sum(c * x.get(f, 0.0) for f, c in pairs)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict:
        return {
            "version": self.version,
            "features": list(self.features),
            "coef": [round(c, 6) for c in self.coef],
            "intercept": round(self.intercept, 6),
            "cases": self.cases,
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Calibration":
        if len(data.get("coef", ())) != len(data.get("features", FEATURES)):
            raise ValueError(f"calibration {data.get('version')!r}: one coefficient a feature")
        return cls(
            version=str(data["version"]),
            coef=tuple(float(c) for c in data["coef"]),
            intercept=float(data["intercept"]),
            cases=int(data.get("cases", 0)),
            fitted_on=str(data.get("fitted_on", "")),
            features=tuple(data.get("features", FEATURES)),
        )


class Uncalibrated:
    """Confidence = the best candidate's evidence score: for tests of routing and for tools that
    compare engines before a fit exists. Never the default in a worker."""

    version = "uncalibrated"

    def probability(self, x: dict[str, float]) -> float:
        return x.get("score", 0.0)


UNCALIBRATED = Uncalibrated()
_default: Calibration | None = None


def default() -> Calibration:
    """Return the engine's shipped fit (read once)."""
    global _default
    if _default is None:
        _default = Calibration.from_json(json.loads(DEFAULT_PATH.read_text(encoding="utf-8")))
    return _default


def _best(sources, kind: str, detail_kinds=None) -> float:
    return max(
        (
            e.weight
            for e in sources
            if e.kind == kind and (detail_kinds is None or e.detail.get("kind") in detail_kinds)
        ),
        default=0.0,
    )


def features(best, candidates, conflicts) -> dict[str, float]:
    """Return the features of the evidence behind ``best`` (a ``Candidate``) among the others."""
    if best is None:
        return {}
    # A precedent set aside (weight 0: it contradicts what the text states) supports nothing.
    sources = tuple(e for e in best.sources if not (e.kind == "precedent" and not e.weight))
    kinds = {e.kind for e in sources}
    retrieval = [e for e in sources if e.kind in RETRIEVAL]
    share = max((_fitted(e) for e in retrieval), default=0.0)
    others = [
        max((_fitted(e) for e in c.sources if e.kind in RETRIEVAL), default=0)
        for c in candidates
        if c.code != best.code
    ]
    meaning = [
        e.detail.get("similarity") or 0.0
        for e in sources
        if e.kind == "precedent" and e.detail.get("kind") == prec.SIMILAR_MEANING
    ]
    readings = [
        e
        for c in candidates
        if c.code[:6] == best.code[:6]
        for e in (c.sources if c.code != best.code else sources)
        if e.kind == "reading" and e.detail.get("basis") in FITTED_READINGS
    ]
    word = [e for e in sources if e.kind == "search"]
    semantic = [e for e in sources if e.kind == "semantic"]
    first_word = _first(candidates, "search", "word_rank")
    first_meaning = _first(candidates, "semantic", "semantic_rank")
    rule_found = "rule" in kinds and any(
        c.code[:4] == best.code[:4] and any(e.kind in ("search", "semantic") for e in c.sources)
        for c in candidates
    )
    return {
        "score": best.score,  # the evidence score itself, kept for the record (not fitted)
        "rule": 1.0 if "rule" in kinds else 0.0,
        "rule_weight": _best(sources, "rule"),
        "rule_found": 1.0 if rule_found else 0.0,
        "same_product": 1.0
        if _best(sources, "precedent", (prec.SAME_SKU, prec.IDENTICAL_DESCRIPTION))
        else 0.0,
        "meaning": 1.0 if meaning else 0.0,
        "meaning_similarity": max(meaning, default=0.0),
        "meaning_strong": max(0.0, (max(meaning, default=0.0) - 0.8) / 0.2),
        "words": 1.0 if _best(sources, "precedent", (prec.SIMILAR_DESCRIPTION,)) else 0.0,
        "retrieval_share": share,
        "margin": share - max(others, default=0.0),
        "word_top": 1.0 if any(e.detail.get("word_rank") == 1 for e in word) else 0.0,
        "semantic_top": 1.0 if any(e.detail.get("semantic_rank") == 1 for e in semantic) else 0.0,
        "lexicon": 1.0 if "lexicon" in kinds else 0.0,
        "residual": 1.0 if "residual" in kinds else 0.0,
        # Confidence is about the subheading: a reading of any line of it counts.
        "reading": 1.0 if readings else 0.0,
        "reading_stated": 1.0 if any(e.detail.get("stated") for e in readings) else 0.0,
        "agree": 1.0 if first_word and first_word[:6] == first_meaning[:6] else 0.0,
        "conflict": 1.0 if conflicts else 0.0,
        "sources": float(
            ("rule" in kinds) + ("precedent" in kinds) + bool(kinds.intersection(RETRIEVAL))
        ),
    }


def mark_fitted(evidence, hit, cap: float) -> None:
    """Record on a code's retrieval evidence its weight without the readings outside
    ``FITTED_READINGS`` (``hit.fitted``, a search candidate's), capped like its weight: an
    unfitted reading ranks without inflating the share and margin this fit reads."""
    if hit.fitted is not None:
        for e in evidence:
            e.detail["fitted_weight"] = min(hit.fitted, cap)


def _fitted(e) -> float:
    """A retrieval weight as the fit knows it: without readings outside ``FITTED_READINGS``."""
    return e.detail.get("fitted_weight", e.weight)


def _first(candidates, kind: str, key: str) -> str:
    for c in candidates:
        if any(e.kind == kind and e.detail.get(key) == 1 for e in c.sources):
            return c.code
    return ""


def fit(rows, *, version: str, fitted_on: str) -> Calibration:
    """Fit a calibration on ``rows`` of ``(features dict, right at 6 digits)``.

    L2-regularised logistic regression (scikit-learn): with few examples of a feature (rules on
    a set where rules rarely fire), its weight stays near zero rather than following noise.

    Kept as it is after a cross-fit on ATLAS's halves (``classification_calibrate --cross-fit``,
    engine 2026.12.4): a Platt step fitted on its out-of-fold logits (cases kept together) finds
    slope 0.99–1.06 and intercept ~0, so there is no overconfidence to take back. Other
    strengths, standardised features, clipped or logged shares and margins, interactions,
    fewer features, sign bounds, isotonic or binned post-calibration, bagging and class weights
    all moved the held-out error by less than its noise, and isotonic or binned steps put
    p ≥ 0.9 rows below 95 % right. Most of the held-out error there is the halves' different
    share right (0.609 and 0.561), which no fit on one half can know.
    """
    from sklearn.linear_model import LogisticRegression

    rows = [(x, y) for x, y in rows if x]
    labels = [1 if y else 0 for _, y in rows]
    if len(set(labels)) < 2:
        raise ValueError("calibration needs labelled cases both right and wrong")
    matrix = [[x.get(f, 0.0) for f in FEATURES] for x, _ in rows]
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(matrix, labels)
    return Calibration(
        version=version,
        coef=tuple(float(c) for c in model.coef_[0]),
        intercept=float(model.intercept_[0]),
        cases=len(rows),
        fitted_on=fitted_on,
    )
