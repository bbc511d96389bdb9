"""The right line within the right heading: re-rank a heading's candidates by their conditions.

Below a heading, the schedule splits each line from its siblings by a condition ("of silver",
"direct current", "knitted or crocheted", "of a weight exceeding 100 kg"); "Other" is what is left
when no sibling's condition holds. A line's conditions are read from its description path, never
from a table of cases: at each level, the words of its segment that no sibling's segment shares,
and the numbers with units it names. The product's text meeting a line's condition raises the
line, meeting a sibling's lowers it, a number that falls outside a line's limit lowers it too.

Only the order of codes *within* one heading changes: each heading keeps the positions its codes
held in the fused ranking, so which headings are proposed, and their order, never change.
"""

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from rulepacks.format.normalize import tokens

SEPARATOR = " › "  # between the segments of a line's ``full_description`` (tariffs/parsers.py)
# Words of a segment that carry no condition: grammar, and "other", which is the residual line.
_NOISE = frozenset(
    tokens(
        "a an and are as at be by for from in into is it its of on or the their to with within "
        "without whether not other others thereof than but which such kind kinds article "
        "articles n.e.s nesoi including include except excluding having containing all heading "
        "subheading chapter provided like similar used principally solely chiefly parts part "
        "exceeding over under less more least"
    )
)
# Numbers with units: (unit as written → dimension, factor to the dimension's base unit).
_UNITS = {
    "mg": ("mass", 0.001),
    "g": ("mass", 1.0),
    "gram": ("mass", 1.0),
    "kg": ("mass", 1000.0),
    "kilogram": ("mass", 1000.0),
    "kgs": ("mass", 1000.0),
    "lb": ("mass", 453.6),
    "lbs": ("mass", 453.6),
    "pound": ("mass", 453.6),
    "tonne": ("mass", 1e6),
    "mm": ("length", 1.0),
    "millimeter": ("length", 1.0),
    "cm": ("length", 10.0),
    "centimeter": ("length", 10.0),
    "m": ("length", 1000.0),
    "meter": ("length", 1000.0),
    "metre": ("length", 1000.0),
    "inch": ("length", 25.4),
    "inche": ("length", 25.4),
    "ft": ("length", 304.8),
    "foot": ("length", 304.8),
    "feet": ("length", 304.8),
    "w": ("power", 1.0),
    "watt": ("power", 1.0),
    "kw": ("power", 1000.0),
    "kilowatt": ("power", 1000.0),
    "hp": ("power", 745.7),
    "horsepower": ("power", 745.7),
    "v": ("voltage", 1.0),
    "volt": ("voltage", 1.0),
    "kv": ("voltage", 1000.0),
    "kva": ("apparent power", 1000.0),
    "cc": ("volume", 1.0),
    "cm3": ("volume", 1.0),
    "ml": ("volume", 1.0),
    "l": ("volume", 1000.0),
    "liter": ("volume", 1000.0),
    "litre": ("volume", 1000.0),
}
_NUMBER = r"(\d[\d,]*(?:\.\d+)?|\.\d+)"
_UNIT = r"(" + "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True)) + r")s?\b"
_LIMIT = re.compile(
    r"\b(not exceeding|not over|not more than|not less than|less than|more than|exceeding|"
    r"over|under|at least)\s+" + _NUMBER + r"\s*" + _UNIT,
    re.IGNORECASE,
)
_QUANTITY = re.compile(r"(?<![\w.])" + _NUMBER + r"\s*-?\s*" + _UNIT, re.IGNORECASE)
_TESTS = {
    "not exceeding": lambda v, x: v <= x,
    "not over": lambda v, x: v <= x,
    "not more than": lambda v, x: v <= x,
    "under": lambda v, x: v < x,
    "less than": lambda v, x: v < x,
    "not less than": lambda v, x: v >= x,
    "at least": lambda v, x: v >= x,
    "exceeding": lambda v, x: v > x,
    "over": lambda v, x: v > x,
    "more than": lambda v, x: v > x,
}


def stem(word: str) -> str:
    """Fold the forms a condition and a product write differently ("knitted" / "knit")."""
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
                word = word[:-1]  # knitt → knit
            break
    if word.endswith("re") and len(word) > 4:
        word = word[:-2] + "er"  # fibre → fiber
    return word


