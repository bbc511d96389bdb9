"""``classify``: product facts → candidates with evidence → scores → routed decision.

Pure: plain data in (facts, compiled pack, reference lookups, precedents), an ``EngineDecision``
out. Matching is the rule-pack evaluator's and routing is ``rulepacks.routing``'s; this module
only gathers evidence per code, scores it, selects, rejects with reasons and explains.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from classification.engine import calibration as calibration_module
from classification.engine import conflicts as conflicts_module
from classification.engine import duty as duty_module
from classification.engine import precedents as prec
from classification.engine import reasons as reasons_module
from classification.engine import search as search_module
from classification.engine.prefilter import rule_index
from classification.engine.search import search_candidates
from classification.engine.types import (
    RETRIEVAL_KINDS,
    Candidate,
    EngineDecision,
    Evidence,
    Rejected,
)
from rulepacks import evaluate as pack_eval
from rulepacks import routing
from rulepacks.format.compiled import (
    AGENCY_REVIEW_POLICIES,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_TIE_MARGIN,
)
from tariffs import codes as tariff_codes

ENGINE_VERSION = "2026.12.7"
fmt = lru_cache(maxsize=65536)(tariff_codes.fmt)  # memoised: a decision formats few codes often


# Precedent weights: a broker's decision on the same, unchanged product is nearly certain; an
# identical description is strong; a similar one is advice that cannot classify on its own at
# the default minimum (0.4 + 0.45 × similarity stays below 0.82 for any similarity < 0.93).
PRECEDENT_WEIGHT = {prec.SAME_SKU: 0.97, prec.IDENTICAL_DESCRIPTION: 0.92}
SIMILAR_BASE, SIMILAR_SLOPE = 0.4, 0.45
# A neighbour by meaning: 0.3 at the threshold rising to 0.75 at identical meaning, so it leads
# word search but never classifies alone; the calibrated confidence says how often it is right.
MEANING_BASE, MEANING_SLOPE = 0.3, 0.45
SUPERSEDED_FACTOR = 0.85  # an older decision of the same kind that a newer one contradicts
# Search alone never reaches the pack's minimum, whatever its score, so it never classifies.
SEARCH_CEILING = 0.6
SEARCH_CORROBORATION = 0.1  # share of the remaining doubt a search hit removes from a rule
SEARCH_LIMIT = 10
REJECTION_REASONS = ("lower_score", "tie", "excluded_by_rule", "not_declarable_in_schedule")


@dataclass
class _Code:
    code: str
    evidence: list[Evidence] = field(default_factory=list)
    rationale: list[str] = field(default_factory=list)
    description: str = ""
    risk: str = routing.LOW

    def best(self, kind: str) -> float:
        return max((e.weight for e in self.evidence if e.kind == kind), default=0.0)


def search_cap(min_confidence: float) -> float:
    """The highest score search evidence alone may give: below the pack's minimum."""
    return round(min(SEARCH_CEILING, min_confidence - 0.01), 4)


def score(entry: _Code, cap: float) -> float:
    """Combine a code's evidence into [0, 1]: rules and precedents agree as independent sources
    (noisy-OR of the best of each); search only corroborates them, or stands alone under ``cap``."""
    strong = [w for w in (entry.best("rule"), entry.best("precedent")) if w > 0]
    found = max(entry.best(kind) for kind in RETRIEVAL_KINDS)
    if not strong:
        return round(min(found, cap), 4)
    doubt = 1.0
    for w in strong:
        doubt *= 1.0 - w
    doubt *= 1.0 - SEARCH_CORROBORATION * found
    return round(1.0 - doubt, 4)


def _declarable(reference, code: str) -> bool:
    if reference is None:
        return True  # nothing to check against; the decision records no schedule revision
    if getattr(reference, "national", True):
        return reference.is_declarable(code)
    # HS-only reference (no national schedule loaded): the HS6 subheading must exist.
    return reference.line(code[:6]) is not None


def _rule_evidence(pool: dict[str, _Code], matches) -> None:
    for m in matches:  # best first
        entry = pool.setdefault(m.code, _Code(m.code))
        if not any(e.kind == "rule" for e in entry.evidence):
            entry.risk = m.risk
            entry.rationale.append(m.rationale)
        entry.evidence.append(
            Evidence(
                "rule",
                m.rule_id,
                m.confidence,
                {"matched": {k: list(terms) for k, terms in m.matched}, "risk": m.risk},
            )
        )


