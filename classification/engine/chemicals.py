"""Organic chemicals of chapter 29 read the way the chapter reads them: by function.

Chapter 29 sorts a separate, chemically defined organic compound by its functions and rings —
hydrocarbons (29.01–29.02) and their halogenated or nitrated derivatives, alcohols, phenols,
ethers, aldehydes, ketones, acids, esters of inorganic acids, amines, amides, nitriles, azo
compounds, organo-sulphur compounds, heterocycles by hetero-atom (29.32–29.34), sulphonamides —
and note 3 settles a compound with several: the heading that occurs last in numerical order.
Notes 4 and 5 refine that: an amine with an oxygen function is an oxygen-function amino-compound
(29.22), an acid with another oxygen function goes to 29.18, a phenol halogenated or nitrated to
29.08, a salt of an organic base to the base's heading. Words and meaning match a systematic
name's fragments ("amino", "benzoic") to unrelated lines; the functions are in the name.

``read`` returns the functions the product's systematic name states (the opening phrase, when it
is a compound's name rather than goods: "4-amino-…-naphthalenedisulfonic acid, used as …");
``propose`` turns them into the heading note 3 gives and its lines (``engine/descent.py``), and
the next heading as an alternative. Advice like every retrieval ranking.

Pure: reads the ``Reference`` and its semantic index; no ORM.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from classification.engine import descent

# Heading → the name fragments that state its function (folded text; matched inside words, so
# each pattern guards its own edges). Rings and groups the lines of a heading turn on are in
# ``RINGS``.
FUNCTIONS = {
    "2901": r"(?<!ur)(?:meth|eth|prop|but|pent|hex|hept|oct|non|dec)(?:ane|ene|yne|adiene)\b|"
    r"isoprene|acetylene",
    "2902": r"benzene\b|toluene|xylene|styrene|naphthalene\b|anthracene|fluorene\b|cumene|"
    r"biphenyl\b|cyclo\w*(?:ane|ene)\b",
    "2903": r"(?<![a-z])(?:mono|di|tri|tetra|penta|hexa|per)?(?:fluoro|chloro|bromo|iodo)(?!form)|"
    r"chloroform|yl (?:chloride|bromide|fluoride|iodide)\b|ylene (?:chloride|bromide)\b",
    "2904": r"sul(?:ph|f)onic acid|sul(?:ph|f)onate|nitro(?!gen|us)",
    "2905": r"\w(?<!ph)(?:an|en)ol\b|glycol\b|sorbitol|mannitol|xylitol|erythritol|"
    r"\wyl alcohol\b|(?<![a-z])hydroxy(?!\w*(?:phenyl|benz|naphth))",
    "2907": r"phenol\b|cresol|naphthol|hydroquinone|resorcinol|catechol|bisphenol|"
    r"hydroxy\w*(?:phenyl|benz|naphth)",
    "2909": r"(?:meth|eth|prop|but|pent|phen|benzyl|alk)oxy|\bethers?\b|peroxide|anisol",
    "2910": r"oxirane|epoxide|glycidyl|(?:ethylene|propylene) oxide",
    "2911": r"(?<![a-z])acetal\b|hemiacetal",
    "2912": r"aldehyde|\w{2}anal\b|vanillin|formyl",
    "2914": r"ketone|\w(?:an|en)one\b|acetone|quinone|(?<![a-z])oxo|dione\b|camphor|ionone",
    "2915": r"formic|acetic|propionic|butyric|valeric|caproic|caprylic|lauric|palmitic|stearic|"
    r"\wanoic acid|(?<![a-z])(?:formate|acetate|propionate|butyrate|stearate|palmitate|laurate)|"
    r"anhydride|acetyl chloride",
    "2916": r"acrylic|acrylate|methacryl|oleic|linole|\wenoic acid|benzoic|benzoate|"
    r"phenylacetic|cinnamic|sorbic",
    "2917": r"oxalic|adipic|azelaic|sebacic|maleic|fumaric|phthalic|phthalate|succinic|malonic|"
    r"glutaric|(?:di|tri|tetra)carboxylic|\wdioic acid",
    "2918": r"lactic|tartaric|citric|gluconic|malic|salicyl|glycolic|glyoxylic|phenoxyacetic",
    "2919": r"yl phosphate|glycerophosphate",
    "2920": r"phosphite|thiophosphate|yl sul(?:ph|f)ate|yl carbonate|ylene carbonate",
    "2921": r"amine\b|(?<![a-z])(?:di|tri)?amino(?!\s?acid)|aniline|toluidine|diamine",
    "2922": r"amino\s?acids?|glycine|alanine|lysine|glutamic|aspartic|serine|threonine|tyrosine|"
    r"ethanolamine|\wolamine|anisidine|aminophenol|aminobenzoic",
    "2923": r"\w(?:yl)?ammonium (?:chloride|bromide|hydroxide|salt)|choline|betaine|lecithin",
    "2924": r"(?<!on)(?<!f)amide\b|amido|carbamoyl|carbamate|anilide|"
    r"\wylurea|ureido|urethane",
    "2925": r"(?<![a-z])imide\b|\wimide\b|imine\b|(?<![a-z])imino|guanidine|saccharin|amidine",
    "2926": r"nitrile|cyano(?!cobalamin)|\wyl cyanide",
    "2927": r"(?<![a-z])(?:di)?azo(?:xy)?(?![a-z])|diazo|azobenzene|azobis|\)azo",
    "2928": r"hydrazide|hydrazone|\w+hydrazine|oxime\b|hydroxylamine|semicarbazide",
    "2929": r"isocyanate",
    "2930": r"thiol\b|mercapto|(?:(?<![a-z])|di|tri|yl)thio(?!ph)|sulfide|sulphide|sulfone|"
    r"sulphone|sulfoxide|sulphoxide|methionine|dithiocarbamate|thiuram|thiourea",
    "2931": r"silane|siloxane|silyl|phosphonic|phosphonate|phosphine\b|stannane|tributyltin|"
    r"ferrocene|boronic",
    "2932": r"furan|furfural|pyran|pyrone|lactone|coumarin|dioxane|dioxolane|dioxol|chromen|"
    r"chroman|xanthene|flavone",
    "2933": r"pyridin|pyridyl|piperidin|pyrimidin|piperazin|pyrazol|imidazol|triazin|triazol|"
    r"tetrazol|quinolin|quinazolin|quinoxalin|indol|pyrrol|purin|pteridin|pyrazin|pyridazin|"
    r"carbazol|acridin|azepin|diazepin|hydantoin|melamine|caprolactam|lactam\b|aziridin|"
    r"indazol|naphthyridin|quinuclidin",
    "2934": r"thiazol|thiophen|thienyl|oxazol|morpholin|oxazin|thiazin|thiadiazol|oxadiazol|"
    r"nucleic acid",
    "2935": r"sul(?:ph|f)onamide|sulfamoyl|sulphamoyl|sulfonylamino|sulfonylurea|sulfanil",
    "2936": r"(?<!multi)vitamin(?!s)|tocopherol|ascorbic|riboflavin|thiamine|niacin|pantothen|"
    r"biotin|folic acid|cobalamin|retinol|calciferol|pyridoxine",
    "2937": r"hormone|steroid|estradiol|testosterone|progesterone|cortisone|dexamethasone|"
    r"prednisolone|prostaglandin|oxytocin",
    "2939": r"alkaloid|caffeine|nicotine|ephedrine|morphine|codeine|quinine|theobromine|"
    r"theophylline|atropine|scopolamine|reserpine|papaverine",
    "2941": r"antibiotic|penicillin|\wcillin\b|\wmycin\b|tetracycline|chloramphenicol|"
    r"cephalosporin",
}
# What each heading's function is called on the decision page.
NAMES = {
    "2901": "acyclic hydrocarbon",
    "2902": "cyclic hydrocarbon",
    "2903": "halogenated hydrocarbon",
    "2904": "sulphonated or nitrated hydrocarbon",
    "2905": "acyclic alcohol",
    "2906": "cyclic alcohol",
    "2907": "phenol",
    "2908": "halogenated or nitrated phenol",
    "2909": "ether",
    "2910": "epoxide",
    "2911": "acetal",
    "2912": "aldehyde",
    "2914": "ketone or quinone",
    "2915": "saturated acyclic monocarboxylic acid",
    "2916": "unsaturated or cyclic monocarboxylic acid",
    "2917": "polycarboxylic acid",
    "2918": "carboxylic acid with another oxygen function",
    "2919": "phosphoric ester",
    "2920": "ester of another inorganic acid",
    "2921": "amine",
    "2922": "amino-compound with an oxygen function",
    "2923": "quaternary ammonium salt",
    "2924": "carboxyamide",
    "2925": "carboxyimide or imine",
    "2926": "nitrile",
    "2927": "azo compound",
    "2928": "hydrazine or hydroxylamine derivative",
    "2929": "other nitrogen function",
    "2930": "organo-sulphur compound",
    "2931": "organo-inorganic compound",
    "2932": "oxygen heterocycle",
    "2933": "nitrogen heterocycle",
    "2934": "other heterocycle",
    "2935": "sulphonamide",
    "2936": "vitamin",
    "2937": "hormone",
    "2939": "alkaloid",
    "2941": "antibiotic",
}
# International non-proprietary names whose WHO stem states the structure ("-floxacin": a
# quinolone, "-oxicam": a benzothiazine): only stems whose members share one heading.
INN_STEMS = {
    "2922": r"olol",  # aryloxypropanolamines: amino-alcohol ethers
    "2926": r"pamil",  # verapamil and its kin: nitriles
    "2933": r"floxacin|azepam|azolam|prazole|dipine|sartan|pril|setron|azosin|conazole",
    "2934": r"oxicam|laner",  # benzothiazines, isoxazolines
}
for _heading, _stems in INN_STEMS.items():
    FUNCTIONS[_heading] += rf"|\b[a-z]{{3,}}(?:{_stems})\b"
_FUNCTION_RE = {h: re.compile(p) for h, p in FUNCTIONS.items()}
_OXYGEN = {"2905", "2906", "2907", "2909", "2910", "2911", "2912", "2914"}  # note 4's functions
_ACIDS = {"2915", "2916", "2917"}
_RING = re.compile(r"benz|phen|naphth|cyclo|toluen|xylen|styren|anthr|pyr|indol|quinol|azin|azol")
# A systematic name: locants ("2,4-", "N-", "4,4'-"), a CAS number, or a radical or ring prefix.
_SYSTEMATIC = re.compile(
    r"(?<![a-z0-9])(?:\d+(?:,\d+)*'*|[nops])-[a-z(\[]|\bcas\b|\b\d{2,7}-\d\d-\d\b|"
    r"(?:meth|eth|prop|but|phen|benz)yl|(?:mono|di|tri|tetra)(?:meth|eth|chlor|fluor|brom|amin|"
    r"hydr|nitr|sulf)"
)
# Goods, preparations and mixtures: the opening phrase names something other than a compound.
_NOT_A_COMPOUND = re.compile(
    r"\b(?:preparations?|mixtures?|formulations?|blends?|compounds? for|kits?|sets?|tablets?|"
    r"capsules?|dos(?:es|age)|creams?|paints?|inks?|coatings?|adhesives?|glues?|resins?|"
    r"polymers?|copolymers?|fertili[sz]ers?|sheets?|films?|fibers?|fibres?|yarns?|fabrics?|"
    r"foams?|machines?|devices?|apparatus|parts?|tools?|pipes?|tubes?|bags?|bottles?|"
    r"containers?|toys?|garments?|shirts?|plates?|rods?|wires?|cables?|filters?|lamps?|"
    r"detergents?|soaps?|cleaners?|cosmetics?|shampoos?|lotions?|perfumes?|fragrances?|"
    r"catalysts?|solvents? for|insecticides?|herbicides?|fungicides?|pesticides?|dyes? for|"
    r"medicaments?|supplements?|extracts?|oils?)\b|\bpoly(?!ol|amine|carboxylic|phosph)[a-z]"
)
# Chapter 29 note 2: compounds the chapter leaves to other headings (ethyl alcohol to 22.07 or
# 22.08, methane and propane to 27.11, urea to 31.02, glycerol to 15.20).
NOT_CHAPTER_29 = frozenset(
    ("ethanol", "ethyl alcohol", "methane", "propane", "urea", "glycerol", "glycerin", "glycerine")
)
# Salt-forming acids named after an organic base ("verapamil hydrochloride"): note 5 (C) puts
# the salt with the base, so the anion states no function of its own.
_SALT_OF_BASE = re.compile(
    r"(?<=[a-z]) (?:mono|di)?(?:hydrochloride|hydrobromide|hydroiodide|mesylate|besylate|"
    r"tosylate|maleate|fumarate|tartrate|citrate|succinate|sul(?:ph|f)ate|phosphate|nitrate)\b"
)
_SALT_WORDS = re.compile(
    r"\b(?:mono|di|tri)?(?:hydrochloride|hydrobromide|hydrate|sodium salt|potassium salt|salt)s?\b"
)
_OPENING_END = re.compile(
    rf",(?!\d)|;|:|\s-\s|\b(?:{descent.DETAIL_WORDS}|as|an?|in bulk|imported|powder|crystals)\b"
)
# Words of a compound's name besides its functions: radicals, ions, and how it is put up.
_CHEMICAL_WORD = re.compile(
    "|".join(FUNCTIONS.values())
    + r"|meth|eth|prop|but|pent|hex|hept|oct|phen|benz|naphth|yl$|ide$|ate$|ite$|ium$|"
    r"^(?:acids?|salts?|bis|tris|mono|sodium|potassium|calcium|magnesium|lithium|zinc|"
    r"hydrates?|monohydrate|dihydrate|anhydrous|technical|grade|pure|crystalline|liquid|cas|"
    r"isomers?|esters?|derivatives?)$"
)
_LOCANTS = re.compile(r"\d|[\[\]()',]|(?<![a-z])[nops](?=-)")

# Rings and classes the lines of chapter 29 name, and the fragments that state them.
RINGS = {
    "pyrazole": r"pyrazol",
    "imidazole": r"imidazol",
    "pyridine": r"pyridin|pyridyl|piperidin",
    "quinoline": r"quinolin",
    "pyrimidine": r"pyrimidin|piperazin",
    "triazine": r"triazin",
    "lactam": r"lactam",
    "thiazole": r"thiazol",
    "benzothiazole": r"benzothiazol",
    "phenothiazine": r"phenothiazin",
    "furan": r"furan|furfur",
    "lactone": r"lactone|coumarin",
    "aromatic": r"benz|phen|naphth|tolu|xyl|anilin|pyridin|pyrimidin|quinolin|indol|pyrrol|"
    r"furan|thiophen|azol|azin|anthr|styr",
    "halogenated": r"fluoro|chloro|bromo|iodo|chloride|bromide|fluoride|iodide",
    "saturated": r"\w(?:ane|anol|anal|anoic)\b",
    "unsaturated": r"\w(?:ene|yne|enol|enoic)\b|acryl|oleic|linole",
}
_RING_RE = {name: re.compile(p) for name, p in RINGS.items()}
_SEGMENT_CLASS = re.compile(
    r"compounds|containing|acids?\b|hydrocarbons|alcohols|ethers|"
    r"amines|amides|ring|aromatic|saturated|unsaturated|halogenated|drugs|pesticides|"
    r"products|used|other"
)
# The last heading of sub-chapters with functions alone: heterocycles and after need a ring or a
# natural class, which ``FUNCTIONS`` states directly.
_NAMED_CLASS = {"2936", "2937", "2939", "2941"}


@dataclass(frozen=True)
class Reading:
    name: str  # the compound's name as the text gives it (the opening phrase)
    headings: tuple[str, ...]  # every heading a function of the name points at, ascending
    heading: str  # the one note 3 gives
    rings: frozenset[str]  # rings and classes the name states (``RINGS``)


@dataclass(frozen=True)
class Proposal(descent.Proposal):
    sole: bool = False  # the only subheading the name allows (its rings and named compounds)

    basis = "chemical"

    @property
    def label(self) -> str:
        r = self.reading
        stated = ", ".join(f"{NAMES.get(h, 'function')} ({h[:2]}.{h[2:]})" for h in r.headings)
        if self.heading != r.heading:
            return f"{r.name}: {stated}; also heading {self.heading}, after note 3's {r.heading}"
        if len(r.headings) == 1:
            return f"{r.name}: {stated} → heading {r.heading}"
        return f"{r.name}: {stated} → heading {r.heading} (chapter 29 note 3: the last)"

    @property
    def stated(self) -> bool:
        """The name settles the subheading, not only the heading."""
        return self.sole

    @property
    def detail(self) -> dict:
        r = self.reading
        return {"compound": r.name, "functions": list(r.headings), "rings": sorted(r.rings)}

    def contradicts(self, code: str) -> bool:
        """Another product's code contradicts this name when it is another heading of chapter
        29: the functions are in the name."""
        return code[:2] == "29" and code[:4] != self.reading.heading


def read(facts: Mapping[str, object]) -> Reading | None:
    """The functions of the compound the opening phrase names; None for goods, preparations,
    and names that state no function (trade names, "calcium hypochlorite"). Of the name, the
    description and the product type, the fullest statement of the compound (a catalog name may
    be a cut "4-Amino-3")."""
    found = []
    for key in ("name", "description", "product_type"):
        text = descent.fold(str(facts.get(key) or "")).strip()
        if text:
            reading = _read_name(_OPENING_END.split(text, maxsplit=1)[0].strip(" ."))
            if reading is not None:
                found.append(reading)
    return max(found, key=lambda r: len(r.name), default=None)


@lru_cache(maxsize=20_000)
def _read_name(name: str) -> Reading | None:
    if not name or _NOT_A_COMPOUND.search(name):
        return None
    words = re.findall(r"[a-z]{3,}", _LOCANTS.sub(" ", name))
    if " ".join(words) in NOT_CHAPTER_29:
        return None
    chemical = sum(1 for w in words if _CHEMICAL_WORD.search(w))
    unknown = len(words) - chemical
    # Every word a compound's, or a systematic name beside at most as many others (a trade name).
    if not chemical or (unknown and not (_SYSTEMATIC.search(name) and unknown <= chemical)):
        return None
    probe = _SALT_OF_BASE.sub("", name) if len(words) > 1 else name
    found = _refine({h for h, pattern in _FUNCTION_RE.items() if pattern.search(probe)}, probe)
    if not found:
        return None
    rings = frozenset(r for r, pattern in _RING_RE.items() if pattern.search(probe))
    ordered = tuple(sorted(found))
    return Reading(name, ordered, ordered[-1], rings)


def _refine(found: set[str], name: str) -> set[str]:
    """Notes 3–5 on what a name's fragments state together."""
    if "2905" in found and _RING.search(name) and "2907" not in found:
        found = found - {"2905"} | {"2906"}  # an alcohol on a ring is a cyclic alcohol
    functions = found - {"2901", "2902", "2903", "2904"}
    if functions:  # a hydrocarbon's halogens and nitro groups only qualify other functions
        found = set(functions)
        qualified = _FUNCTION_RE["2903"].search(name) or _FUNCTION_RE["2904"].search(name)
        if qualified and max(found) == "2907":
            found.add("2908")  # halogenated, sulphonated or nitrated phenols
    elif {"2903", "2904"} & found:
        found -= {"2901", "2902"}
    if "2921" in found and found & (_OXYGEN | _ACIDS | {"2918"}):
        found.add("2922")  # an amino-compound with an oxygen function
    if found & _ACIDS and found & _OXYGEN:
        found.add("2918")  # a carboxylic acid with an additional oxygen function
    return found