def words(text: str) -> frozenset[str]:
    """A text's content words, stemmed; units and the words of limits are read as numbers."""
    return frozenset(
        stem(w)
        for w in tokens(text.replace("-", ""))  # "man-made" is one word, not "man"
        if w not in _NOISE and w not in _UNITS and len(w) > 1 and not w[0].isdigit()
    )


def _number(raw: str) -> float:
    return float(raw.replace(",", ""))


def limits(text: str) -> tuple[tuple[str, str, float], ...]:
    """The numeric conditions of a segment: (dimension, test, value in the base unit)."""
    out = []
    for m in _LIMIT.finditer(text):
        dimension, factor = _UNITS[m.group(3).lower()]
        out.append((dimension, m.group(1).lower(), _number(m.group(2)) * factor))
    return tuple(out)


def quantities(text: str) -> dict[str, list[float]]:
    """The product's numbers with units, per dimension, in the base unit."""
    out: dict[str, list[float]] = defaultdict(list)
    for m in _QUANTITY.finditer(text):
        dimension, factor = _UNITS[m.group(2).lower()]
        out[dimension].append(_number(m.group(1)) * factor)
    return out


@dataclass(frozen=True)
class Product:
    words: frozenset[str]
    quantities: Mapping[str, list[float]]


def product(facts: Mapping[str, object]) -> Product:
    """What a line's conditions are compared with: name, product type, description, materials."""
    parts = [str(facts.get(k) or "") for k in ("name", "product_type", "description")]
    parts += [str(m) for m in facts.get("materials") or ()]
    text = " ".join(parts)
    return Product(words(text), quantities(text))


def _numeric(segment_limits, found: Product) -> int:
    """1 when the product's numbers meet every limit they can be compared with, -1 when they
    can be compared and none meets them, 0 when there is nothing to compare."""
    verdicts = set()
    for dimension in {d for d, _, _ in segment_limits}:
        values = found.quantities.get(dimension)
        if values:
            tests = [(t, x) for d, t, x in segment_limits if d == dimension]
            verdicts.add(any(all(_TESTS[t](v, x) for t, x in tests) for v in values))
    return -1 if False in verdicts else int(True in verdicts)


class _Heading:
    """One heading's tree, read from its lines' description paths (label rows included).

    Every level of a path, ``(parent path, segment)``, gets a number once per heading, so the
    per-product work (``fit``) looks levels up by number instead of hashing paths.
    """

    def __init__(self, lines):
        self.levels: dict[str, tuple[int, ...]] = {}  # a line's levels, top down
        self.level: list[tuple[int, str, tuple[str, ...]]] = []  # (parent, segment, parent path)
        self.children: list[list[int]] = []  # per parent: its levels (the siblings)
        numbers: dict[tuple, int] = {}
        parents: dict[tuple[str, ...], int] = {}
        for line in lines:
            path = tuple(s.strip() for s in line.full_description.split(SEPARATOR))
            found = []
            for depth in range(1, len(path)):
                parent = parents.get(path[:depth])
                if parent is None:
                    parent = parents[path[:depth]] = len(self.children)
                    self.children.append([])
                number = numbers.get((parent, path[depth]))
                if number is None:
                    number = numbers[(parent, path[depth])] = len(self.level)
                    self.level.append((parent, path[depth], path[:depth]))
                    self.children[parent].append(number)
                found.append(number)
            self.levels[line.code] = tuple(found)
        self._conditions: dict[int, tuple[frozenset[str], tuple]] = {}

    def condition(self, number: int):
        """A level's distinguishing words (those no sibling shares) and its numeric limits."""
        found = self._conditions.get(number)
        if found is None:
            parent, segment, _ = self.level[number]
            shared = set()
            for sibling in self.children[parent]:
                if sibling != number:
                    shared |= words(self.level[sibling][1])
            found = self._conditions[number] = (words(segment) - shared, limits(segment))
        return found


def _met(condition, found: Product) -> int:
    """How many of a condition's words the product meets, one more for a number within its
    limits; -1 when the product's number falls outside them."""
    distinct, segment_limits = condition
    if not segment_limits:  # most segments name no number
        return len(distinct & found.words) if distinct else 0
    numeric = _numeric(segment_limits, found)
    if numeric < 0:
        return -1
    return len(distinct & found.words) + numeric


