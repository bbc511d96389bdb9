"""Table, kitchen and cooking ware read the way the nomenclature reads it: by material first.

Pots, pans, kettles, mugs, plates, bowls and trays have no heading of their own: each material's
chapter has one for its table, kitchen and household articles (iron or steel 7323, aluminium
7615, copper 7418, porcelain 6911, other ceramics 6912, glass 7013, wood 4419; plastics 3924 is
the plastics reading's). Words pull a "cast iron fry pan" to cast iron tubes, a "copper
saucepan" to copper waste and a "stoneware mixing bowl" to tobacco-pipe bowls; the article and
its material are in the text.

``read`` returns the article the opening phrase ends with, what it is for (cooking, kitchen,
table, drinking) and the material named first; ``propose`` turns them into the heading and
subheading they point at and walks its lines (cast iron, enamelled, stainless; bakeware,
teakettles, cooking or kitchen ware; drinking glasses, stemware, lead crystal, low-expansion
glass; boards of bamboo), the line nearest in meaning where the text does not say (values per
dozen). Electric appliances (8516), vacuum flasks (9617), utensils and hand tools (8205, 8215),
sanitary ware and vases are not read. Advice like every retrieval ranking.

Pure: reads the ``Reference`` and its semantic index; no ORM.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from classification.engine import descent

# What an article is for → the product's words for it (the end of its opening phrase).
ARTICLES = (
    (
        "cooking",
        r"(?:frying |fry |sauce ?|saute |sheet |roasting |cake |muffin |loaf |pie |baking )?pans?|"
        r"skillets?|woks?|(?:stock ?|cooking |soup )?pots?|dutch ovens?|casseroles?|griddles?|"
        r"roasters?|baking (?:sheets?|trays?|dish(?:es)?)|bakeware|cookware|(?:tea ?)?kettles?|"
        r"teapots?|coffee ?pots?|percolators?|steamers?|pressure cookers?|cooking ware",
    ),
    (
        "kitchen",
        r"colanders?|mixing bowls?|measuring cups?|canisters?|bread (?:bins?|box(?:es)?)|"
        r"(?:cutting|chopping|bread|cheese|serving) boards?|trivets?|kitchenware|kitchen ware|"
        r"dish racks?|lunch box(?:es)?|food (?:storage )?containers?|chopsticks",
    ),
    (
        "drinking",
        r"(?:wine|drinking|beer|shot|champagne|cocktail|martini|whisk(?:e)?y|pint|juice|water) "
        r"glass(?:es)?|tumblers?|goblets?|(?:champagne )?flutes?|stemware",
    ),
    (
        "table",
        r"mugs?|(?:tea |coffee |espresso )?cups?|saucers?|(?:dinner|dessert|salad|side|serving|"
        r"charger|soup|cake|appetizer|snack) plates?|dinner ?ware|tableware|dinner sets?|"
        r"(?:serving |salad |soup |cereal |fruit |sugar |rice |noodle )?bowls?|platters?|"
        r"(?:serving |tea |food )?trays?|(?:butter |serving |baking )?dish(?:es)?|jugs?|pitchers?|"
        r"carafes?|decanters?|gravy boats?|egg cups?|salt and pepper shakers?|ice buckets?|"
        r"glassware|"
        r"(?:napkin|serviette) rings?",
    ),
)
_ARTICLE_RE = [(kind, re.compile(rf"(?<![\w-])(?:{p})$")) for kind, p in ARTICLES]
# Words before the article that make it something else: flower pots, oil pans, toilet bowls,
# satellite dishes, cable trays, suction cups.
_OTHER_USE = re.compile(
    r"(?<![\w-])(?:flower|plant|planter|garden|chamber|paint|oil|drain|drip|dust|litter|engine|"
    r"transmission|toilet|bowling|pipe|satellite|petri|culture|evaporating|soap|cable|tool|"
    r"seed(?:ling)?|parts|instrument|dental|sterili[sz]ation|surgical|medical|suction|bra|"
    r"menstrual|trophy|golf|cash|document|desk|filing|lobster|crab|singing|ash|lab(?:oratory)?)"
    r" (?:\w+ )?$"
)
_NOT_READ = re.compile(
    r"(?<![\w-])(?:electric(?:al)?|cordless|plug-in|battery[- ](?:powered|operated)|"
    r"vacuum[- ]insulated|vacuum flasks?|insulated|thermos|double[- ]wall(?:ed)? vacuum|"
    r"slow cookers?|rice cookers?|air fryers?|induction|toys?|doll(?:s|house)?|miniature|"
    r"vases?|sinks?|basins?|bath ?tubs?)(?![\w-])"
)
_FINISH = r"coat\w*|non-?stick|finish\w*|interior|colou?r\w*|plated|enamel\w*"
# Material → (heading, the product's words for it). The first named wins; "porcelain enamel" is
# an enamelled finish, not porcelain; "china" alone is a country.
MATERIALS = (
    ("cast iron", "7323", r"cast[- ]iron"),
    ("stainless steel", "7323", r"stainless(?: steel)?|18/(?:8|10|0)"),
    ("iron or steel", "7323", r"(?:carbon |enamel(?:l)?ed )?steel|iron|tin ?plate|tinned"),
    ("aluminium", "7615", r"alumini?um|anodi[sz]ed"),
    # Not a copper-clad base or a colour, nor a ceramic coating on a metal pan.
    (
        "copper",
        "7418",
        rf"(?:copper|brass|bronze)(?![- ](?:{_FINISH}|bottom\w*|clad|core|base|tone))",
    ),
    (
        "porcelain",
        "6911",
        r"porcelain(?![- ]enamel)|(?:bone|fine) china|chinaware",
    ),
    (
        "ceramics",
        "6912",
        rf"stoneware|earthenware|ceramics?(?![- ](?:{_FINISH}))|terra ?cotta|pottery|majolica|"
        r"faience|glazed clay",
    ),
    ("glass", "7013", r"glass(?:-ceramics?)?|borosilicate|(?:lead )?crystal|pyrex"),
    ("bamboo", "4419", r"bamboo"),
    (
        "wood",
        "4419",
        r"wood(?:en)?|acacia|olive ?wood|teak|walnut|maple|beech|oak|mahogany|rubberwood",
    ),
)
_MATERIAL_RE = descent.vocabulary([(name, pattern) for name, _, pattern in MATERIALS])
_MATERIAL_ANY = re.compile("|".join(pattern for _, _, pattern in MATERIALS))
_HEADING = {name: heading for name, heading, _ in MATERIALS}
_ENAMELLED = re.compile(r"(?<![\w-])(?:enamel(?:l)?ed|enamel|porcelain[- ]enamel(?:l)?ed)")
_STEM = re.compile(r"(?<![\w-])(?:wine|champagne|goblets?|flutes?|stem(?:med|ware)?)(?![\w-])")
_OPENING_END = descent.opening_end(r"to|by|on|at|measuring(?= \d)|weighing|approximately")


@dataclass(frozen=True)
class Reading:
    use: str  # "cooking", "kitchen", "table" or "drinking"
    word: str  # the product's word for the article ("fry pan")
    material: str  # a MATERIALS name
    heading: str
    text: str  # the product's words, for the lines' other conditions


class Proposal(descent.Proposal):
    basis = "household"

    @property
    def label(self) -> str:
        r = self.reading
        return f"{r.use} ware ({r.word}) of {r.material} → heading {self.heading}"

    @property
    def stated(self) -> bool:
        return True  # the material named settles the heading

    @property
    def detail(self) -> dict:
        r = self.reading
        return {"use": r.use, "article": r.word, "material": r.material}

    def contradicts(self, code: str) -> bool:
        """Another product's code contradicts this text when it is another material's heading
        of table and kitchen ware."""
        return code[:4] in _HOUSEHOLD and code[:4] != self.code[:4]


_HOUSEHOLD = frozenset({*_HEADING.values(), "3924"})


def read(facts: Mapping[str, object]) -> Reading | None:
    """The article of table, kitchen or cooking ware the opening phrase ends with and its
    material, or None."""
    description = descent.fold(str(facts.get("description") or ""))
    named = [descent.fold(str(facts.get(k) or "")) for k in ("product_type", "name")]
    text = " ".join([*named, description])
    if not _MATERIAL_ANY.search(text) and not facts.get("materials"):
        return None  # most products: no material of these headings named, one search
    if _NOT_READ.search(text):
        return None
    materials = " ".join(descent.fold(str(m)) for m in facts.get("materials") or ())
    for source in (*named, description):
        opening = _OPENING_END.split(source, maxsplit=1)[0].strip(" .'\"")
        for use, pattern in _ARTICLE_RE:
            found = pattern.search(opening)
            if found is None or _OTHER_USE.search(opening[: found.start()]):
                continue
            material = descent.first_named(f"{text} {materials}", _MATERIAL_RE)
            if not material:
                return None  # plastics are the plastics reading's; others are not read
            return Reading(use, found.group(0), material, _HEADING[material], text)
    return None


def propose(reading: Reading | None, reference, index=None, vector=None) -> list[Proposal]:
    """The line the reading points at (one proposal, rank 1), or none."""
    if reading is None:
        return []
    prefix = _subheading(reading)
    code = descent.line_for(reference, prefix, lambda s: _fit(s, reading), index, vector)
    return [Proposal(code, 1, reading.heading, reading)] if code else []


def _subheading(r: Reading) -> str:
    """The code prefix the material and use point at within the heading."""
    enamelled = bool(_ENAMELLED.search(r.text))
    if r.heading == "7323":
        if r.material == "cast iron":
            return "732392" if enamelled else "732391"
        if r.material == "stainless steel":
            return "732393"
        return "732394" if enamelled else "732399"
    if r.heading == "7013":
        if "glass-ceramic" in r.text:
            return "701310"
        if r.use == "drinking":
            return "70132" if _STEM.search(r.text) else "70133"
        return "70134"
    if r.heading == "4419":
        return "44191" if r.material == "bamboo" else "4419"
    return {"7615": "761510", "7418": "741810", "6911": "691110"}.get(r.heading, r.heading)


# Line conditions read from the product's words: segment start → the words that meet it.
_NAMED = (
    ("teakettles", r"kettles?"),
    ("bakeware", r"bak\w*|cake|muffin|loaf|pie|roasting|sheet pans?|casseroles?"),
    ("enameled or glazed or containing nonstick", r"enamel\w*|glazed|non-?stick|teflon|coated"),
    ("cast", r"cast|die-?cast"),
    ("containers suitable for food preparation", r"foil|disposable"),
    ("of tinplate", r"tin ?plate|tinned"),
    ("coated or plated with", r"(?:gold|silver)[- ]plated|gilt|gilded"),
    ("hotel or restaurant", r"hotel|restaurant|commercial|catering"),
    ("of bone chinaware", r"bone china"),
    ("mugs and other steins", r"mugs?|steins?"),
    ("cups valued", r"cups?|saucers?|soup|cereal"),
    ("steins with", r"decanters?|candy box\w*|punch bowls?|pretzel|tidbit|relish|canisters?"),
    ("serviette rings", r"(?:napkin|serviette) rings?"),
    ("gates for confining", r"gates?"),
    ("of glass-ceramics", r"glass-ceramics?"),
    ("of lead crystal", r"lead crystal"),
    (
        "of glass having a linear coefficient",
        r"borosilicate|pyrex|low[- ]expansion|heat[- ]resistant",
    ),
    ("pressed and toughened", r"tempered|toughened"),
    ("cut or engraved", r"cut|engraved|etched"),
    ("crystalline or non-lead crystal", r"crystal"),
    ("glassware decorated with metal", r"metal flecking|gold rim|ribbon"),
    ("smokers' articles", r"ashtrays?|perfume"),
    ("votive-candle holders", r"votive|candle"),
    ("of bamboo", r"bamboo"),
    ("bread boards, chopping boards", r"boards?"),
    ("chopsticks", r"chopsticks?"),
    ("forks and spoons", r"forks?|spoons?"),
    ("of tropical wood", r"teak|mahogany|meranti|sapele|iroko|ipe|balsa|rosewood|ebony"),
    ("of copper-zinc base alloys", r"brass"),
    ("cooking or heating apparatus", r"stoves?|burners?|heaters?"),
    ("pot scourers", r"scour\w*|steel wool|polishing pads?"),
    ("iron or steel wool", r"scour\w*|steel wool"),
)
_NAMED_RE = descent.vocabulary(_NAMED)


@lru_cache(maxsize=4_000)
def _fit(segment: str, reading: Reading) -> int | None:
    """Whether the product meets a line's condition (``descent.Fit``)."""
    s = descent.fold(segment).strip(" :")
    if s.startswith(("table, kitchen or other household", "tableware and kitchenware")):
        return 1
    if s.startswith("sanitary ware"):
        return -1
    if s.startswith("not "):  # "Not enameled or glazed …", "Not coated or plated …"
        positive = _fit(segment.strip()[4:].capitalize(), reading)
        return None if positive is None else -positive
    if s.startswith("cooking and kitchen ware"):
        return 1 if reading.use in ("cooking", "kitchen") else -1
    if s.startswith(("cooking ware", "cookingware", "other cookware")):
        return 1 if reading.use == "cooking" else -1
    if s.startswith("kitchen ware"):
        return 1 if reading.use == "kitchen" else -1
    if s.startswith("kitchen or tableware suitable for food"):
        return 1
    if s.startswith(("available in specified sets", "in any pattern", "valued")):
        return None  # values and patterns: the text rarely says
    named = descent.meets(s, _NAMED_RE, reading.text)
    if named is not None:
        return named
    return 0 if descent.is_other(s) else None
