"""Choose a heading's declarable line by walking its description tree, level by level.

A structured reading (``engine/garments.py``, ``engine/plastics.py``) knows facts the
nomenclature's lines turn on: at each level of the heading's tree it keeps the segment whose
condition the product meets ("Of synthetic fibers", "Of polymers of ethylene", "Boys'"), else
"Other" when no sibling's condition holds; where the text does not say, every sibling it allows,
and among the lines left the one nearest in meaning to the product. Pure: reads the
``Reference`` and its semantic index.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# ``fit(segment)``: 1 the product meets its condition, -1 it contradicts it, 0 the segment states
# none the reading judges (or is "Other"), None the text does not say.
Fit = Callable[[str], int | None]


def fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes: how the readers compare words."""
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = re.sub(r"[’`´]", "'", text)
    return text


# Where a product's opening phrase ends and its details begin ("a men's knit jacket | made of …",
# "plastic pallets | used for …"): the readers look for the article before it.
DETAIL_WORDS = (
    "made|composed|consisting|constructed|comprised|manufactured|featuring|with|from|of|in|that|"
    "which|for|used|designed|imported|containing|having"
)


def opening_end(more: str = "", *, punctuation: bool = True) -> re.Pattern:
    """The pattern that ends an opening phrase: a detail word (``DETAIL_WORDS``, plus ``more``),
    and unless ``punctuation`` is off a comma, semicolon, colon, bracket or dash."""
    words = rf"\b(?:{DETAIL_WORDS}{'|' + more if more else ''})\b"
    return re.compile(rf"[,;:(]|\s-\s|{words}" if punctuation else words)


# Imitation leather is sheeting of plastics for the nomenclature (bags, footwear).
IMITATION_LEATHER = r"(?:pu|faux|vegan|imitation|artificial|synthetic) leather|leatherette"


def vocabulary(table) -> list[tuple[str, re.Pattern]]:
    """``(name, pattern)`` pairs of a reader's word table, each matched as whole words."""
    return [(name, re.compile(rf"(?<![\w-])(?:{p})(?![\w-])")) for name, p in table]


def meets(segment: str, conditions, text: str) -> int | None:
    """A line's condition read from the product's words: ``conditions`` (from ``vocabulary``)
    pairs how a segment starts with the words that meet it; 1 when ``segment`` starts with one
    and ``text`` has its words, -1 when it does not, None when no condition applies."""
    for start, pattern in conditions:
        if segment.startswith(start):
            return 1 if pattern.search(text) else -1
    return None


def first_named(text: str, vocabulary) -> str:
    """The name whose words ``text`` names first (``vocabulary`` from ``vocabulary``), or "";
    of two named at the same place, the longer words ("gas meter" over "gas")."""
    named = [
        (hit.start(), -len(hit.group(0)), name)
        for name, pattern in vocabulary
        if (hit := pattern.search(text))
    ]
    return min(named)[2] if named else ""


# Words of a line's text or a product's that state no condition.
STOP = frozenset(
    re.findall(
        r"\w+",
        "a an and or of the for with without other than not in on to by as its their each "
        "including excluding similar whether articles article",
    )
)
_CATEGORY = re.compile(r"\s*\(\d{3}\)\s*$")  # the US textile category after a line's text


def line_for(reference, prefix: str, fit: Fit, index=None, vector=None) -> str:
    """The declarable line under ``prefix`` (a heading, or a subheading a reading chose) that
    ``fit`` leads to; "" when there is none."""
    lines = [(c, path) for c, path in heading_lines(reference, prefix[:4]) if c.startswith(prefix)]
    if not lines:
        return ""
    return nearest(descend(lines, 0, fit), prefix, index, vector)


def nearest(codes: list[str], prefix: str, index=None, vector=None) -> str:
    """Of ``codes`` (lines under ``prefix``), the one nearest in meaning to ``vector``, else the
    lowest; "" when there are none."""
    if not codes:
        return ""
    if len(codes) > 1 and index is not None and vector is not None:
        allowed = set(codes)
        for hit in index.under(prefix, vector, 200):
            if hit.code in allowed:
                return hit.code
    return min(codes)


def nearest_under(reference, prefix: str, index=None, vector=None, *, parts: bool = False) -> str:
    """The declarable line under ``prefix`` nearest in meaning (else the lowest); a line with
    "Parts" on its path only when ``parts``."""
    lines = [
        code
        for code, path in heading_lines(reference, prefix[:4])
        if code.startswith(prefix)
        and (parts or not any(s.lower().startswith("parts") for s in path))
    ]
    return nearest(lines, prefix, index, vector)


_lines_cache: dict[tuple, list] = {}


def heading_lines(reference, heading: str) -> list[tuple[str, list[str]]]:
    """The heading's declarable lines as (code, segments below the heading), read once per
    schedule."""
    from classification.engine.search import schedule_key  # search imports the readers

    key = (*schedule_key(reference), heading)
    found = _lines_cache.get(key)
    if found is None:
        under = getattr(reference, "lines_under", None)  # a fake reference may have none
        found = [
            (line.code, [_CATEGORY.sub("", s) for s in line.full_description.split(" › ")[1:]])
            for line in (under(heading) if under is not None else ())
            if getattr(line, "declarable", True) and len(line.code) > 4
        ]
        if len(_lines_cache) > 2_000:
            _lines_cache.clear()
        _lines_cache[key] = found
    return found


def descend(lines: list[tuple[str, list[str]]], depth: int, fit: Fit) -> list[str]:
    """The codes of ``lines`` (code, path of segments) that ``fit`` keeps from ``depth`` down."""
    done = [code for code, path in lines if len(path) <= depth]
    going = [(code, path) for code, path in lines if len(path) > depth]
    if not going:
        return done
    segments = list(dict.fromkeys(path[depth] for _, path in going))
    fits = {s: fit(s) for s in segments}
    if any(f == 1 for f in fits.values()):
        keep = [s for s in segments if fits[s] == 1]
    elif any(f is None for f in fits.values()):  # the text does not say: every sibling it allows
        keep = [s for s in segments if fits[s] != -1]
    else:
        others = [s for s in segments if is_other(s) and fits[s] == 0]
        keep = others or [s for s in segments if fits[s] == 0] or segments
    out = done if not keep else []
    for s in keep:
        out += descend([(c, p) for c, p in going if p[depth] == s], depth + 1, fit)
    return out


def is_other(segment: str) -> bool:
    s = segment.lower()
    return s.startswith("other") or s.startswith("of other")


@dataclass(frozen=True)
class Proposal:
    """A line a structured reading points at; each reader says how it reads (``basis``,
    ``label``, ``stated``, ``detail``) and which codes of other products it contradicts."""

    code: str
    rank: int  # proposals of equal rank are equally supported
    heading: str
    reading: object
