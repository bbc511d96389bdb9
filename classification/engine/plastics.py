"""Goods of plastics (chapter 39) read the way the chapter reads them: by form, then polymer.

Chapter 39 sorts plastics first by what the goods are — primary forms (resins, pellets, powders,
dispersions: 3901–3914, by polymer), waste, monofilament and profiles, tubes and hoses, floor
coverings, self-adhesive film, other plates, sheets and film (cellular, laminated or reinforced
ones apart), sanitary ware, packing goods, household articles, builders' ware, other articles —
and then by polymer ("Of polymers of ethylene", "Of poly(ethylene terephthalate)"). Words and
meaning find "PVC sheets" among cellular sheets or "HDPE pallets" among wooden pallets; the form
and the polymer are in the text.

``read`` returns the form and polymer a product of plastics names (none when another material
comes first, or the article names no form of chapter 39); ``propose`` turns it into the line it
points at (``engine/descent.py``). Like every retrieval ranking, advice only.

Pure: reads the ``Reference`` and its semantic index; no ORM.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from classification.engine import descent

# Polymer → (the product's words for it, how the nomenclature's lines name it, its heading of
# primary forms). Copolymers go with the polymer that predominates; the text rarely says which,
# so the first-named counts.
POLYMERS = {
    "polymers of ethylene": (
        r"(?:chlorinated )?polyethylene|poly ethylene|[hl]?ldpe|hdpe|lldpe|\bpe\b|"
        r"ethylene[- ]vinyl acetate|peva|\beva\b|ethylene",
        ("polymers of ethylene", "polyethylene", "ethylene"),
        "3901",
    ),
    "polymers of propylene": (
        r"polypropylene|b?opp|\bpp\b|propylene",
        ("polymers of propylene", "polypropylene", "propylene"),
        "3902",
    ),
    "polymers of styrene": (
        r"polystyrene|\beps\b|\bxps\b|\babs\b|acrylonitrile[- ]butadiene[- ]styrene|styrene",
        ("polymers of styrene", "polystyrene", "styrene"),
        "3903",
    ),
    "polymers of vinyl chloride": (
        r"poly ?vinyl ?chloride|\bpvc\b|\bvinyl\b",
        ("polymers of vinyl chloride", "poly(vinyl chloride)", "vinyl chloride"),
        "3904",
    ),
    "poly(ethylene terephthalate)": (
        r"polyethylene terephthalate|\bpet\b|\bpete\b|polyester",
        ("poly(ethylene terephthalate)", "polyesters"),
        "3907",
    ),
    "polycarbonates": (r"polycarbonates?", ("polycarbonates",), "3907"),
    "epoxide resins": (r"epoxy|epoxide", ("epoxide resins",), "3907"),
    "acrylic polymers": (
        r"acrylics?|pmma|poly ?methyl methacrylate|plexiglass?|perspex",
        ("acrylic polymers", "poly(methyl methacrylate)", "acrylic"),
        "3906",
    ),
    "polyamides": (r"polyamides?|nylon", ("polyamides",), "3908"),
    "polyurethanes": (r"polyurethanes?|\btpu\b|\bpu\b", ("polyurethanes",), "3909"),
    "silicones": (r"silicones?", ("silicones",), "3910"),
    "polymers of vinyl acetate": (
        r"poly ?vinyl (?:acetate|alcohol)|povidone|polyvinylpyrrolidone|\bpva\b|\bpvp\b",
        ("polymers of vinyl acetate", "other vinyl polymers", "vinyl"),
        "3905",
    ),
    "cellulose": (r"cellulose|cellophane", ("cellulose",), "3912"),
}
_POLYMER_RE = [
    (name, re.compile(rf"(?<![\w-])(?:{p[0]})(?![\w-])")) for name, p in POLYMERS.items()
]
_ANY_POLYMER = re.compile(
    r"(?<![\w-])(?:" + "|".join(p[0] for p in POLYMERS.values()) + r")(?![\w-])"
)
_PLASTIC = re.compile(r"(?<![\w-])(?:plastics?|polymers?|copolymers?|resins?|thermoplastics?)\b")
# Other materials: named before any plastic, the goods are not of plastics.
_OTHER = re.compile(
    r"(?<![\w-])(?:steel|iron|alumin(?:i)?um|copper|brass|bronze|zinc|wood|wooden|bamboo|glass|"
    r"ceramic|porcelain|paper|paperboard|cardboard|rubber|leather|cotton|wool|silk|linen|"
    r"textile|fabric|felt|lace|knit|knitted|woven|stone|marble|metal)(?![\w-])"
)

# Form → (the product's words for it, the headings). The article names it.
FORMS = (
    (
        "primary form",
        r"resins?|pellets?|granules?|granulates?|powders?|flakes?|dispersions?|emulsions?|"
        r"solutions?|masterbatch(?:es)?|compounds?|copolymers?|polymers?",
        (),
    ),
    ("waste", r"scrap|waste|regrind", ("3915",)),
    ("monofilament or profile", r"monofilaments?|rods?|sticks?|profiles?", ("3916",)),
    ("tube or hose", r"tubes?|tubing|pipes?|piping|hoses?", ("3917",)),
    (
        "floor or wall covering",
        r"flooring|floor coverings?|floor tiles?|vinyl tiles?|tiles|wall ?coverings?|wallpaper",
        ("3918",),
    ),
    (
        "self-adhesive",
        r"(?:self[- ]adhesive|pressure[- ]sensitive|adhesive) (?:\w+ )?(?:tapes?|films?|sheets?|"
        r"labels?|plates?|strips?|foils?)",
        ("3919",),
    ),
    (
        "plate, sheet or film",
        r"plates|sheets?|sheeting|films?|foils?|strips?|panels?|membranes?|tapes?|laminates?",
        ("3920",),
    ),
    (
        "sanitary ware",
        r"bath ?tubs?|baths|shower (?:trays?|bases?)|sinks?|wash ?basins?|bidets?|toilet seats?",
        ("3922",),
    ),
    (
        "packing goods",
        r"bags?|sacks?|pouch(?:es)?|boxes|crates?|containers?|bottles?|jars?|flasks?|carboys?|"
        r"caps|lids?|closures?|stoppers?|spools?|bobbins?|reels?|pallets?|clamshells?|"
        r"packaging",
        ("3923",),
    ),
    (
        "household article",
        r"tableware|kitchenware|dinnerware|cups?|mugs?|bowls?|tumblers?|dish(?:es)?|trays?|"
        r"utensils?|cutting boards?|colanders?|pitchers?|jugs?|hangers?|laundry (?:baskets?|"
        r"bins?|hampers?)|table ?cloths?|table covers?|place ?mats?|shower curtains?|curtains?",
        ("3924",),
    ),
    (
        "builders' ware",
        r"doors?|windows?|shutters?|blinds?|gutters?|siding|cladding|railings?",
        ("3925",),
    ),
    (
        "apparel",
        r"gloves?|mittens?|aprons?|bibs?|raincoats?|ponchos?|rain ?wear|jackets?|vests?",
        ("3926",),
    ),
)
_FORM_RE = [(f, re.compile(rf"(?<![\w-])(?:{p})(?![\w-])"), h) for f, p, h in FORMS]
_CELLULAR = re.compile(r"(?<![\w-])(?:foam(?:ed)?|cellular|expanded|sponge)(?![\w-])")
_COMBINED = re.compile(r"(?<![\w-])(?:laminated|reinforced|coated|combined|bonded|backed)(?![\w-])")
_DENSITY = re.compile(r"specific gravity of (?:less than )?0\.94 ?(or more)?")
_BRACKETS = re.compile(r"\([^)]*\)")
# Polymers that are also textile fibres: of plastics only as sheets, film or primary forms.
_TEXTILE_TOO = frozenset({"polyester", "nylon"})
_SHEET_OR_PRIMARY = frozenset({"plate, sheet or film", "primary form", "monofilament or profile"})
# Flat articles named by their use, and the sheeting or film they are made of.
_FLAT = re.compile(r"(?<![\w-])(?:covers?|coverings?|mats?|liners?|drop ?cloths?|wraps?)$")
# Worked beyond cutting to shape: a made-up article, not a sheet ("a fitted mattress cover").
_SHAPED = re.compile(
    r"(?<![\w-])(?:fitted|zip(?:per(?:ed)?|ped)?|sewn|stitched|elastic(?:ated)?|drawstring|"
    r"hooded|moulded|molded|thermoformed)(?![\w-])"
)
_MADE_OF_SHEET = re.compile(
    r"\b(?:made|cut|manufactured|constructed|composed) (?:of|from) [^,;:]*?"
    r"(?<![\w-])(sheeting|sheets?|films?|foils?)(?![\w-])"
)
# What may come before a polymer's name when the phrase names the polymer itself, not an
# article of it ("toilet brush silicone"): its grade.
_GRADE = re.compile(
    r"(?:(?:an?|the|high|low|medium|ultra|linear|very|density|molecular|weight|virgin|recycled|"
    r"reprocessed|raw|pure|natural|granulated|powdered|liquid|grade|food|medical|general|"
    r"purpose|impact|modified|unplasticised|unplasticized|plasticised|plasticized|rigid|"
    r"flexible|[\d.,%-]+)[ -]+)*"
)
_PLASTICISED = re.compile(r"plasticis|plasticiz|flexible|soft pvc")
_OPENING_END = descent.opening_end(
    "without|intended|suitable|specifically|measuring|weighing|printed"
)


@dataclass(frozen=True)
class Reading:
    form: str  # "plate, sheet or film" …
    word: str  # the product's word for it ("sheets")
    heading: str
    polymer: str  # "polymers of vinyl chloride", "" when the text names none
    polymer_word: str  # the product's word for it ("PVC")
    words: frozenset  # the product's words, for the lines' other conditions
    plasticised: bool


class Proposal(descent.Proposal):
    basis = "plastics"

    @property
    def label(self) -> str:
        r = self.reading
        polymer = f"{r.polymer} ({r.polymer_word})" if r.polymer else "polymer not stated"
        return f"{r.form} ({r.word}), {polymer} → heading {self.heading}"

    @property
    def stated(self) -> bool:
        return bool(self.reading.polymer)

    def contradicts(self, code: str) -> bool:
        """Whether a code chosen for another product contradicts what this text states: a
        textile code (the text names plastics first), or in chapter 39 another form (heading),
        or with the polymer stated another subheading."""
        if 50 <= int(code[:2]) <= 63:
            return True
        if code[:2] != "39":
            return False
        return code[:6] != self.code[:6] if self.reading.polymer else code[:4] != self.heading

    @property
    def detail(self) -> dict:
        r = self.reading
        return {"form": r.form, "article": r.word, "polymer": r.polymer}


def read(facts: Mapping[str, object]) -> Reading | None:
    """The form and polymer of a product of plastics; None when it is not one the chapter's
    forms name (another material first, or no form word ending its opening phrase)."""
    description = _BRACKETS.sub(" ", descent.fold(str(facts.get("description") or "")))
    named = " ".join(descent.fold(str(facts.get(k) or "")) for k in ("product_type", "name"))
    named = _BRACKETS.sub(" ", named)
    materials = " ".join(descent.fold(str(m)) for m in facts.get("materials") or ())
    text = " ".join(p for p in (description or named, materials) if p.strip())
    plastic = _PLASTIC.search(text)
    if plastic is None and not _ANY_POLYMER.search(text):
        return None  # most products: no plastics named, one search each
    polymer, polymer_at, polymer_word = "", len(text), ""
    for name, pattern in _POLYMER_RE:  # the first named; at one place, the longest name
        m = pattern.search(text)
        if m and (m.start(), -len(m.group(0))) < (polymer_at, -len(polymer_word)):
            polymer, polymer_at, polymer_word = name, m.start(), m.group(0)
    first_plastic = min(polymer_at, plastic.start() if plastic else len(text))
    if first_plastic == len(text):
        return None
    other = _OTHER.search(text)
    if other and other.start() < first_plastic:
        return None
    for source in (named, description):
        opening = _OPENING_END.split(source, maxsplit=1)[0].strip()
        found = _form(opening, polymer) or _cut_from_sheet(opening, source)
        if found is not None:
            form, word, heading = found
            if not heading:
                return None
            if polymer_word in _TEXTILE_TOO and form not in _SHEET_OR_PRIMARY:
                return None  # a polyester or nylon bag or jacket is of textiles
            words = frozenset(w.rstrip("s") for w in re.findall(r"[a-z]+", text)) - descent.STOP
            plasticised = bool(_PLASTICISED.search(text))
            return Reading(form, word, heading, polymer, polymer_word, words, plasticised)
    return None


def _cut_from_sheet(opening: str, source: str) -> tuple[str, str, str] | None:
    """A flat article named by its use and made of sheeting or film ("silage covers made of
    polyethylene sheeting"): plates, sheets and film cut to shape stay in 3920 / 3921 (note 10
    to chapter 39)."""
    if _FLAT.search(opening) and not _SHAPED.search(source):
        made = _MADE_OF_SHEET.search(source)
        if made is not None:
            return "plate, sheet or film", made.group(1), "3920"
    return None


def _form(opening: str, polymer: str) -> tuple[str, str, str] | None:
    """The form the opening phrase ends with: (form, word, heading); the heading is "" for a
    primary form whose polymer is unknown. A phrase that is a polymer's name alone ("high
    density polyethylene") is its primary form."""
    words = opening.split()
    if not words:
        return None
    for form, pattern, headings in _FORM_RE:
        for m in pattern.finditer(opening):
            if opening[m.end() :].strip(" .'"):
                continue  # not the head of the phrase
            heading = headings[0] if headings else POLYMERS.get(polymer, ("", (), ""))[2]
            return form, m.group(0), heading
    for _, pattern in _POLYMER_RE:  # the phrase is a polymer's name ("high density polyethylene")
        m = next((m for m in pattern.finditer(opening) if m.end() == len(opening)), None)
        if polymer and m is not None and _GRADE.fullmatch(opening[: m.start()]):
            return "primary form", m.group(0), POLYMERS[polymer][2]
    return None


