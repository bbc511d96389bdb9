"""Garments of chapters 61 and 62 read the way the nomenclature reads them.

A garment's code follows from four facts, in the order Section XI asks for them: how its fabric
is made (knitted or crocheted: chapter 61; otherwise chapter 62), what the garment is and for
whom (the heading: men's or boys' jackets are 6101 or 6201, women's or girls' 6102 or 6202,
babies' garments 6111 or 6209), and the textile material that predominates by weight (the
subheading: "Of cotton", "Of synthetic fibres", "Of other textile materials"). Words and meaning
find the garment but rarely the fibre rule, which makes "50 % polyester, 50 % cotton" a garment
of synthetic fibres (Section XI note 2: no material predominates, so the one whose heading comes
last in numerical order counts).

``read`` returns what the text says of those facts; ``propose`` turns each reading into the
declarable line it points at, descending the heading's lines level by level (fibre, wearer,
garment, "Containing 23 percent or more by weight of wool", "Other" when no sibling's condition
holds). ``search.search_candidates`` fuses the proposals as a ranking of their own; they are
advice like any retrieval: what the text leaves open (knitted or woven, the fibre) is left to the
other rankings, never guessed.

Rules of the nomenclature applied here (HS 2022):
- chapter 61 note 9 / chapter 62 note 8: a garment that cannot be identified as men's or boys'
  or as women's or girls' is classified as women's or girls';
- chapter 61 note 6 / chapter 62 note 4: babies' garments go to 6111 / 6209 before any other
  heading of the chapter (but not brassieres, ties or scarves, which have their own);
- Section XI note 2 and subheading note 2: the predominant textile material by weight, chapters
  54 and 55 (man-made fibres) counted as one; on a tie, the material of the chapter that comes
  last; fibres named without shares are taken to be listed by decreasing weight, as US and EU
  labelling law require.

Pure: reads the ``Reference`` (and its semantic index to pick among equal lines); no ORM.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from classification.engine import descent
from classification.engine.garment_terms import (
    FIBRE_CHAPTER,
    FIBRES,
    GARMENTS,
    NAMED_IN_LINES,
    Garment,
)

KNITTED, WOVEN = "knitted or crocheted", "not knitted or crocheted"
# Garments whose name says they are knitted (the T-shirts of heading 6109): when the text does
# not say, the knitted line alone; a woven one is read only when the text says so.
KNITTED_BY_NAME = frozenset({"T-shirt"})
MEN, WOMEN, BABIES = "men's or boys'", "women's or girls'", "babies'"


_ALL_NAMES = frozenset(n for g in GARMENTS for n in g.names)
_ALL_NAMES_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _ALL_NAMES), key=len, reverse=True)) + r")\b"
)
# Any garment word at all: most products name none, and are done with in one search.
_ANY_GARMENT = re.compile(r"(?<![\w-])(?:" + "|".join(g.pattern for g in GARMENTS) + r")(?![\w-])")
_GARMENT_RE = [(g, re.compile(rf"(?<![\w-])(?:{g.pattern})(?![\w-])")) for g in GARMENTS]

_KNIT = re.compile(
    r"(?<![\w-])(?:knit(?:ted|s)?|crochet(?:ed)?|jersey|fleece|interlock|tricot|french terry|"
    r"pointelle|sweater[- ]knit)(?![\w])"
)
_WOVEN = re.compile(
    r"(?<![\w-])(?:woven|denim|poplin|twill|chambray|corduroy|seersucker|chiffon|organza|"
    r"taffeta|broadcloth|gabardine|tweed|oxford cloth|canvas)(?![\w])"
)
# Not a garment of 6101–6117 / 6201–6211 whatever its shape: leather or fur (chapters 42, 43),
# plastics or rubber (39, 40) named before any textile, nonwovens and coated fabrics (6210, 6113).
_NOT_TEXTILE = re.compile(
    r"(?<![\w-])(?:leather|suede|fur|pvc|vinyl|plastics?|rubber|latex|neoprene|nitrile|paper|"
    r"non-?woven|nonwoven)(?![\w])"
)
# Articles of textiles named like garments that are not garments of chapters 61 or 62.
_NOT_GARMENT = re.compile(
    r"(?<![\w-])(?:life[- ]?(?:vests?|jackets?|preservers?)|buoyancy (?:aids?|vests?|jackets?)|"
    r"(?:personal )?flotation (?:devices?|vests?|jackets?))(?![\w-])"
)
_FAUX = re.compile(r"(?:faux|imitation|artificial|simulated|simulates|simulating|fake|like)[- ]$")
_COATED = re.compile(
    r"(?:coated|laminated|impregnated|covered|bonded)\s+(?:\w+\s+){0,2}?(?:with|in|to)\s+"
    r"(?:\w+\s+){0,2}?(?:plastics?|rubber|pvc|polyurethane|vinyl)|"
    r"(?:plastics?|rubber|pvc|polyurethane|pu|vinyl)[- ](?:coat(?:ed|ing)|laminat(?:ed|ion))|"
    r"rubberi[sz]ed"
)

_FIBRE_RE = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(map(re.escape, FIBRES), key=len, reverse=True)) + r")"
    r"(?![\w])"
)
_SHARE_AFTER = re.compile(r"\s*[:=-]?\s*(\d{1,3}(?:\.\d+)?)\s*(?:%|percent|per cent|pct)")
_SHARE_BEFORE = re.compile(
    r"(\d{1,3}(?:\.\d+)?)\s*(?:%|percent|per cent|pct)\s*(?:by weight\s*)?(?:of\s*)?"
    r"(?:[a-z-]+\s+){0,3}$"
)
_WEARERS = (
    (BABIES, re.compile(r"(?<![\w-])(?:bab(?:y|ies)|infants?|newborns?)(?:'s?|s')?(?![\w])")),
    (MEN, re.compile(r"(?<![\w-])(?:m[ae]n|mens|boys?|male|gentlemen)(?:'s?|s')?(?![\w])")),
    (
        WOMEN,
        re.compile(
            r"(?<![\w-])(?:wom[ae]n|womens|lad(?:y|ies)|girls?|female|maternity)(?:'s?|s')?"
            r"(?![\w])"
        ),
    ),
)
_SEGMENT_WEARER = (
    (MEN, re.compile(r"\b(?:men|boys)'")),
    (WOMEN, re.compile(r"\b(?:women|girls)'")),
    (BABIES, re.compile(r"\bbabies'")),
)
# Within men's or boys' (women's or girls'), who exactly: a national line for boys' alone.
_PERSONS = {
    "men": re.compile(r"(?<![\w-])(?:m[ae]n|mens|male|gentlemen)(?:'s?|s')?(?![\w])"),
    "boys": re.compile(r"(?<![\w-])boys?(?:'s?|s')?(?![\w])"),
    "women": re.compile(r"(?<![\w-])(?:wom[ae]n|womens|lad(?:y|ies)|female)(?:'s?|s')?(?![\w])"),
    "girls": re.compile(r"(?<![\w-])girls?(?:'s?|s')?(?![\w])"),
}
_EXAMPLE = re.compile(r"\s*\((?:for example|e\.g\.)[^)]*\)")
_OF_WEARER = {MEN: ("men", "boys"), WOMEN: ("women", "girls"), BABIES: ()}
_CONTAINING = re.compile(r"containing (\d+) percent or more by weight of (.+)")
_RESTRAINTS = re.compile(r"subject to (cotton|wool|man-made fiber|man-made fibre) restraints")
# The opening phrase, where the article is named ("a men's knit jacket made of …").
_OPENING_END = descent.opening_end()
_WORDS_END = descent.opening_end(punctuation=False)
_CLAUSE_END = re.compile(
    r"[,;:(]|\b(?:made|composed|consisting|constructed|comprised|manufactured|featuring|with|"
    r"from|having)\b"
)
_PAIR_OF = re.compile(r"^(?:an?|one|two|\d+)\s+(?:pairs?|sets?|assortment|collection) of\s+")
# What may follow the garment in its opening phrase: "… and hat set", "… garments".
_REST = re.compile(r"(?:(?:and|&|with) [\w' -]*)?(?:sets?|pairs?|garments?|outfits?|style|type)?")


@dataclass(frozen=True)
class Reading:
    garment: Garment
    word: str  # the product's word for it ("jacket")
    wearers: tuple[str, ...]  # MEN / WOMEN / BABIES, in the order named; WOMEN when none is
    construction: str  # KNITTED, WOVEN or "" when the text does not say
    material: str  # the predominant textile material ("synthetic"), "" when none is named
    fibres: tuple  # what it was read from: (fibre word, share in % or None), as named
    coated: bool  # of fabric coated or laminated with plastics or rubber (6113 / 6210)
    persons: frozenset = frozenset()  # "men", "boys", "women", "girls" as the text names them

    @property
    def composition(self) -> str:
        """The fibres as a broker reads them: "50 % polyester, 50 % cotton"."""
        return ", ".join(f"{v:g} % {w}" if v is not None else w for w, v in self.fibres)


@dataclass(frozen=True)
class Proposal:
    code: str
    rank: int  # proposals of equal rank are equally supported (knitted or woven unsaid)
    heading: str
    reading: Reading
    wearer: str
    construction: str  # the construction this line assumes (the reading's, or one of both)

    basis = "garment"

    @property
    def label(self) -> str:
        return describe(self)

    @property
    def stated(self) -> bool:
        """The text states what the line turns on: the construction and the fibre."""
        return bool(self.reading.construction and self.reading.material)

    def contradicts(self, code: str) -> bool:
        """Whether a code chosen for another product contradicts what this text states: with the
        fibre stated, any other subheading; without it, another heading of chapters 61 and 62."""
        if self.reading.material:
            return code[:6] != self.code[:6]
        return code[:2] in ("61", "62") and code[:4] != self.heading

    @property
    def detail(self) -> dict:
        return {
            "garment": self.reading.word,
            "wearer": self.wearer,
            "construction": self.construction,
            "construction_stated": bool(self.reading.construction),
            "material": self.reading.material,
            "composition": self.reading.composition,
        }


def _texts(facts: Mapping[str, object]) -> tuple[str, str, str]:
    """The text that names the article (name, product type, the description's opening phrase),
    the text that names its wearer (the opening phrase with its "for …") and the text that
    names its materials (the description, else the name and product type; the materials)."""
    description = _PAIR_OF.sub("", descent.fold(str(facts.get("description") or "")).strip())
    opening = _OPENING_END.split(description, maxsplit=1)[0]
    if not _ANY_GARMENT.search(opening):  # "a woman's 100% nylon lace, knit dress with …"
        opening = _WORDS_END.split(description, maxsplit=1)[0]
    clause = _CLAUSE_END.split(description, maxsplit=1)[0]
    named = " ".join(descent.fold(str(facts.get(k) or "")) for k in ("name", "product_type"))
    materials = " ".join(descent.fold(str(m)) for m in facts.get("materials") or ())
    # Fibres and materials are read once: a name usually repeats the description's opening.
    whole = " ".join(p for p in (description or named, materials) if p.strip())
    return f"{named} {opening}".strip(), f"{named} {clause}".strip(), whole


def garments_named(text: str) -> list[tuple[Garment, str, int]]:
    """The garments a text names, in order: (garment, word, position); each span read once."""
    taken: list[tuple[int, int]] = []
    found = []
    for garment, pattern in _GARMENT_RE:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append(m.span())
            found.append((garment, m.group(0), m.start()))
    found.sort(key=lambda f: f[2])
    return found


def read(facts: Mapping[str, object]) -> list[Reading]:
    """What the product's text says of the garment(s) it is; [] when it is not a garment of
    chapters 61 or 62 (or leather, fur, plastics or rubber come before any textile)."""
    said = " ".join(str(facts.get(k) or "") for k in ("name", "product_type", "description"))
    if not _ANY_GARMENT.search(descent.fold(said)):
        return []  # most products: no garment named, one search
    article, clause, whole = _texts(facts)
    if _NOT_GARMENT.search(article):
        return []
    named = garments_named(article)
    if not named:
        return []
    # The article is the garment only when the opening phrase ends with it (or a set of them):
    # "coat hanger" and "dress shoes" are not garments.
    _, word, at = named[-1]
    rest = re.sub(r"^/[\w-]+", "", article[at + len(word) :]).strip(" .'")
    if rest and not _REST.fullmatch(rest):
        return []
    first_fibre = _FIBRE_RE.search(whole)
    for m in _NOT_TEXTILE.finditer(whole):
        if _FAUX.search(whole[: m.start()]):
            continue
        if first_fibre is None or m.start() < first_fibre.start():
            return []
        break
    found = tuple(fibres(whole))
    material = predominant(found)
    construction = _construction(whole)
    where = clause or whole
    at = {w: m.start() for w, pattern in _WEARERS if (m := pattern.search(where))}
    wearers = tuple(sorted(at, key=lambda w: (w != BABIES, at[w])))
    if not wearers or wearers == (BABIES,):
        wearers = (*wearers, WOMEN)  # chapter 61 note 9, chapter 62 note 8
    coated = bool(_COATED.search(whole))
    persons = frozenset(p for p, pattern in _PERSONS.items() if pattern.search(where))
    kinds = {g.key: (g, word) for g, word, _ in reversed(named)}  # the first word for each kind
    return [
        Reading(g, word, wearers, construction, material, found, coated, persons)
        for g, word in (kinds[k] for k in dict.fromkeys(g.key for g, _, _ in named))
    ]


def _construction(text: str) -> str:
    knit, woven = _KNIT.search(text), _WOVEN.search(text)
    if knit and (not woven or knit.start() < woven.start()):
        return KNITTED
    return WOVEN if woven else ""


def fibres(text: str) -> list[tuple[str, float | None]]:
    """(fibre word, share in %) for each fibre named, in order; None where no share is given.

    Shares stop once they reach 100 %: a lining or a filling is named after the shell.
    """
    out, total, taken = [], 0.0, 0
    for m in _FIBRE_RE.finditer(text):
        # "cotton 60%" (a catalog's materials) right after it, else "55% linen", "100 percent
        # knit merino wool": a share within a few words before it that no fibre took already.
        after = _SHARE_AFTER.match(text, m.end())
        start = max(taken, m.start() - 40)
        before = None if after else _SHARE_BEFORE.search(text[start : m.start()])
        share = after or before
        taken = after.end() if after else m.end()
        value = float(share.group(1)) if share else None
        if value is not None and total >= 100:
            break
        total += value or 0.0
        if (m.group(1), value) not in out:
            out.append((m.group(1), value))
    return out


def predominant(found) -> str:
    """The textile material that predominates by weight (Section XI note 2) among the fibres
    ``found`` (``fibres``): "synthetic" for 50 % polyester, 50 % cotton; "" when none is named."""
    if not found:
        return ""
    if any(share is not None for _, share in found):
        weights = [(FIBRES[w], share) for w, share in found if share is not None]
    else:  # listed by decreasing weight, shares unknown
        seen = list(dict.fromkeys(FIBRES[w] for w, _ in found))
        weights = [(m, 1.0 / (i + 1)) for i, m in enumerate(seen)]
    by_chapter: dict[int, float] = {}
    for m, share in weights:
        by_chapter[FIBRE_CHAPTER[m]] = by_chapter.get(FIBRE_CHAPTER[m], 0.0) + share
    chapter = max(by_chapter, key=lambda c: (by_chapter[c], c))  # a tie: the last chapter
    within: dict[str, float] = {}
    for m, share in weights:
        if FIBRE_CHAPTER[m] == chapter:
            within[m] = within.get(m, 0.0) + share
    order = list(FIBRE_CHAPTER)  # synthetic before artificial, as their headings come
    return max(within, key=lambda m: (within[m], order.index(m)))


def _heading(reading: Reading, wearer: str, construction: str) -> str:
    g = reading.garment
    if reading.coated and g.key not in ("brassiere", "girdle", "tights", "socks", "gloves"):
        return "6113" if construction == KNITTED else "6210"
    if wearer == BABIES and g.babies:
        return "6111" if construction == KNITTED else "6209"
    men = wearer == MEN
    knit_m, knit_w, woven_m, woven_w = g.headings
    if construction == KNITTED:
        return (knit_m if men else knit_w) or knit_w or knit_m
    return (woven_m if men else woven_w) or woven_w or woven_m


def propose(readings: list[Reading], reference, index=None, vector=None) -> list[Proposal]:
    """The declarable lines the product's garment readings (``read``) point at, best first.

    Each garment named, for each wearer named (babies first), gives one line per construction:
    the one the text states, or both when it states none (equal rank: the other rankings decide).
    ``index`` and ``vector`` (the product's vector in its space) choose among lines the reading
    cannot tell apart; without them the first such line.
    """
    out: list[Proposal] = []
    seen: set[str] = set()
    rank = 0
    for reading in readings:
        for wearer in reading.wearers:
            rank += 1
            constructions = (
                (reading.construction,)
                if reading.construction
                else (KNITTED,)
                if reading.garment.key in KNITTED_BY_NAME
                else (KNITTED, WOVEN)
            )
            for construction in constructions:
                heading = _heading(reading, wearer, construction)
                if not heading or heading in seen:
                    continue
                code = line_for(reference, heading, reading, wearer, index, vector)
                if code:
                    seen.add(heading)
                    out.append(Proposal(code, rank, heading, reading, wearer, construction))
    return out


def _with(reading: Reading, construction: str, wearer: str) -> Reading:
    return replace(reading, wearers=(wearer,), construction=construction)


def describe(p: Proposal) -> str:
    """One line a broker reads: "knitted or crocheted, men's or boys', jacket, synthetic
    (100 % polyester) → heading 6101"."""
    r = p.reading
    construction = p.construction if r.construction else f"{p.construction} (not stated)"
    material = r.material or "fibre not stated"
    if r.material and r.composition:
        material += f" ({r.composition})"
    return f"{construction}, {p.wearer}, {r.word}, {material} → heading {p.heading}"


def line_for(reference, heading: str, reading: Reading, wearer: str, index, vector) -> str:
    """The declarable line of ``heading`` whose conditions the reading meets, level by level;
    among lines it cannot tell apart, the one nearest in meaning (or the first)."""
    reading = _with(reading, reading.construction, wearer)
    return descent.line_for(reference, heading, lambda s: _fit(s, reading), index, vector)


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z][a-z-]+", text.lower())} - {
        w.rstrip("s") for w in descent.STOP
    }