# Rank of the first line a reading allows only as an alternative (another subheading of its
# heading, the runner-up heading): far enough behind the lines it reads to follow them.
ALTERNATIVE_RANK = 10


def propose(reading: Reading | None, reference, index=None, vector=None) -> list[Proposal]:
    """The lines of the heading note 3 gives, one per subheading: those its rings and named
    compounds allow first (ranks 1–3), then two others of the heading and the runner-up
    heading's line as alternatives (from ``ALTERNATIVE_RANK``)."""
    if reading is None:
        return []
    fit = lambda s: _fit(s, reading)  # noqa: E731
    kept, others = _lines_for(reference, reading.heading, fit, index, vector)
    sole = len(kept) == 1
    out = [Proposal(c, rank, reading.heading, reading, sole) for rank, c in enumerate(kept[:3], 1)]
    rank = ALTERNATIVE_RANK
    for code in others[:2]:
        out.append(Proposal(code, rank, reading.heading, reading))
        rank += 1
    runner_up = [h for h in reading.headings if h != reading.heading]
    if runner_up:
        code = descent.line_for(reference, runner_up[-1], fit, index, vector)
        if code:
            out.append(Proposal(code, rank, runner_up[-1], reading))
    return out


def _lines_for(reference, heading: str, fit, index, vector) -> tuple[list[str], list[str]]:
    """One line per subheading of the heading, nearest in meaning first (by code without
    vectors): those ``fit`` keeps, and the others (a name can be read wrong)."""
    lines = descent.heading_lines(reference, heading)
    if not lines:
        return [], []
    kept = set(descent.descend(lines, 0, fit))
    order = sorted(code for code, _ in lines)
    if index is not None and vector is not None:
        near = [h.code for h in index.under(heading, vector, 200)]
        order = list(dict.fromkeys([*near, *order]))
    seen: set[str] = set()
    out: tuple[list[str], list[str]] = ([], [])
    for code in [c for c in order if c in kept] + [c for c in order if c not in kept]:
        if code[:6] not in seen:
            seen.add(code[:6])
            out[code not in kept].append(code)
    return out


