"""Evidence that disagrees: when the other sources contradict the rule behind the best code.

Every wrong automatic classification seen in the field came from a keyword rule firing on an
accessory, a part or a look-alike ("laptop *backpack*" → portable computers; a smartwatch →
smartphones) with nothing to contradict it. Two checks, each naming both sides:

- **article**: the product type ends in an article word that neither
  the rule's matched terms nor the selected code's own text names, and no everyday term of the
  product points at that code: the rule matched a modifier, not the thing;
- **chapter**: the retrieval consensus (the two best search candidates agree on a chapter) or a
  broker's precedent for a similar product puts the goods in another chapter, and nothing that
  search found lies in the rule's heading;
- **reading**: a structured reading whose facts the text states in full (a garment's
  construction and fibre, a plastic's polymer, a bag's outer surface) leads to another
  subheading than the rule's.

Only rule-backed selections are checked: search and similar-product precedents never classify
on their own, and a broker's decision on the same product is not second-guessed here.
"""

import re

from classification.engine import precedents as prec
from classification.engine import search
from classification.engine.types import RETRIEVAL_KINDS as RETRIEVAL
from rulepacks.format.normalize import tokens
from rulepacks.routing import GENERIC_WORDS

_CUT = re.compile(r",|;|\(|\b(?:for|with|of|in|on|from|to|without)\b")
# Precedent kinds that speak for another product like this one (not the same SKU).
SIMILAR_KINDS = (prec.IDENTICAL_DESCRIPTION, prec.SIMILAR_MEANING, prec.SIMILAR_DESCRIPTION)
TOP_SEARCH = 10  # search candidates looked at for the rule's heading
NEAR_IN_MEANING = 30  # lines nearest to the product type in which a synonym's heading may be
PRODUCT_TYPE_POOL = 60  # = search.SEMANTIC_POOL
# Words that end product types without naming the article: packaging and marketing words, and
# categories ("apparel", "electronics") that contradict no heading.
_NOT_ARTICLES = GENERIC_WORDS | frozenset(
    tokens(
        "pack pair bundle edition model style size article finished consumer good product "
        "merchandise category apparel clothing garment wear electronics electronic device "
        "equipment hardware supplies supply household home kitchenware homeware"
    )
)


def article_word(facts) -> str:
    """Return the head word of the product type: what the article is ("" when it says nothing).

    The head is the last word before a preposition or a comma ("case for earbuds" → "case",
    "laptop backpack" → "backpack"); generic and category words do not count. The name is not
    read: names carry brands, sizes and units, and the product type is the fact that says this.
    """
    text = _CUT.split(str(facts.get("product_type") or "").casefold(), maxsplit=1)[0]
    words = [w for w in tokens(text) if w not in _NOT_ARTICLES]
    words = [w for w in words if w.isalpha() and len(w) > 1]
    return words[-1] if words else ""


def _code_words(reference, code: str) -> frozenset[str]:
    if reference is None:
        return frozenset()
    key = (*search.schedule_key(reference), code)
    found = _words_cache.get(key)
    if found is None:
        if len(_words_cache) > 20_000:
            _words_cache.clear()
        found = _words_cache[key] = _code_text_words(reference, code)
    return found


_words_cache: dict[tuple, frozenset[str]] = {}


def _code_text_words(reference, code: str) -> frozenset[str]:
    texts = [line.full_description for p in (code[:6], code) if (line := reference.line(p))]
    hs = getattr(reference, "hs_description", None)
    if hs is not None:
        texts.append(hs(code))
    return frozenset(w for t in texts for w in tokens(t))


def _article_conflict(best, rule, facts, reference, lexicon_hits, fmt) -> dict | None:
    head = article_word(facts)
    if not head:
        return None
    matched = rule.detail.get("matched", {})
    terms = [t for found in matched.values() for t in found]
    matched_words = {w for t in terms for w in tokens(t)}
    if head in matched_words or head in _code_words(reference, best.code):
        return None
    for hit in lexicon_hits:
        if head in tokens(hit.term) and any(best.code.startswith(c) for c in hit.codes):
            return None
    if _near_in_meaning(reference, facts, best.code):
        return None  # a synonym: "laptop computer" is what "data processing machines" means
    said = ", ".join(f"“{t}”" for t in terms if t not in ("origin",)) or "its terms"
    return {
        "kind": "article",
        "code": best.code,
        "rule": rule.ref,
        "matched": terms,
        "article": head,
        "message": (
            f"Rule {rule.ref} proposes {fmt(best.code)} on {said}, but the product is described "
            f"as a “{head}”, which neither the rule's terms nor the text of {fmt(best.code)} name."
        ),
    }