@lru_cache(maxsize=50_000)  # a schedule has a few thousand segments; readings repeat
def _fit(segment: str, reading: Reading) -> int | None:
    """1 when the product meets the segment's condition, -1 when it contradicts it, 0 when the
    segment states none (or is "Other"), None when the text does not say (no fibre named)."""
    s = descent.fold(segment).replace("fibers", "fibres").replace("fiber", "fibre").strip()
    s = _EXAMPLE.sub("", s)  # "(for example, stockings for varicose veins)" names no condition
    wearer = reading.wearers[0]
    score = 0
    named_wearers = [w for w, pattern in _SEGMENT_WEARER if pattern.search(s)]
    if named_wearers:
        if wearer not in named_wearers:
            return -1
        named = {p for p in _PERSONS if re.search(rf"\b{p}'", s)}
        same = {p for p in reading.persons if p in _OF_WEARER[wearer]}
        if named and same and not named & same:  # "Boys'" for a product for men only
            return -1
        score = 1
    if s.startswith("of other") or s == "other":
        return None if s.startswith("of other") and not reading.material else score
    if s.startswith("of "):
        named = s[3:]
        if any(k in named for names in NAMED_IN_LINES.values() for k in names):
            if not reading.material:
                return None
            return 1 if any(k in named for k in NAMED_IN_LINES[reading.material]) else -1
    m = _CONTAINING.match(s)
    if m:
        if not reading.material:
            return None
        share = _share_of(reading, m.group(2))
        return 1 if share is not None and share >= float(m.group(1)) else -1
    m = _RESTRAINTS.match(s)
    if m:
        group = {"cotton": "cotton", "wool": "wool"}.get(m.group(1), "man-made")
        chief = {"synthetic": "man-made", "artificial": "man-made"}.get(
            reading.material, reading.material
        )
        return 1 if chief == group else -1
    garment_words = set(_ALL_NAMES_RE.findall(s))
    if garment_words:
        own = set(reading.garment.names) | {reading.word}
        own_words = {w for n in own for w in _words(n)}
        return 1 if own_words & {w for n in garment_words for w in _words(n)} else -1
    return score


def _share_of(reading: Reading, named: str) -> float | None:
    """The share in % of the materials ``named`` ("wool or fine animal hair") in the reading's
    composition; 100 when it names one material only and that is it."""
    wanted = {m for m, names in NAMED_IN_LINES.items() if any(n in named for n in names)}
    parts = [(FIBRES[word], share) for word, share in reading.fibres]
    if len(parts) == 1 and parts[0][0] in wanted:
        return 100.0
    known = [(mat, s) for mat, s in parts if s is not None]
    if not known:
        return None
    return sum(s for mat, s in known if mat in wanted)