# The functions that lines of combined classes name ("Ether-phenols", "Amino-alcohols"), and
# the headings that state them.
_CLASSES = {
    "alcohol": {"2905", "2906"},
    "phenol": {"2907", "2908"},
    "naphthol": {"2907", "2908"},
    "ether": {"2909"},
    "aldehyde": {"2912"},
    "ketone": {"2914"},
    "quinone": {"2914"},
    "acid": {"2915", "2916", "2917", "2918"},
    "amino": {"2921", "2922"},
}


def _compound_classes(segment: str, headings: tuple[str, ...]) -> int | None:
    """1 when one of the combined classes a line lists ("ether-phenols, ether-alcohol-phenols")
    has every function the name states, -1 when none has; None for other lines."""
    head = re.split(r" and their| and its|;|:", segment)[0]
    items = [i for i in re.split(r",\s*| and | or ", head) if "-" in i]
    parts = [re.findall(r"[a-z]+", i) for i in items]
    parts = [[w.rstrip("s") for w in p if w.rstrip("s") in _CLASSES] for p in parts]
    parts = [p for p in parts if len(p) > 1]
    if not parts:
        return None
    stated = set(headings)
    return 1 if any(all(_CLASSES[w] & stated for w in p) for p in parts) else -1


_NOT_NAMES = descent.STOP | {"derivatives", "esters", "salts", "isomers", "having", "purity"}
_RING_NAMES = ("pyrazole", "imidazole", "pyridine", "quinoline", "pyrimidine", "triazine", "lactam")
_RING_NAMES += ("thiazole", "benzothiazole", "phenothiazine", "furan", "lactone")


