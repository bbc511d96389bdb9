"""Nomenclature search as an advisory candidate source.

The schedule's own ranking (``Reference.search``, BM25 over full descriptions) is re-ranked with
what a classifier reads first: the words that say *what the article is* (name, product type, the
head of the description) weigh more than materials and use, and codes whose heading (HS4) and
subheading (HS6) collect several good hits gain from that context, because the legal text of a
heading usually matches a product better than the terse text of one national line.

Scores stay advisory: the engine caps them below the pack's minimum confidence.
"""

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from classification.engine import memo, readings, subheadings
from classification.engine import residual as residual_module
from classification.engine.calibration import FITTED_READINGS
from classification.engine.lexicons import PACK_SYNONYM, with_pack_synonyms  # noqa: F401
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
        "your you we our us it they he she new various assorted kit kits"
    )
)
HEAD_WORDS = 12
# Re-ranking weights over the schedule's own score (1.0): the subheading's share of all hits and
# how many "what is it" words the heading and subheading texts contain.
SUBHEADING_WEIGHT = 0.3
CORE_WEIGHT = 0.3
PER_SUBHEADING = 2  # the opening words of a description name the article; the rest details it
# Reciprocal rank fusion of the word, meaning and lexicon rankings; RRF_K damps the top ranks.
# The constant and the weights were chosen on the ATLAS validation half and checked on
# its test half (docs/engine.md), never per row.
RRF_K = 10
WORD_WEIGHT = 1.0
SEMANTIC_WEIGHT = 0.5
LEXICON_WEIGHT = 1.0
# Proposals of ``engine/residual.py``: the material's residual line and a part's parts line, each
# its own ranking. Chosen on the ATLAS validation half, checked on its test half and the UK
# everyday terms (docs/engine.md).
RESIDUAL_WEIGHT = 0.5
PARTS_WEIGHT = 1.0
SEMANTIC_POOL = 60  # lines fetched by meaning before fusion
# Transformer re-rank (settings.TRANSFORMER_RERANK, off by default): the best RERANK_POOL fused
# codes are ranked again by the cosine of the product's transformer vector with each line's
# (``Reference.transformer``), and the two rankings fused by reciprocal rank, the transformer's
# weighing RERANK_WEIGHT. Chosen on the ATLAS validation half, checked on its test half and the
# UK everyday terms (docs/engine.md).
RERANK_POOL = 40
RERANK_WEIGHT = 1.0
# Within a heading, a line whose conditions the product meets ("of silver", "exceeding 100 kg")
# moves ahead of its siblings (``engine/subheadings.py``): its fit counts CONDITION_WEIGHT against
# its relevance relative to the heading's best. The order of headings never changes.
# Off (0) by default: 0.4, best on the ATLAS validation half (HS6@1 +5.0 points), was not borne
# out by its test half (+0.5, one ruling) and cost full-length accuracy on both halves and
# about 6 % of throughput (docs/engine.md "The right line within the right heading").
CONDITION_WEIGHT = 0.0
SEMANTIC_HEAD_WORDS = 30  # a long narrative's opening words name the article
# The article first: the word that says what the product *is* (the head of the product type, or
# of the description's opening phrase) weighs ARTICLE_BOOST times its usual weight in the word
# search, and the opening phrase counts ARTICLE_REPEAT more times in the text searched by meaning,
# so a material, a component or a use ("chrome-plated zinc alloy hose nozzle") does not outweigh
# the thing itself. Chosen on the ATLAS validation half, checked on its test half and on the UK
# everyday terms (docs/engine.md).
ARTICLE_BOOST = 1.5
ARTICLE_REPEAT = 2
# The opening phrase ends where details begin: a preposition, a participle that introduces
# materials or use, a list, a bracket.
_ARTICLE_END = re.compile(
    r"[,;:(]|\s-\s|\b(?:for|with|without|of|in|on|from|to|made|used|designed|composed|"
    r"consisting|comprised|that|which|specifically|including|such as|namely|featuring|having|"
    r"intended|containing|constructed|manufactured)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SearchCandidate:
    code: str
    score: float  # relative strength in [0, 1] before capping
    raw: float  # the schedule's own word-search score (0 when only meaning found it)
    description: str
    heading_hits: int
    word_rank: int | None = None  # rank in the word search (BM25, re-ranked), None if absent
    semantic_rank: int | None = None  # rank by meaning, None if absent
    similarity: float | None = None  # cosine similarity by meaning
    lexicon: tuple[str, ...] = ()  # everyday terms of the product that point at this code
    condition: str = ""  # the line's condition the product meets ("of silver"), if it moved
    rerank_rank: int | None = None  # rank by the transformer among the re-ranked codes
    rerank_similarity: float | None = None  # cosine of the transformer vectors
    residual: tuple = ()  # residual.Proposal: the material or the machine that proposed it
    reading: tuple = ()  # structured readings' proposals (garments.Proposal) that point at it
    # The share without readings outside the fitted set (None: as ``score``), for calibration.
    fitted: float | None = None


@dataclass(frozen=True)
class SearchResult:
    candidates: list[SearchCandidate]
    semantic: str  # "" when semantic search took part, else why not
    lexicon_hits: tuple = ()  # tariffs.lexicon.LexiconHit found in the product's text
    query: str = ""  # the word search's query, built from the facts
    rerank: str = ""  # "" when the transformer re-ranked the candidates, else why not
    readings: tuple = ()  # every proposal of the structured readings, best first


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
_rankings, _part_headings = memo.Memo(), memo.Memo()


def schedule_key(reference) -> tuple:
    """Identify a reference's schedule for caches, without keeping the ``Reference`` alive."""
    schedule = getattr(reference, "schedule_id", None)
    return (
        getattr(reference, "jurisdiction", ""),
        getattr(reference, "revision", ""),
        schedule if schedule is not None else id(reference),
    )


def _heading_text(reference, code: str, schedule: tuple = ()) -> frozenset[str]:
    """Meaningful words of a subheading's heading (HS4) and subheading (HS6) texts.

    Cached by schedule identity (``schedule``: ``schedule_key(reference)``, computed once per
    search by the caller) rather than by the ``Reference`` object, so a reloaded schedule does
    not keep its predecessor's reference alive.
    """
    key = (*(schedule or schedule_key(reference)), code)
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


def _word_ranking(
    query: str, core: frozenset[str], reference, article: str = ""
) -> tuple[tuple[float, object], ...]:
    """Return the schedule's word-search hits re-ranked by subheading context and core words;
    ``article`` (the head word of what the product is) weighs ``ARTICLE_BOOST`` in the search.
    Kept per stored schedule and arguments (``engine/memo.py``)."""
    schedule = memo.stored_schedule(reference)
    key = (schedule, query, core, article) if schedule is not None else None
    return _rankings.get(key, lambda: tuple(_rank_words(query, core, reference, article)))


def _rank_words(query: str, core: frozenset[str], reference, article: str) -> list:
    boost = {"boost": {article: ARTICLE_BOOST}} if article else {}
    hits = [h for h in reference.search(query, limit=POOL, **boost) if h.score > 0]
    if not hits:
        return []
    top = hits[0].score
    subheading_mass: dict[str, float] = defaultdict(float)
    for h in hits:
        subheading_mass[h.code[:6]] += h.score / top
    best_sub = max(subheading_mass.values())
    schedule, scored = schedule_key(reference), []
    for h in hits:
        words = _heading_text(reference, h.code[:6], schedule) if core else frozenset()
        core_share = len(core & words) / len(core) if core else 0.0
        relevance = (
            h.score / top
            + SUBHEADING_WEIGHT * subheading_mass[h.code[:6]] / best_sub
            + CORE_WEIGHT * min(1.0, 2 * core_share)
        )
        scored.append((relevance, h))
    scored.sort(key=lambda s: (-s[0], s[1].code))
    return scored


def semantic_text(facts: Mapping[str, object]) -> str:
    """The article first: name, product type, then the head of the description."""
    head = " ".join(str(facts.get("description") or "").split()[:SEMANTIC_HEAD_WORDS])
    parts = [str(facts.get(k) or "") for k in ("name", "product_type")] + [head]
    return " ".join(p for p in parts if p)


def article_phrase(facts: Mapping[str, object]) -> str:
    """The phrase that names the article: the product type's, else the description's opening
    words up to the first detail ("a spacer ring used in a pneumatic valve" → "a spacer ring",
    "filter cartridge for a shop vacuum" → "filter cartridge"); "" when it has no content word."""
    for key in ("product_type", "description"):
        phrase = _ARTICLE_END.split(str(facts.get(key) or ""), maxsplit=1)[0]
        if meaningful(phrase):
            return phrase.strip()
    return ""


def article_word(facts: Mapping[str, object]) -> str:
    """The head of the article phrase, its last content word ("spacer ring" → "ring")."""
    words = [w for w in meaningful(article_phrase(facts)) if w.isalpha()]
    return words[-1] if words else ""


def semantic_query(facts: Mapping[str, object]) -> str:
    """The text searched by meaning: the article phrase, repeated, then ``semantic_text``."""
    phrase = article_phrase(facts)
    return " ".join([phrase] * ARTICLE_REPEAT + [semantic_text(facts)]).strip()


def _lexicon_prefixes(hits) -> dict[str, str]:
    """Return code prefix -> everyday term, for terms that point at a heading or finer."""
    out: dict[str, str] = {}
    for hit in hits:
        if hit.too_generic:
            continue
        for code in hit.codes:
            if len(code) >= 4:
                out.setdefault(code, hit.term)
    return out


SETTLED = "a rule or precedent settles this product: its alternatives are not re-ranked"


def search_candidates(
    facts: Mapping[str, object],
    reference,
    *,
    limit: int = 10,
    lexicon=None,
    proposals=True,
    rerank=True,
) -> SearchResult:
    """Return up to ``limit`` declarable codes for the facts, best first, and how they were found.

    Three rankings are fused by reciprocal rank (each contributes ``weight / (RRF_K + rank)``):
    the schedule's word search re-ranked by subheading context and "what is it" words, the
    schedule's lines nearest in meaning (``Reference.semantic``), and the lines under the codes
    that everyday terms of the product point at (the lexicon); the material's residual line and a
    part's parts line (``engine/residual.py``, unless ``proposals`` is off) join as rankings of
    their own. ``rerank=False`` (a rule or precedent settles the product) leaves the transformer
    re-rank of the alternatives out. ``score`` is the code's share of
    the fused relevance of everything returned, so it sums to at most 1 and falls when many codes
    compete. At most ``PER_SUBHEADING`` codes per HS6 are kept, so alternatives span subheadings.
    """
    query, core = build_query(facts)
    text = semantic_text(facts)
    article = semantic_query(facts)
    found = lexicon.match(text) if lexicon is not None and text else ()
    # The name and the description often repeat a term: one hit per term and codes.
    lexicon_hits = tuple({(h.term, h.codes): h for h in found}.values())
    prefixes = _lexicon_prefixes(lexicon_hits)
    index, why_not = _semantic(reference)
    if not query:
        return SearchResult([], why_not, lexicon_hits, query)
    words = _word_ranking(query, core, reference, article_word(facts))
    by_code = {h.code: h for _, h in words}
    fused: dict[str, float] = defaultdict(float)
    word_rank: dict[str, int] = {}
    for rank, (_, h) in enumerate(words, 1):
        word_rank[h.code] = rank
        fused[h.code] += WORD_WEIGHT / (RRF_K + rank)
    semantic_rank: dict[str, int] = {}
    similarity: dict[str, float] = {}
    vector = None  # the query's vector, computed only when a lexicon prefix needs it
    if index is not None:
        for rank, hit in enumerate(index.search(article or query, SEMANTIC_POOL), 1):
            semantic_rank[hit.code] = rank
            similarity[hit.code] = hit.similarity
            fused[hit.code] += SEMANTIC_WEIGHT / (RRF_K + rank)
    lexicon_of: dict[str, list[str]] = defaultdict(list)
    if prefixes:
        pointed = [c for c in fused if any(c.startswith(p) for p in prefixes)]
        for prefix in prefixes:  # a term whose codes nothing else found still proposes one
            if not any(c.startswith(prefix) for c in pointed):
                if vector is None and index is not None:
                    vector = index.vector(article or query)
                pointed += _first_under(reference, index, vector, prefix)
        pointed.sort(key=lambda c: -fused.get(c, 0.0))
        for rank, code in enumerate(pointed, 1):
            lexicon_of[code] = [t for p, t in prefixes.items() if code.startswith(p)]
            fused[code] += LEXICON_WEIGHT / (RRF_K + rank)
    residual_of: dict[str, list] = defaultdict(list)
    if proposals and (RESIDUAL_WEIGHT or PARTS_WEIGHT):
        if vector is None and index is not None:
            vector = index.vector(article or query)
        _fuse_proposals(facts, reference, index, vector, lexicon, fused, residual_of)
    reading_of: dict[str, list] = defaultdict(list)
    if proposals:
        vector = readings.fuse(
            facts,
            reference,
            index,
            vector,
            fused,
            reading_of,
            rrf_k=RRF_K,
            text=lambda: semantic_query(facts) or build_query(facts)[0],
        )
    ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    ranked = [(code, r) for code, r in ranked if reference.is_declarable(code)]
    transformer, rerank_why = _transformer(reference) if rerank else (None, SETTLED)
    pool = max(limit, RERANK_POOL) if transformer is not None else limit
    kept = _keep(ranked, pool)
    # Only the headings kept can change their lines: the others' codes are not read.
    headings = {code[:4] for code, _ in kept}
    within, conditions = subheadings.rerank(
        facts,
        reference,
        [(code, r) for code, r in ranked if code[:4] in headings],
        weight=CONDITION_WEIGHT,
        key=schedule_key(reference),
    )
    kept = _refill(kept, within)
    rerank_rank: dict[str, int] = {}
    rerank_similarity: dict[str, float] = {}
    if transformer is not None and kept:
        kept, rerank_rank, rerank_similarity = _rerank(transformer, text or query, kept, limit)
    total = sum(r for _, r in kept) or 1.0
    unfitted = readings.added(reading_of, readings.bases() - FITTED_READINGS, rrf_k=RRF_K)
    held = sum(unfitted.get(code, 0.0) for code, _ in kept)
    heading_count = defaultdict(int)
    for _, h in words:
        heading_count[h.code[:4]] += 1
    out = []
    for code, relevance in kept:
        hit = by_code.get(code)
        line = reference.line(code)
        out.append(
            SearchCandidate(
                code=code,
                score=round(relevance / total, 4),
                raw=hit.score if hit is not None else 0.0,
                description=line.full_description if line is not None else "",
                heading_hits=heading_count[code[:4]],
                word_rank=word_rank.get(code),
                semantic_rank=semantic_rank.get(code),
                similarity=similarity.get(code),
                lexicon=tuple(dict.fromkeys(lexicon_of.get(code, ()))),
                rerank_rank=rerank_rank.get(code),
                rerank_similarity=rerank_similarity.get(code),
                residual=tuple(residual_of.get(code, ())),
                reading=tuple(reading_of.get(code, ())),
                condition=conditions.get(code, ""),
                fitted=_fitted_share(relevance - unfitted.get(code, 0.0), total - held)
                if held
                else None,
            )
        )
    every = sorted((p for props in reading_of.values() for p in props), key=lambda p: p.rank)
    return SearchResult(out, why_not, lexicon_hits, query, rerank_why, tuple(every))


def _fuse_proposals(facts, reference, index, vector, lexicon, fused, residual_of) -> None:
    """Fuse the material's and the part's proposals, each basis a ranking with its own weight."""

    def heading_for(x: str) -> str:
        found = search_candidates(
            {"description": x}, reference, limit=1, lexicon=lexicon, proposals=False
        )
        return found.candidates[0].code[:4] if found.candidates else ""

    # A part's heading is a search of the part's words alone: the same for every product that
    # names the part ("parts of brakes"), so it is kept per schedule, lexicon and words, and
    # whether meaning took part (a worker that started before the semantic index was ready
    # searches again once it is, as its other decisions do).
    schedule, terms = memo.stored_schedule(reference), memo.lexicon_key(lexicon)
    if schedule is not None and terms is not None:
        search_heading, meaning = heading_for, index is not None

        def heading_for(x: str) -> str:
            return _part_headings.get((schedule, terms, meaning, x), lambda: search_heading(x))

    weights = {"material": RESIDUAL_WEIGHT, "parts": PARTS_WEIGHT}
    ranks: dict[str, int] = defaultdict(int)
    for proposal in residual_module.propose(facts, reference, index, vector, heading_for):
        ranks[proposal.basis] += 1
        residual_of[proposal.code].append(proposal)
        fused[proposal.code] += weights[proposal.basis] / (RRF_K + ranks[proposal.basis])


def _keep(ranked, pool: int) -> list[tuple[str, float]]:
    """The best ``pool`` codes, at most ``PER_SUBHEADING`` per HS6."""
    kept, per_sub = [], defaultdict(int)
    for code, relevance in ranked:
        if per_sub[code[:6]] < PER_SUBHEADING:
            per_sub[code[:6]] += 1
            kept.append((code, relevance))
        if len(kept) == pool:
            break
    return kept


def _refill(kept, within) -> list[tuple[str, float]]:
    """Each heading keeps the positions (and relevances) it holds in ``kept``, filled with its
    codes in the order ``within`` gives them (the conditions of its lines), at most
    ``PER_SUBHEADING`` per HS6: no heading gains, loses or moves a place."""
    queue, per_sub = defaultdict(list), defaultdict(int)
    for code, _ in within:
        if per_sub[code[:6]] < PER_SUBHEADING:
            per_sub[code[:6]] += 1
            queue[code[:4]].append(code)
    for codes in queue.values():
        codes.reverse()  # pop() takes the best
    return [(queue[code[:4]].pop(), relevance) for code, relevance in kept]


def _rerank(transformer, text: str, kept, limit: int):
    """Re-rank the alternatives of ``kept`` by fusing their fused rank with the transformer's.

    The first code keeps its place, and every place keeps its fused relevance: only which
    alternative holds places 2 to ``limit`` changes, so the selection, its score and margin (and
    so its calibrated confidence) are those of the fused ranking. Returns the ``limit`` codes as
    ``(code, relevance)`` and each code's transformer rank and cosine. A code without a
    transformer vector ranks after every code that has one.
    """
    sims = transformer.similarities(text, [code for code, _ in kept])
    by_meaning = sorted((code for code, _ in kept), key=lambda c: -sims.get(c, -1.0))
    rank_of = {code: rank for rank, code in enumerate(by_meaning, 1)}
    relevance = {
        code: 1.0 / (RRF_K + rank) + RERANK_WEIGHT / (RRF_K + rank_of[code])
        for rank, (code, _) in enumerate(kept, 1)
    }
    alternatives = sorted((code for code, _ in kept[1:]), key=lambda c: -relevance[c])
    places = [r for _, r in kept[:limit]]
    codes = [kept[0][0], *alternatives][: len(places)]
    return list(zip(codes, places, strict=True)), rank_of, sims


def prefetch(facts_list, reference) -> None:
    """Look up the nearest lines of many products at once (a worker's batch): one pass over the
    schedule's vectors instead of one per product. Results are what ``search_candidates`` finds
    anyway; only the order of work changes."""
    semantic = getattr(reference, "semantic", None)
    index = semantic()[0] if semantic is not None else None
    if index is None:
        return
    index.prefetch([semantic_query(f) or build_query(f)[0] for f in facts_list], SEMANTIC_POOL)


def _fitted_share(relevance: float, total: float) -> float:
    """A code's share of what the fitted rankings found (0 when they found nothing)."""
    return round(max(relevance, 0.0) / total, 4) if total > 1e-12 else 0.0


def _first_under(reference, index, vector, prefix: str) -> list[str]:
    """The line under ``prefix`` nearest in meaning, or without meaning its first line."""
    if index is not None and vector is not None:
        return [h.code for h in index.under(prefix, vector, 1)]
    under = getattr(reference, "declarable_under", None)
    return list(under(prefix, 1)) if under is not None else []


def _transformer(reference):
    """Return the reference's transformer index and why it is missing (a fake may have none)."""
    transformer = getattr(reference, "transformer", None)
    if transformer is None:
        return None, "this reference has no transformer vectors; no transformer re-rank"
    return transformer()


def _semantic(reference):
    """Return the reference's semantic index and why it is missing (a fake may have none)."""
    semantic = getattr(reference, "semantic", None)
    if semantic is None:
        return None, "this reference has no semantic search; word search only"
    return semantic()