def _near_in_meaning(reference, facts, code: str) -> bool:
    """Whether a line of the code's heading is among the product type's nearest by meaning."""
    semantic = getattr(reference, "semantic", None)
    index = semantic()[0] if semantic is not None else None
    if index is None:
        return False
    # The same pool size as retrieval, so a worker's batch prefetch serves this lookup too.
    near = index.search(str(facts.get("product_type") or ""), PRODUCT_TYPE_POOL)[:NEAR_IN_MEANING]
    return any(h.code.startswith(code[:4]) for h in near)


def _chapter_conflict(best, rule, pool, fmt) -> dict | None:
    if any(e.kind in RETRIEVAL for e in best.sources):
        return None  # search found the rule's own code: it does not contradict the rule
    chapter, heading = best.code[:2], best.code[:4]
    found = sorted(
        (
            (max(e.weight for e in c.sources if e.kind in RETRIEVAL), c.code)
            for c in pool
            if c.code != best.code and any(e.kind in RETRIEVAL for e in c.sources)
        ),
        key=lambda s: (-s[0], s[1]),
    )[:TOP_SEARCH]
    codes = [code for _, code in found]
    precedents = [
        (e, c.code)
        for c in pool
        for e in c.sources
        if e.kind == "precedent" and e.detail.get("kind") in SIMILAR_KINDS and e.weight
    ]
    precedent = max(precedents, key=lambda p: (p[0].weight, p[1]), default=None)
    other = None
    if precedent is not None and precedent[1][:2] == chapter:
        return None  # a broker put a similar product in the rule's chapter: search is outweighed
    if precedent is not None:
        e, code = precedent
        other = (
            code,
            f"broker {e.detail.get('broker')} decided {fmt(code)} for a similar product "
            f"(decision #{e.ref}, {prec.KIND_LABELS.get(e.detail.get('kind'), '')})",
        )
    elif (
        len(codes) >= 2
        and codes[0][:2] == codes[1][:2] != chapter
        and not any(c.startswith(heading) for c in codes)
    ):
        other = (codes[0], f"schedule search puts it in chapter {codes[0][:2]} ({fmt(codes[0])})")
    if other is None:
        return None
    return {
        "kind": "chapter",
        "code": best.code,
        "rule": rule.ref,
        "other_code": other[0],
        "message": (
            f"Rule {rule.ref} proposes {fmt(best.code)} (chapter {chapter}), but {other[1]}."
        ),
    }


def find(best, pool, *, facts, reference, lexicon_hits=(), fmt=str) -> list[dict]:
    """Return the conflicts between the rule behind ``best`` and the other evidence (maybe [])."""
    if best is None:
        return []
    rules = sorted((e for e in best.sources if e.kind == "rule"), key=lambda e: -e.weight)
    if not rules:
        return []
    out = []
    article = _article_conflict(best, rules[0], facts, reference, lexicon_hits, fmt)
    if article is not None:
        out.append(article)
    chapter = _chapter_conflict(best, rules[0], pool, fmt)
    if chapter is not None:
        out.append(chapter)
    reading = _reading_conflict(best, rules[0], pool, fmt)
    if reading is not None:
        out.append(reading)
    return out


def _reading_conflict(best, rule, pool, fmt) -> dict | None:
    """The rule's subheading against where the text's stated facts lead (best reading first)."""
    stated = [
        (e, c.code)
        for c in pool
        for e in c.sources
        if e.kind == "reading" and e.detail.get("stated")
    ]
    if not stated or any(code[:6] == best.code[:6] for _, code in stated):
        return None
    e, code = stated[0]
    return {
        "kind": "reading",
        "code": best.code,
        "rule": rule.ref,
        "other_code": code,
        "message": (
            f"Rule {rule.ref} proposes {fmt(best.code)}, but the text reads as {e.ref}: "
            f"{fmt(code)}."
        ),
    }