def _precedent_evidence(pool, index, facts, facts_sha256) -> None:
    description = str(facts.get("description") or "")
    text = prec.precedent_text(facts) if getattr(index, "by_meaning", False) else ""
    found = index.lookup(str(facts.get("sku") or ""), facts_sha256, description, text)
    # Within the exact kinds the newest decision comes first; an older one that chose another
    # code was corrected by a broker since. Similar descriptions are other products: no such rule.
    newest: dict[str, str] = {}
    for p, kind, similarity in found:
        if kind == prec.SIMILAR_DESCRIPTION:
            weight = SIMILAR_BASE + SIMILAR_SLOPE * similarity
        elif kind == prec.SIMILAR_MEANING:
            floor = getattr(index, "meaning_min", prec.MEANING_MIN)
            span = (similarity - floor) / (1 - floor)
            weight = MEANING_BASE + MEANING_SLOPE * max(0.0, min(1.0, span))
        else:
            weight = PRECEDENT_WEIGHT[kind]
        newer = newest.setdefault(kind, p.code) if kind in PRECEDENT_WEIGHT else p.code
        detail = {
            "kind": kind,
            "broker": p.broker,
            "decided_at": p.decided_at,
            "sku": p.sku,
            "similarity": similarity,
            "description": p.description,
        }
        if newer != p.code:
            weight *= SUPERSEDED_FACTOR
            detail["superseded_by_code"] = newer
        entry = pool.setdefault(p.code, _Code(p.code))
        entry.evidence.append(Evidence("precedent", str(p.decision_id), round(weight, 4), detail))
        entry.rationale.append(
            f"Broker {p.broker} decided {fmt(p.code)} on {p.decided_at[:10]} "
            f"(decision #{p.decision_id}, {prec.KIND_LABELS[kind]})."
        )


def _settled(pool, min_confidence: float) -> bool:
    """A rule or a precedent already reaches the pack's minimum for some code."""
    return any(
        e.weight >= min_confidence
        for entry in pool.values()
        for e in entry.evidence
        if e.kind in ("rule", "precedent")
    )


