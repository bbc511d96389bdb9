"""Nomenclature search as an advisory candidate source.

The schedule's own ranking (``Reference.search``, BM25 over full descriptions) is re-ranked with
what a classifier reads first: the words that say *what the article is* (name, product type, the
head of the description) weigh more than materials and use, and codes whose heading (HS4) and
subheading (HS6) collect several good hits gain from that context, because the legal text of a
heading usually matches a product better than the terse text of one national line.

Scores stay advisory: the engine caps them below the pack's minimum confidence.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from rulepacks.format.normalize import tokens

POOL = 60  # hits fetched from the schedule before re-ranking
# Words that describe the paperwork, not the goods ("the subject merchandise is a ...").
NOISE = frozenset(
    tokens(
        "a an and are as at be been being by for from has have in into is it its of on or "
        "that the their there these this those to was were which with within without "
        "item items article articles merchandise product products subject sample samples "
        "imported importation import ruling described description model style number no "
        "style approximately approx measure measuring measures inch inches cm mm m x "
        "feature features featuring designed design used use which also each one two three "
        "consist consists consisting composed comprised provided include includes including "
        "will can may such other type types unit units set sets piece pieces pc pcs "
        "your you we our us it they he she new various assorted"
    )
)
HEAD_WORDS = 12
# Re-ranking weights over the schedule's own score (1.0): the subheading's share of all hits and
# how many "what is it" words the heading and subheading texts contain.
SUBHEADING_WEIGHT = 0.3
CORE_WEIGHT = 0.3
PER_SUBHEADING = 2  # the opening words of a description name the article; the rest details it


@dataclass(frozen=True)
class SearchCandidate:
    code: str
    score: float  # relative strength in [0, 1] before capping
    raw: float  # the schedule's own score
    description: str
    query: str
    heading_hits: int


def meaningful(text: str) -> list[str]:
    return [w for w in tokens(text or "") if w not in NOISE and not w.isdigit() and len(w) > 1]


def build_query(facts: Mapping[str, object]) -> tuple[str, frozenset[str]]:
    """Return the search text and the "what is it" words (name, product type, description head)."""
    description = meaningful(str(facts.get("description") or ""))
    name = meaningful(str(facts.get("name") or ""))
    product_type = meaningful(str(facts.get("product_type") or ""))
    materials = []
    for m in facts.get("materials") or ():
        materials += meaningful(str(m))
    use = meaningful(str(facts.get("intended_use") or ""))
    core = frozenset(name + product_type + description[:HEAD_WORDS])
    words = list(dict.fromkeys(name + product_type + description + materials + use))
    return " ".join(words), core


_heading_cache: dict[tuple, frozenset[str]] = {}
_HEADING_CACHE_SIZE = 50_000


def _heading_text(reference, code: str) -> frozenset[str]:
    """Meaningful words of a subheading's heading (HS4) and subheading (HS6) texts.

    Cached by schedule identity rather than by the ``Reference`` object, so a reloaded schedule
    does not keep its predecessor's reference alive.
    """
    schedule = getattr(reference, "schedule_id", None)
    key = (
        getattr(reference, "jurisdiction", ""),
        getattr(reference, "revision", ""),
        schedule if schedule is not None else id(reference),
        code,
    )
    found = _heading_cache.get(key)
    if found is None:
        texts = [line.description for p in (code[:4], code[:6]) if (line := reference.line(p))]
        hs = getattr(reference, "hs_description", None)
        if hs is not None:
            texts.append(hs(code))
        found = frozenset(w for t in texts for w in meaningful(t))
        if len(_heading_cache) >= _HEADING_CACHE_SIZE:
            _heading_cache.clear()
        _heading_cache[key] = found
    return found


def search_candidates(
    facts: Mapping[str, object], reference, *, limit: int = 10
) -> list[SearchCandidate]:
    """Return up to ``limit`` declarable codes for the facts, best first.

    ``score`` is the code's share of the relevance of everything returned (so it sums to at most
    1 and falls when many codes compete), which keeps search confidence honest. At most
    ``PER_SUBHEADING`` codes per HS6 are kept, so the alternatives span several subheadings.
    """
    query, core = build_query(facts)
    if not query:
        return []
    hits = [h for h in reference.search(query, limit=POOL) if h.score > 0]
    if not hits:
        return []
    top = hits[0].score
    subheading_mass: dict[str, float] = defaultdict(float)
    heading_count: dict[str, int] = defaultdict(int)
    for h in hits:
        subheading_mass[h.code[:6]] += h.score / top
        heading_count[h.code[:4]] += 1
    best_sub = max(subheading_mass.values())
    scored = []
    for h in hits:
        core_share = len(core & _heading_text(reference, h.code[:6])) / len(core) if core else 0.0
        relevance = (
            h.score / top
            + SUBHEADING_WEIGHT * subheading_mass[h.code[:6]] / best_sub
            + CORE_WEIGHT * min(1.0, 2 * core_share)
        )
        scored.append((relevance, h))
    scored.sort(key=lambda s: (-s[0], s[1].code))
    kept, per_sub = [], defaultdict(int)
    for relevance, h in scored:
        if per_sub[h.code[:6]] < PER_SUBHEADING:
            per_sub[h.code[:6]] += 1
            kept.append((relevance, h))
        if len(kept) == limit:
            break
    total = sum(r for r, _ in kept)
    return [
        SearchCandidate(
            code=h.code,
            score=round(r / total, 4),
            raw=h.score,
            description=h.full_description,
            query=query,
            heading_hits=heading_count[h.code[:4]],
        )
        for r, h in kept
    ]