def _clause(segment: str, distinct: frozenset[str]) -> str:
    """The clause of a segment that holds its met words, else its limits ("Of silver, whether
    or not plated…" → "of silver")."""
    clauses = [c.strip() for c in re.split(r"[,;:]", segment) if c.strip()]
    found = [c for c in clauses if words(c) & distinct] or [c for c in clauses if limits(c)]
    clause = found[0] if found else segment
    return clause if clause[:2].isupper() else clause[0].lower() + clause[1:]  # "DC motors"


def fit(heading: _Heading, code: str, found: Product, memo=None) -> tuple[int, str]:
    """How well the product meets a line's conditions against its siblings', level by level,
    and the first condition of the line it meets ("" if none). ``memo`` (two dicts kept for one
    product and heading) holds each level's verdict, which every line below it shares, and each
    parent's sibling values."""
    levels = heading.levels.get(code)
    if levels is None:
        return 0, ""
    verdicts, siblings = ({}, {}) if memo is None else memo
    score, met_text = 0, ""
    for level in levels:
        verdict = verdicts.get(level)
        if verdict is None:
            verdict = verdicts[level] = _verdict(heading, level, found, siblings)
        score += verdict[0]
        if verdict[1] and not met_text:
            met_text = verdict[1]
    return score, met_text


def _verdict(heading: _Heading, level: int, found: Product, memo: dict) -> tuple[int, str]:
    """One level of a line's path: +1 when the product meets more of its segment's condition than
    of any sibling's, -1 when a sibling's more (or its number falls outside the segment's
    limits), else 0; and the clause met, if the segment's is."""
    parent, segment, _ = heading.level[level]
    siblings = memo.get(parent)
    if siblings is None:  # every sibling's value, and the best two, once per parent
        values = {s: _met(heading.condition(s), found) for s in heading.children[parent]}
        top = sorted(((v, s) for s, v in values.items()), reverse=True)[:2]
        second = top[1][0] if len(top) > 1 else 0
        siblings = memo[parent] = (values, top[0][1], top[0][0], second)
    values, first_level, first, second = siblings
    mine = values[level]
    best_rival = second if first_level == level else first  # 0 without siblings
    clause = ""
    if mine > 0:
        clause = _clause(segment, heading.condition(level)[0] & found.words)
    return max(-1, min(1, mine - best_rival)), clause


_headings: dict[tuple, _Heading] = {}
_HEADINGS_CACHE_SIZE = 2_000


def _heading(reference, key: tuple, code4: str) -> _Heading | None:
    under = getattr(reference, "lines_under", None)
    if under is None:
        return None
    found = _headings.get((*key, code4))
    if found is None:
        if len(_headings) >= _HEADINGS_CACHE_SIZE:
            _headings.clear()
        found = _headings[(*key, code4)] = _Heading(under(code4))
    return found


def rerank(
    facts: Mapping[str, object], reference, ranked, *, weight: float, key: tuple
) -> tuple[list[tuple[str, float]], dict[str, str]]:
    """Reorder ``ranked`` ((code, relevance), best first) within each heading.

    A code's key within its heading is its relevance relative to the heading's best plus
    ``weight`` times its ``fit``; each heading's codes then fill the positions the heading held,
    each position keeping its relevance. Returns the new ranking and, per code that meets a
    condition of its own, that condition's text. ``key`` names the schedule for the cache of
    heading trees (``search.schedule_key``). ``weight`` 0 returns ``ranked`` itself.
    """
    if weight <= 0 or not ranked:
        return ranked, {}
    found = product(facts)
    if not found.words and not found.quantities:
        return ranked, {}
    slots: dict[str, list[int]] = defaultdict(list)
    for i, (code, _) in enumerate(ranked):
        slots[code[:4]].append(i)
    out = list(ranked)
    conditions: dict[str, str] = {}
    for code4, positions in slots.items():
        heading = _heading(reference, key, code4) if len(positions) > 1 else None
        if heading is None:
            continue
        best = ranked[positions[0]][1] or 1.0
        keyed, memo = [], ({}, {})  # each level's verdict, each parent's sibling values
        for order, i in enumerate(positions):
            code, relevance = ranked[i]
            score, text = fit(heading, code, found, memo)
            if text:
                conditions[code] = text
            keyed.append((-(relevance / best + weight * score), order, code))
        keyed.sort()
        for i, (_, _, code) in zip(positions, keyed, strict=True):
            out[i] = (code, ranked[i][1])
    return out, conditions