def _search_evidence(
    pool, facts, reference, cap: float, lexicon, pack, memo=None, *, rerank: bool = True
) -> tuple[dict, tuple]:
    """Add word-search, meaning and lexicon evidence; return how retrieval ran (for the record).

    ``rerank`` off leaves the transformer re-rank of the alternatives out: the product is
    settled by a rule or precedent, and the re-rank's few milliseconds would buy nothing."""
    if memo is None:
        found = search_candidates(
            facts, reference, limit=SEARCH_LIMIT, lexicon=lexicon, rerank=rerank
        )
    else:
        # The search reads only the query, the article and the everyday terms (the pack's
        # synonyms among them): two packs over the same products search once.
        key = (
            search_module.build_query(facts)[0],
            search_module.semantic_text(facts),
            tuple(getattr(pack, "synonyms", ()) or ()),
            rerank,
        )
        found = memo.get(key)
        if found is None:
            found = memo[key] = search_candidates(
                facts, reference, limit=SEARCH_LIMIT, lexicon=lexicon, rerank=rerank
            )
    pack_terms = {term for term, _ in getattr(pack, "synonyms", ())} if pack is not None else set()
    for rank, hit in enumerate(found.candidates, 1):
        entry = pool.setdefault(hit.code, _Code(hit.code, risk=routing.MEDIUM))
        entry.description = entry.description or hit.description
        weight = min(hit.score, cap)
        fresh = not entry.evidence
        start = len(entry.evidence)
        if hit.word_rank is not None:
            detail = {"rank": rank, "score": hit.raw, "word_rank": hit.word_rank}
            detail["heading_hits"] = hit.heading_hits
            entry.evidence.append(Evidence("search", "search", weight, detail))
        if hit.semantic_rank is not None:
            detail = {"rank": rank, "semantic_rank": hit.semantic_rank}
            detail["similarity"] = hit.similarity
            entry.evidence.append(Evidence("semantic", "semantic", weight, detail))

        for term in hit.lexicon:
            source = "pack" if term in pack_terms else "lexicon"
            detail = {"rank": rank, "term": term, "source": source}
            entry.evidence.append(Evidence("lexicon", term, weight, detail))
        for p in hit.residual:
            detail = {"rank": rank, "basis": p.basis, "heading": p.heading}
            detail["material" if p.basis == "material" else "part_of"] = p.label
            entry.evidence.append(Evidence("residual", p.label, weight, detail))
        for p in hit.reading:
            detail = {"rank": rank, "basis": p.basis, "heading": p.heading, "stated": p.stated}
            entry.evidence.append(Evidence("reading", p.label, weight, detail | p.detail))
        if hit.condition and len(entry.evidence) > start:
            # The line's own condition the product meets, which ranked it within its heading.
            entry.evidence[start].detail["condition"] = hit.condition
        if hit.rerank_rank is not None and len(entry.evidence) > start:
            # The code's first retrieval evidence carries the transformer's rank and cosine.
            entry.evidence[start].detail["rerank_rank"] = hit.rerank_rank
            entry.evidence[start].detail["rerank_similarity"] = hit.rerank_similarity
        calibration_module.mark_fitted(entry.evidence[start:], hit, cap)
        if fresh:
            entry.rationale.append(_retrieval_rationale(rank, hit))
    readings = found.readings
    read_as = [{"code": p.code, "basis": p.basis, "reading": p.label} for p in readings]
    return (
        {
            "query": found.query,
            "semantic": found.semantic or "on",
            "rerank": found.rerank or "on",
            "lexicon": [
                {
                    "term": h.term,
                    "codes": list(h.codes),
                    "too_generic": h.too_generic,
                    "source": "pack" if h.message == search_module.PACK_SYNONYM else "lexicon",
                }
                for h in found.lexicon_hits
            ],
            **({"reading": read_as} if read_as else {}),
        },
        found.lexicon_hits,
        readings,
    )


def _precedent_matching(index) -> dict:
    """How precedents were compared: the vector space and its threshold, or words only."""
    if not getattr(index, "by_meaning", False):
        return {"meaning": "", "min_similarity": None}
    found = {"meaning": index.space, "min_similarity": index.meaning_min}
    if getattr(index, "screen_space", ""):
        found |= {"screen": index.screen_space, "screen_min": index.screen_min}
    return found


def _retrieval_rationale(rank: int, hit) -> str:
    how = []
    if hit.word_rank is not None:
        how.append(f"word search rank {hit.word_rank} (score {hit.raw:.2f})")
    if hit.semantic_rank is not None:
        how.append(f"nearest in meaning rank {hit.semantic_rank} (similarity {hit.similarity:.2f})")
    if hit.lexicon:
        how.append("everyday term " + ", ".join(f"“{t}”" for t in hit.lexicon))
    for p in hit.residual:
        if p.basis == "material":
            how.append(f"residual line of heading {p.heading} for its material ({p.label})")
        else:
            how.append(f"parts line for “{p.label}” (heading {p.heading})")
    for p in hit.reading:
        how.append(f"{p.basis} reading: {p.label}")
    if hit.condition:
        how.append(f"meets its condition “{hit.condition}”")
    if hit.rerank_rank is not None:
        how.append(
            f"transformer re-rank {hit.rerank_rank} (similarity {hit.rerank_similarity:.2f})"
        )
    return f"Schedule search (advisory), rank {rank}: " + "; ".join(how) + "."


def _thresholds(pack) -> tuple[float, float]:
    if pack is None:
        return DEFAULT_MIN_CONFIDENCE, DEFAULT_TIE_MARGIN
    return pack.thresholds.min_confidence, pack.thresholds.tie_margin