@lru_cache(maxsize=20_000)
def _fit(segment: str, reading: Reading) -> int | None:
    s = descent.fold(segment).strip(" :")
    if descent.is_other(s):
        return 0
    words = set(re.findall(r"[a-z]+", s))
    if words & {"peroxide", "peroxides"}:
        return 1 if "peroxide" in reading.name else -1
    aromatic = "aromatic" in reading.rings
    if s.startswith("aromatic or modified aromatic") or "aromatic" in words:
        return 1 if aromatic else -1
    rings = {r for r in _RING_NAMES if _RING_RE[r].search(s)}
    if rings and words & {"ring", "containing", "compounds", "lactams", "lactones"}:
        return 1 if rings & reading.rings else -1
    if s in ("saturated", "unsaturated"):
        said = reading.rings & {"saturated", "unsaturated"}
        return None if not said else (1 if s in said else -1)
    compound = _compound_classes(s, reading.headings)
    if compound is not None:
        return compound
    if s.startswith("acyclic"):
        return -1 if aromatic or "cyclo" in reading.name else None
    if s.startswith(("cyclanic", "cyclanes")):
        return None if "cyclo" in reading.name else -1
    if s.startswith(("drugs", "pesticides", "products used", "fungicides", "herbicides")):
        return None  # the use is not in a compound's name
    # A line for named compounds ("Pyridine and its salts", "Acenaphthene, …, fluorene, …"): the
    # compound must be one of them; "Aniline derivatives": the name must contain it.
    head = re.split(r" and (?:its|their) | thereof", s)[0]
    if _SEGMENT_CLASS.search(head):
        return None
    listed = [_key(c) for c in re.split(r";|,(?!\d)| and ", head)]
    listed = [c for c in listed if len(c) >= 4]
    if not listed:
        return None
    own = _key(reading.name)
    if "derivative" in s and not s.startswith("other"):
        stems = [_key(c.replace("derivatives", "")) for c in re.split(r";|,(?!\d)| and ", head)]
        return 1 if any(len(c) >= 4 and c in own for c in stems) else -1
    return 1 if own in listed else -1


def _key(name: str) -> str:
    """A compound's name as letters only, without locants, CAS numbers, salts and hydrates:
    "4,4'-Diaminodiphenylsulfone (CAS 80-08-0)" and "4,4'-diaminodiphenyl sulfone" compare equal."""
    name = re.sub(r"\((?:cas|[^)]*\d{2,7}-\d\d-\d)[^)]*\)|\bcas\b.*", "", name)
    name = _SALT_WORDS.sub("", name)
    return re.sub(r"[^a-z]", "", _LOCANTS.sub("", name))
