"""Candidates that words and meaning rarely find: the material's residual line, a part's parts line.

"Other articles of plastics" shares no word with a laundry bin, and a "filter cartridge for a shop
vacuum" is pulled to vacuum cleaners rather than to their parts. Two proposals, each a ranking of
its own that ``search.search_candidates`` fuses by reciprocal rank:

- **material**: the product's material (facts ``materials``, else a material word of its name,
  product type or description) points at the nomenclature's residual heading for that material
  ("Other articles of …", ``RESIDUAL``); its line nearest in meaning to the product is proposed;
- **parts**: a part or accessory *for X*, or an *X part*, proposes the parts line of the heading
  that search finds for X alone: a line of that heading whose text begins "Parts" (8508.70
  "Parts" of vacuum cleaners), else a parts heading of the same chapter that names it (8473.30
  "Parts and accessories of the machines of heading 8471").

Pure: reads the ``Reference`` and its semantic index only; no ORM.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rulepacks.format.normalize import tokens

# Material → the headings of its "other articles" (HS 2022 nomenclature): the residual heading of
# the material's chapter, then its household-articles heading where the chapter has one (a plastic
# laundry bin is 3924, a plastic bracket 3926).
RESIDUAL = {
    "plastics": ("3926", "3924"),
    "rubber": ("4016",),
    "iron or steel": ("7326", "7323"),
    "aluminium": ("7616", "7615"),
    "copper": ("7419", "7418"),
    "nickel": ("7508",),
    "zinc": ("7907",),
    "wood": ("4421", "4419"),
    "glass": ("7020", "7013"),
    "ceramics": ("6914", "6912"),
    "porcelain": ("6914", "6911"),
    "paper": ("4823",),
    "textiles": ("6307",),
    "leather": ("4205",),
    "stone": ("6802",),
}
# Material → the words that name it (folded as ``tokens`` folds them: lower case, singular).
_NAMED_BY = {
    "plastics": "plastic polyethylene polypropylene polystyrene polycarbonate polyvinyl pvc "
    "acrylic polyurethane silicone vinyl melamine polymer thermoplastic hdpe ldpe eva tpu",
    "rubber": "rubber neoprene epdm",
    "iron or steel": "iron steel stainless",
    "aluminium": "aluminium aluminum",
    "copper": "copper brass bronze",
    "nickel": "nickel",
    "zinc": "zinc",
    "wood": "wood wooden bamboo plywood hardwood pine oak birch beech mdf",
    "glass": "glass",
    "ceramics": "ceramic stoneware earthenware terracotta",
    "porcelain": "porcelain",
    "paper": "paper paperboard cardboard",
    "textiles": "textile fabric cotton polyester nylon felt canvas linen",
    "leather": "leather",
    "stone": "stone marble granite",
}
MATERIAL_WORDS = {word: m for m, words in _NAMED_BY.items() for word in tokens(words)}
MATERIALS = 2  # distinct materials read; the first named is usually what the article is made of
HOUSEHOLD = True  # also propose the material's household-articles heading

_PART = r"(?:spare |replacement )?(?:parts?|accessor(?:y|ies)|components?|attachments?)"
# "parts of X", "replacement blade for X", "accessory used with X", "filter cartridge for X".
_PART_OF = re.compile(rf"\b{_PART}\s+(?:of|for|to)\s+(?P<x>.+)", re.IGNORECASE)
_FOR = re.compile(
    r"^(?P<article>[^,;:(]*?)\s+(?:for(?:\s+use)?(?:\s+(?:in|with|on))?|used\s+(?:in|on|with|for)|"
    r"designed\s+for|compatible\s+with)\s+(?P<x>.+)",
    re.IGNORECASE,
)
# "washing machine parts", "solenoid valve part used in …".
_X_PART = re.compile(rf"^(?P<x>[^,;:(]+?)\s+{_PART}\b", re.IGNORECASE)
# What the part is for ends where details begin.
_X_END = re.compile(
    r"[,;:(]|\s-\s|\b(?:with|and|that|which|including|made|from|of|in|to|used|such)\b",
    re.IGNORECASE,
)
# "of unspecified origin", "of Chinese origin": where the goods come from, not what they are for.
_ORIGIN = re.compile(r"\s*\bof\s+(?:[\w-]+\s+){0,2}origin\b", re.IGNORECASE)
_PARTISH = frozenset(tokens("part parts accessory accessories component attachment spare"))
ANY_FOR = True  # "<article> for X" proposes X's parts line even without the word "part"
_HEADINGS = re.compile(r"(?<![a-z])headings?\s+((?:\d{4}(?:\.\d\d)?|,|\s|to|or|and)+)", re.I)


@dataclass(frozen=True)
class Proposal:
    code: str
    basis: str  # "material" or "parts"
    label: str  # the material ("plastics") or what the part is for ("a shop vacuum")
    heading: str  # the residual heading, or the heading search finds for what the part is for


def materials(facts: Mapping[str, object]) -> list[str]:
    """The product's materials in the order named: its ``materials`` fact, else its text."""
    listed = " ".join(str(m) for m in facts.get("materials") or ())
    text = " ".join(str(facts.get(k) or "") for k in ("name", "product_type", "description"))
    for source in (listed, text):
        found = list(
            dict.fromkeys(MATERIAL_WORDS[w] for w in tokens(source) if w in MATERIAL_WORDS)
        )
        if found:
            return found[:MATERIALS]
    return []