def _candidates(pool, reference, cap) -> tuple[list[Candidate], list[Rejected]]:
    kept, undeclarable = [], []
    for entry in pool.values():
        line = reference.line(entry.code) if reference is not None else None
        description = (line.full_description or line.description) if line else entry.description
        candidate = Candidate(
            code=entry.code,
            score=score(entry, cap),
            description=description or "",
            rationale=" ".join(entry.rationale),
            sources=tuple(entry.evidence),
            duty=None,
            declarable=_declarable(reference, entry.code),
        )
        (kept if candidate.declarable else undeclarable).append((candidate, entry.risk))
    kept.sort(key=lambda c: (-c[0].score, -len(c[0].code), c[0].code))
    rejected = [
        Rejected(
            c.code,
            c.score,
            "not_declarable_in_schedule",
            f"{fmt(c.code)} is not a declarable line of "
            f"{getattr(reference, 'jurisdiction', '')} {getattr(reference, 'revision', '')}: "
            "a declaration needs a line at the end of the tree.",
        )
        for c, _ in sorted(undeclarable, key=lambda c: (-c[0].score, c[0].code))
    ]
    return kept, rejected


def _excluded(pack, view, code: str) -> str | None:
    """Return the id of a blocking restriction or denied entry that names ``code``, if any."""
    if pack is None:
        return None
    for entry in (*(r for r in pack.restrictions if r.action == "block"), *pack.denied):
        if entry.when.codes and pack_eval.match_conditions(entry.when, view, (code,)) is not None:
            return entry.id
    return None


def _reject_others(kept, best, tie_margin, pack, view) -> list[Rejected]:
    out = []
    for c in kept:
        if best is None or c.code == best.code:
            continue
        rule = _excluded(pack, view, c.code)
        gap = best.score - c.score
        if rule:
            reason, detail = "excluded_by_rule", f"Pack entry {rule!r} blocks {fmt(c.code)}."
        elif gap <= tie_margin + 1e-9:
            reason = "tie"
            detail = (
                f"Within {tie_margin:.2f} of {fmt(best.code)} ({c.score:.2f} vs "
                f"{best.score:.2f}): a broker must choose."
            )
        else:
            reason = "lower_score"
            detail = f"Scored {c.score:.2f}, {gap:.2f} below {fmt(best.code)}."
        out.append(Rejected(c.code, c.score, reason, detail))
    return out


def _evaluated_for(evaluation, code: str) -> bool:
    """Whether ``evaluate`` already checked code-conditioned entries against ``code``."""
    return bool(evaluation.matches) and evaluation.matches[0].code == code


def _flags_json(flags, code: str) -> dict:
    if flags is None:
        return {}

    def labels(items):
        return [m.label() if hasattr(m, "label") else str(m) for m in items or ()]

    return {
        "code": code,
        "pga": list(flags.pga),
        "agencies": list(flags.agencies),
        "antidumping": bool(flags.antidumping),
        "countervailing": bool(flags.countervailing),
        "section301": labels(getattr(flags, "section301", ())),
        "section232": labels(getattr(flags, "section232", ())),
    }