def propose(reading: Reading | None, reference, index=None, vector=None) -> list[Proposal]:
    """The line the reading points at (one proposal, rank 1), or none."""
    if reading is None:
        return []
    heading = reading.heading
    text = " ".join(sorted(reading.words))
    if heading == "3920" and (
        _CELLULAR.search(text) or (_COMBINED.search(text) and _OTHER.search(text))
    ):
        heading = "3921"  # cellular, or laminated, reinforced or combined with another material
    reading = replace(reading, heading=heading)
    code = descent.line_for(reference, heading, lambda s: _fit(s, reading), index, vector)
    return [Proposal(code, 1, heading, reading)] if code else []


@lru_cache(maxsize=20_000)
def _fit(segment: str, reading: Reading) -> int | None:
    s = descent.fold(segment).strip()
    density = _DENSITY.search(s)
    if density:  # polyethylene "of a specific gravity of less than 0.94" / "of 0.94 or more"
        said = reading.words & {"hdpe", "high", "ldpe", "lldpe", "low"}
        if not said:
            return None
        high = bool(said & {"hdpe", "high"})
        return 1 if high == (density.group(1) == "or more") else -1
    if ("unsaturated" in s or "terephthalate" in s) and (
        ("unsaturated" in s) != ("unsaturated" in reading.words)
    ):
        return -1  # polyester film and sheet are PET unless the text says "unsaturated"
    named = [name for name, (_, names, _) in POLYMERS.items() if any(n in s for n in names)]
    if named and not s.startswith("of other") and not s.startswith("other"):
        if not reading.polymer:
            return None
        return 1 if reading.polymer in named else -1
    if "plasticis" in s or "plasticiz" in s:
        return 1 if reading.plasticised else -1
    if s.startswith("cellular"):
        return 1 if _CELLULAR.search(" ".join(reading.words)) else -1
    if descent.is_other(s):
        return 0
    own = {w.rstrip("s") for w in re.findall(r"[a-z]+", s)} - descent.STOP
    said = {reading.word.split()[-1].rstrip("s")} | {w.rstrip("s") for w in reading.form.split()}
    return 1 if said & own else 0