def part_of(facts: Mapping[str, object]) -> str:
    """What a part or accessory is for ("filter cartridge for a shop vacuum" → "a shop vacuum",
    "washing machine parts" → "washing machine"); "" when the product is not one."""
    for key in ("product_type", "name", "description"):
        text = _ORIGIN.sub("", str(facts.get(key) or "")).strip()
        if not text:
            continue
        found = _PART_OF.search(text) or _X_PART.match(text)
        if found is None and ANY_FOR:
            found = _FOR.match(text)
        if found is not None:
            x = _X_END.split(found.group("x"), maxsplit=1)[0].strip()
            if [w for w in tokens(x) if w.isalpha() and w not in _PARTISH]:
                return x
    return ""


def propose(
    facts: Mapping[str, object],
    reference,
    index,
    vector,
    heading_for: Callable[[str], str],
) -> list[Proposal]:
    """Return the material proposals, then the parts proposals, each best first.

    ``index`` and ``vector`` (the product's vector in its space) choose the line under a heading
    nearest in meaning; without them the heading's first declarable line. ``heading_for(x)`` is
    the heading search finds for ``x`` alone ("" when none).
    """
    out: list[Proposal] = []
    for material in materials(facts):
        headings = RESIDUAL[material] if HOUSEHOLD else RESIDUAL[material][:1]
        for heading in headings:
            for code in _nearest(reference, index, vector, (heading,)):
                out.append(Proposal(code, "material", material, heading))
    x = part_of(facts)
    heading = heading_for(x) if x else ""
    prefixes = parts_lines(reference).get(heading, ()) if heading else ()
    for code in _nearest(reference, index, vector, prefixes):
        out.append(Proposal(code, "parts", x, heading))
    return out


def _nearest(reference, index, vector, prefixes) -> list[str]:
    """The declarable line under any of ``prefixes`` nearest to ``vector`` (or the first one)."""
    if index is not None and vector is not None:
        hits = [h for p in prefixes for h in index.under(p, vector, 1)]
        return [max(hits, key=lambda h: h.similarity).code] if hits else []
    under = getattr(reference, "declarable_under", None)
    for prefix in prefixes if under is not None else ():
        found = under(prefix, 1)
        if found:
            return list(found)
    return []


_parts_cache: dict[tuple, dict[str, tuple[str, ...]]] = {}


def parts_lines(reference) -> dict[str, tuple[str, ...]]:
    """Heading → the code prefixes of its parts lines (read once per schedule)."""
    from classification.engine.search import schedule_key  # search imports this module

    key = schedule_key(reference)
    found = _parts_cache.get(key)
    if found is None:
        if len(_parts_cache) > 8:
            _parts_cache.clear()
        lines = reference.lines() if hasattr(reference, "lines") else ()
        found = _parts_cache[key] = _parts_table(lines)
    return found


def _parts_table(lines) -> dict[str, tuple[str, ...]]:
    """A heading's own lines that begin "Parts" come first; without them, the parts lines of its
    chapter that name it, those naming the fewest headings (the most specific) only."""
    own: dict[str, list[str]] = {}
    named: dict[str, list[tuple[int, str]]] = {}
    for line in lines:
        if not line.description.lower().startswith("parts"):
            continue
        headings = _named_headings(line.description)
        if headings:  # "Parts for yachts … of heading 8903" in chapter 39 is of plastics first
            same = [h for h in headings if h[:2] == line.code[:2]]
            for h in same:
                named.setdefault(h, []).append((len(same), line.code))
        elif len(line.code) > 4:
            own.setdefault(line.code[:4], []).append(line.code)
        else:
            own.setdefault(line.code, []).append(line.code)
    table = {h: tuple(codes) for h, codes in own.items()}
    for h, found in named.items():
        if h not in table:
            fewest = min(n for n, _ in found)
            table[h] = tuple(code for n, code in found if n == fewest)
    return table


def _named_headings(text: str) -> list[str]:
    """The headings a text names: "headings 8470 to 8472" → 8470, 8471, 8472."""
    out: list[str] = []
    for group in _HEADINGS.findall(text):
        numbers = re.findall(r"\d{4}(?:\.\d\d)?|to", group)
        for i, n in enumerate(numbers):
            if n == "to" or "." in n:
                continue
            if i >= 2 and numbers[i - 1] == "to" and "." not in numbers[i - 2]:
                start = int(numbers[i - 2])
                out += [f"{h:04d}" for h in range(start + 1, int(n) + 1)]
            else:
                out.append(n)
    return list(dict.fromkeys(out))