def classify(
    facts: Mapping[str, object],
    *,
    pack,
    reference,
    precedents: prec.PrecedentIndex | None = None,
    facts_sha256: str = "",
    search: bool = True,
    rank_without_pack: bool = False,
    lexicon=None,
    calibration: calibration_module.Calibration | None = None,
    search_memo: dict | None = None,
) -> EngineDecision:
    """Classify one product; see ``classification.engine`` for the contract.

    ``pack=None`` routes to ``blocked`` / ``no_active_rule_pack`` without ranking anything,
    unless ``rank_without_pack`` (the evaluation's search-and-precedents mode) asks for the
    candidates anyway. ``search=False`` leaves nomenclature search out (benchmarks).
    ``search_memo`` (a dict the caller keeps for one reference and lexicon) reuses the search of
    facts seen before: a backtest classifying the same cases with two packs searches once.
    """
    min_confidence, tie_margin = _thresholds(pack)
    cap = search_cap(min_confidence)
    view = pack_eval.Facts(facts)
    candidate_pack = rule_index(pack).candidate_pack(facts) if pack is not None else None
    evaluation = pack_eval.evaluate(candidate_pack, view) if pack is not None else None
    pool: dict[str, _Code] = {}
    retrieval: dict = {}
    lexicon_hits: tuple = ()
    if pack is not None or rank_without_pack:
        if evaluation is not None:
            _rule_evidence(pool, evaluation.matches)
        if precedents is not None and len(precedents):
            _precedent_evidence(pool, precedents, facts, facts_sha256)
        if search and reference is not None:
            terms = search_module.with_pack_synonyms(lexicon, pack)
            settled = _settled(pool, min_confidence)  # no transformer re-rank
            retrieval, lexicon_hits, readings = _search_evidence(
                pool, facts, reference, cap, terms, pack, search_memo, rerank=not settled
            )
            prec.set_aside_contradicted(pool.values(), readings)
        if precedents is not None and len(precedents):
            retrieval = {**retrieval, "precedents": _precedent_matching(precedents)}
    kept, rejected = _candidates(pool, reference, cap)
    best = kept[0][0] if kept else None
    if evaluation is not None and best is not None and not _evaluated_for(evaluation, best.code):
        # Restrictions with code conditions must see the selected code, not only the best rule's.
        declared = str(facts.get("declared_code") or "")
        codes_seen = tuple(c for c in (best.code, declared) if c)
        evaluation = pack_eval.evaluate(candidate_pack, view, codes=codes_seen)
    flags = reference.flags(best.code) if (reference is not None and best) else None
    candidates = [c for c, _ in kept]
    conflicts = conflicts_module.find(
        best, candidates, facts=facts, reference=reference, lexicon_hits=lexicon_hits, fmt=fmt
    )
    fit = calibration or calibration_module.default()
    observed = calibration_module.features(best, candidates, conflicts)
    probability = fit.probability(observed) if best is not None else 0.0
    routed = _route(
        facts, pack, kept, evaluation, flags, (min_confidence, tie_margin), conflicts, probability
    )
    rejected = _reject_others(candidates, best, tie_margin, pack, view) + rejected
    advice = best.code if best else ""
    duties = duty_module.compare(reference, facts, advice, [c.code for c in candidates[1:]], fmt)
    reasons = reasons_module.explain(
        routed,
        facts=facts,
        evaluation=evaluation,
        flags=flags,
        thresholds=(min_confidence, tie_margin),
        conflicts=conflicts,
    )
    return EngineDecision(
        selected_code=best.code if (best and routed.outcome != routing.BLOCKED) else None,
        confidence=round(routed.confidence, 4),
        outcome=routed.outcome,
        risk_band=routed.risk,
        reasons=reasons,
        candidates=_attach_duty(candidates, duties),
        rejected=tuple(rejected),
        duty=duties,
        flags=_flags_json(flags, advice),
        pack=_pack_json(pack),
        schedule_revision=getattr(reference, "revision", None),
        engine_version=ENGINE_VERSION,
        explanation=reasons_module.summary(routed, best, reasons, fmt),
        facts_sha256=facts_sha256,
        retrieval=retrieval,
        calibration={"version": fit.version, "features": observed},
    )


def _agency_policy(pack) -> str:
    return getattr(pack, "agency_review", None) or AGENCY_REVIEW_POLICIES[0]


def _route(
    facts, pack, kept, evaluation, flags, thresholds, conflicts, probability
) -> routing.Routing:
    """Route through ``rulepacks.routing`` (DESIGN §5) with every signal the engine found."""
    origin = str(facts.get("country_of_origin") or "").upper()
    return routing.route(
        candidates=[routing.Candidate(c.code, c.score, risk, ()) for c, risk in kept],
        min_confidence=thresholds[0],
        tie_margin=thresholds[1],
        missing=routing.missing_facts(facts),
        denied=bool(evaluation and evaluation.denied),
        restrictions=evaluation.restrictions if evaluation else (),
        flags=flags,
        agency_review=_agency_policy(pack),
        has_pack=pack is not None,
        high_risk_route=bool(pack and origin and origin in pack.high_risk_origins),
        vague=routing.is_vague(str(facts.get("description") or "")),
        conflicting=bool(conflicts),
        confidence=probability,
    )


def _attach_duty(candidates: list[Candidate], duties: dict) -> tuple[Candidate, ...]:
    by_code = {d["code"]: d for d in (duties.get("selected"), *duties["alternatives"]) if d}
    return tuple(replace(c, duty=by_code[c.code]) if c.code in by_code else c for c in candidates)


def _pack_json(pack) -> dict | None:
    if pack is None:
        return None
    return {
        "id": getattr(pack, "id", None),
        "name": pack.name,
        "jurisdiction": pack.jurisdiction,
        "version": pack.version,
        "sha256": pack.sha256,
    }
