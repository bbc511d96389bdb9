"""Footwear of chapter 64 read the way the chapter reads it: outer sole and upper, then kind.

Headings 6401–6405 sort footwear by the material of the outer sole and of the upper (note 4:
the upper's constituent material with the greatest external surface area, the sole's in contact
with the ground): soles and uppers of rubber or plastics (6402, waterproof moulded 6401),
uppers of leather (6403), uppers of textile materials (6404), other (6405). Within them, sports
footwear, footwear covering the ankle, a metal toe-cap, toe-post sandals fixed by plugs, and the
US lines' wearer. Words and meaning pull a "leather sneaker" to leather and a "canvas shoe" to
fabrics; the materials are in the text.

``read`` returns the kind, upper and sole of footwear the text names as its article (the word
that ends the opening phrase: "running shoes", not "shoe horn"); ``propose`` turns it into the
lines it points at (``engine/descent.py``): one heading when the upper is known, else every
heading its sole allows at equal rank. Advice like every retrieval ranking.

Pure: reads the ``Reference`` and its semantic index; no ORM.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from classification.engine import descent

# The product's words for footwear (words that name other goods too only with a footwear word
# before them: "pool slides", "court pumps"), and what the subheadings ask of them.
_ARTICLE = re.compile(
    r"(?<![\w-])(?:(?:[\w'-]+ )?shoes?|sneakers?|trainers?|boots?|sandals?|slippers?|"
    r"flip[- ]?flops?|clogs?|loafers?|moccasins?|oxfords|brogues|espadrilles?|mules|"
    r"wellingtons?|wellies|footwear|cleats|waders|(?:pool|beach|shower|slip-on) slides|"
    r"(?:court|high[- ]heel(?:ed)?|stiletto) pumps|(?:high|stiletto|block) heels)$"
)
# Sports footwear of subheading note 1: spikes, cleats and the like, skating, ski, snowboard,
# wrestling, boxing and cycling footwear. Sneakers are not, but 6404.11 and the US lines name
# "tennis shoes, basketball shoes, gym shoes, training shoes and the like" beside them.
_SPORTS = re.compile(
    r"cleats?|spiked?|spikes|\bski\b|snowboard|skat|cycling|wrestling|boxing|football boots|"
    r"soccer (?:boots|shoes)|golf shoes|track shoes"
)
_ATHLETIC = re.compile(
    r"sneaker|trainer|running|jogging|tennis|basketball|gym|training|athletic|sports? shoes?|"
    r"walking shoes|cross[- ]?train"
)
_NOT_SPORTS = re.compile(
    r"sandal|slipper|flip|slide|clog|loafer|moccasin|pump|heel|mule|dress|oxford|brogue|"
    r"wellington|wellies|\bboots?\b|booties|espadrille|slip-on"
)
_ANKLE = re.compile(r"\bboots?\b|ankle|high[- ]top|chelsea|wellington|wellies|waders")
_LOW = re.compile(
    r"sandal|slipper|flip|slide|clog|loafer|moccasin|pump|mule|low[- ]top|oxford|shoes?\b|"
    r"sneaker|trainer"
)
_PLUGS = re.compile(r"flip[- ]?flops?|toe[- ]post|zoris?")
# Shoes of machines: brake shoes, the float shoe of a well casing, a horseshoe.
_PART_SHOE = re.compile(
    r"(?:brake|float|guide|casing|horse|track|pole|clutch|drum|pipe|cable|friction|rail|anchor|"
    r"reamer|cementing) shoes?"
)
_WORN = re.compile(r"\b(?:worn|used|second[- ]?hand)\b")  # worn footwear: heading 6309
_TOE_CAP = re.compile(r"(?:steel|metal|safety|composite)[- ]toe")
_WATERPROOF = re.compile(r"waterproof|rain ?boots?|wellington|wellies|gum ?boots|rubber boots")
# Materials, as chapter 64 groups them: "PU leather" is plastics, "leatherette" too.
_MATERIALS = (
    (
        "rubber or plastics",
        rf"{descent.IMITATION_LEATHER}|synthetics?|rubber|plastics?|pvc|\bpu\b|polyurethane|eva|"
        r"tpu|tpr|vinyl|silicone|foam",
    ),
    ("leather", r"leather|suede|nubuck|cowhide|calfskin|patent"),
    (
        "textile",
        r"textile|canvas|mesh|knit|fabric|cotton|polyester|nylon|felt|wool|denim|linen|jute|"
        r"satin|velvet|fleece|microfib(?:er|re)",
    ),
    ("other", r"wood(?:en)?|cork|straw|rope|paper"),
)
_MATERIAL_RE = descent.vocabulary(_MATERIALS)
_UPPER = re.compile(r"upper")
_SOLE = re.compile(r"(?:out)?soles?\b|bottoms?\b")
_WEARER = (
    ("men", re.compile(r"\bmen(?:'?s)?\b|\bmale\b|\bgentlemen")),
    ("women", re.compile(r"\bwomen(?:'?s)?\b|\bladies\b|\bfemale\b")),
    (
        "children",
        re.compile(r"\b(?:kids?|child(?:ren)?'?s?|boys?'?|girls?'?|infants?|toddlers?|youth)\b"),
    ),
)
_OPENING_END = descent.opening_end("without|featuring|in")
HEADINGS = {
    "rubber or plastics": "6402",
    "leather": "6403",
    "textile": "6404",
}


@dataclass(frozen=True)
class Reading:
    word: str  # the product's word for it ("running shoes")
    upper: str  # "rubber or plastics", "leather", "textile", "other", "" when not stated
    sole: str  # the same groups for the outer sole
    sports: bool  # sports footwear of subheading note 1 (spikes, cleats, ski, skating, …)
    athletic: bool | None  # … or tennis, basketball, gym, training shoes and the like
    ankle: bool | None  # covering the ankle
    plugs: bool  # upper straps or thongs assembled to the sole by plugs (flip-flops)
    toe_cap: bool  # a protective metal toe-cap
    waterproof: bool
    wearer: str  # "men", "women", "children", "" when not said
    named: tuple[str, ...] = ()  # materials named when the upper is not stated


class Proposal(descent.Proposal):
    basis = "footwear"

    @property
    def label(self) -> str:
        r = self.reading
        upper = f"upper of {r.upper}" if r.upper else "upper not stated"
        sole = f"outer sole of {r.sole}" if r.sole else "outer sole not stated"
        return f"{r.word}: {upper}, {sole} → heading {self.heading}"

    @property
    def stated(self) -> bool:
        return bool(self.reading.upper and self.reading.sole)

    @property
    def detail(self) -> dict:
        r = self.reading
        return {"footwear": r.word, "upper": r.upper, "sole": r.sole}

    def contradicts(self, code: str) -> bool:
        """Another product's code contradicts this text when it is another heading of 6401–6405
        while the upper is stated (the heading follows from it)."""
        return self.stated and "6401" <= code[:4] <= "6405" and code[:4] != self.heading


def read(facts: Mapping[str, object]) -> Reading | None:
    """The footwear the opening phrase names, its upper and sole; None for other goods
    ("shoe horn", "boot tray", "shoe polish", "water pumps")."""
    description = descent.fold(str(facts.get("description") or ""))
    named = [descent.fold(str(facts.get(k) or "")) for k in ("product_type", "name")]
    materials = [descent.fold(str(m)) for m in facts.get("materials") or ()]
    for source in (*named, description):
        opening = _OPENING_END.split(source, maxsplit=1)[0].strip(" .'")
        found = _ARTICLE.search(opening)
        if found is None or _WORN.search(opening) or _PART_SHOE.search(found.group(0)):
            continue
        text = description or " ".join(named)
        upper, sole, options = _parts(text, opening[: found.start()], materials)
        article = " ".join([opening, *named])
        plain = bool(_NOT_SPORTS.search(article))
        sports = bool(_SPORTS.search(article))  # the text must say: spikes, ski, skates
        athletic = True if sports or _ATHLETIC.search(article) else (False if plain else None)
        ankle = True if _ANKLE.search(article) else (False if _LOW.search(article) else None)
        wearer = next((w for w, pattern in _WEARER if pattern.search(f"{article} {text}")), "")
        return Reading(
            found.group(0),
            upper,
            sole,
            sports,
            athletic,
            ankle,
            bool(_PLUGS.search(article)),
            bool(_TOE_CAP.search(text)),
            bool(_WATERPROOF.search(f"{article} {text}")),
            wearer,
            options,
        )
    return None


def _parts(text: str, before: str, materials: list[str]) -> tuple[str, str, tuple[str, ...]]:
    """The upper's and the outer sole's materials, and the materials named when the upper is
    not: the text's "leather upper", "upper of mesh", "rubber outsole"; else the material before
    the footwear word ("canvas sneakers"); else the one material the catalog or the text names."""
    upper = sole = ""
    rest = []
    for clause in re.split(r"[,;/]| and | with ", text):
        material = _material(clause)
        if not material:
            continue
        if _UPPER.search(clause) and not upper:
            upper = material
        elif _SOLE.search(clause):
            sole = sole or material
        else:
            rest.append(material)
    upper = upper or _material(before)
    named = tuple(dict.fromkeys(m for m in (_material(x) for x in materials) if m))
    named = named or tuple(dict.fromkeys(rest))
    if not upper and len(named) == 1:
        upper = named[0]
    elif not upper and len(named) == 2 and "rubber or plastics" in named:
        # "suede; rubber": the sole is the rubber, the upper the other.
        upper = next(m for m in named if m != "rubber or plastics")
        sole = sole or "rubber or plastics"
    return upper, sole, () if upper else named


def _material(text: str) -> str:
    return descent.first_named(text, _MATERIAL_RE)


def propose(reading: Reading | None, reference, index=None, vector=None) -> list[Proposal]:
    """The line of the heading the upper and sole point at (rank 1); without a stated upper,
    the line of each heading the sole allows, at equal rank."""
    if reading is None:
        return []
    if reading.upper:
        headings = [_heading(reading)]
    else:
        headings = [HEADINGS[m] for m in reading.named if m in HEADINGS]
        headings = headings or ["6402", "6403", "6404"]
        if reading.sole == "leather":
            headings = [h for h in headings if h != "6402"] or ["6403", "6404"]
    out = []
    for heading in headings:
        code = descent.line_for(reference, heading, lambda s: _fit(s, reading), index, vector)
        if code:
            out.append(Proposal(code, 1, heading, reading))
    return out


def _heading(reading: Reading) -> str:
    if reading.sole == "other" or reading.upper == "other":
        return "6405"
    if reading.upper == "rubber or plastics":
        if reading.sole not in ("", "rubber or plastics"):
            return "6405"
        return "6401" if reading.waterproof and _ANKLE.search(reading.word) else "6402"
    return HEADINGS[reading.upper]


@lru_cache(maxsize=20_000)
def _fit(segment: str, reading: Reading) -> int | None:
    s = descent.fold(segment).strip(" :")
    if "tennis shoes" in s:
        return _said(reading.athletic)
    if s.startswith("sports footwear"):
        return 1 if reading.sports else -1
    if re.match(r"ski[- ]boots", s):
        return 1 if re.search(r"\bski|snowboard", reading.word) else -1
    if s.startswith("covering the ankle"):
        return _said(reading.ankle)
    if "by means of plugs" in s or "straps across the instep" in s:
        return 1 if reading.plugs else -1
    if "metal toe-cap" in s:
        return 1 if reading.toe_cap else -1
    if "with outer soles of" in s:
        said = "leather" if "leather" in s else _material(s.split("and uppers")[0])
        return None if not reading.sole else (1 if reading.sole == said else -1)
    if "with uppers of" in s:
        said = _material(s.split("with uppers of")[1])
        return None if not reading.upper else (1 if reading.upper == said else -1)
    if descent.is_other(s):
        return 0
    for wearer, start in (("men", "for men"), ("women", "for women"), ("children", "for youths")):
        if s.startswith(start) or (
            wearer == "children" and s.startswith(("for children", "for infants"))
        ):
            return None if not reading.wearer else (1 if reading.wearer == wearer else -1)
    if "house slippers" in s:
        return 1 if "slipper" in reading.word else -1
    return None


def _said(flag: bool | None) -> int | None:
    return None if flag is None else (1 if flag else -1)
