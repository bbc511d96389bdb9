"""Taps, cocks, valves and their parts read the way heading 8481 reads them: by what they do.

Heading 8481 covers taps, cocks, valves and similar appliances for pipes, boiler shells, tanks,
vats or the like (faucets, hydrants, spigots, regulators), and splits them by function:
pressure-reducing (8481.10), for oleohydraulic or pneumatic transmissions (8481.20), check
(8481.30), safety or relief (8481.40), other appliances (8481.80, by material and type), parts
(8481.90). Words and meaning read a "yard hydrant" among ball bearings and "faucet parts" among
faucets; the article and its function are in the text.

``read`` returns the appliance (or its part) the opening phrase ends with and the function the
text names; ``propose`` turns it into the subheading it points at and that subheading's line
nearest in meaning. Valves of engines (8409), heart valves (9021), valve bags, thermionic
valves and threading taps are not read. Advice like every retrieval ranking.

Pure: reads the ``Reference`` and its semantic index; no ORM.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from classification.engine import descent

# The words that name an appliance of heading 8481 as the article. A regulator only with the
# medium or the pressure it regulates before it (not a voltage or window regulator).
_APPLIANCE = (
    r"valves?|faucets?|(?:stop|ball|drain|sill|bib|gas|petcock|pet )?cocks?|stopcocks?|"
    r"ballcocks?|petcocks?|hydrants?|spigots?|(?:hose )?bibbs?|mixer taps?|"
    r"(?<!screw )(?<!thread )(?<!threading )(?<!hand )(?<!machine )(?<!spiral )taps?|"
    r"(?:pressure|gas|propane|lpg|fuel|co2|oxygen|nitrogen|argon|air|water|cylinder) "
    r"(?:pressure )?regulators?|backflow preventers?"
)
# "a yard hydrant assembly", "a shut-off valve unit": the appliance itself.
_APPLIANCE_RE = re.compile(rf"(?<![\w-])(?:{_APPLIANCE})(?: assembl(?:y|ies)| units?)?$")
# A part the opening phrase ends with, after the appliance it is of ("valve bodies", "faucet
# cartridges", "valve parts"); "parts of valves" is read from the words after "parts of".
_PART_RE = re.compile(
    r"(?<![\w-])(?:valves?|faucets?|taps?|hydrants?|cocks?) (?:\w+ )?(?:parts?|bod(?:y|ies)|"
    r"bonnets?|stems?|seats?|discs?|disks?|cartridges?|handles?|spools?|plugs?|cores?|"
    r"trim|components?|castings?|forgings?|plates?)$"
)
_PARTS_OF_RE = re.compile(
    r"^(?:spare |replacement )?(?:parts?|components?) (?:of|for) (?:an? |the )?(?:\w+ ){0,2}"
    r"(?:valves?|faucets?|taps?|hydrants?|cocks?)\b"
)
# Function → (the subheading, the words that name it). The first named wins; hydraulic and
# pneumatic transmissions before check and relief ("hydraulic relief valves" are 8481.20).
FUNCTIONS = (
    (
        "oleohydraulic or pneumatic transmission",
        "848120",
        r"hydraulic|oleohydraulic|pneumatic|air[- ]operated|directional control|spool",
    ),
    (
        "pressure-reducing",
        "848110",
        r"pressure[- ](?:reducing|reduction|regulating|regulators?)|reducing|reducers?|"
        r"(?:gas|propane|lpg|co2|oxygen|nitrogen|argon|cylinder) (?:pressure )?regulators?",
    ),
    ("check", "848130", r"check|non-?return|backflow preventers?|foot valves?"),
    # Not "safety shut-off valves" (gas safety valves that close; they relieve nothing).
    ("safety or relief", "848140", r"safety (?:relief )?valves?|relief|blow-?off"),
)
_FUNCTION_RE = descent.vocabulary([(name, pattern) for name, _, pattern in FUNCTIONS])
_PREFIX = {name: prefix for name, prefix, _ in FUNCTIONS}
OTHER = "other appliance"  # no function named: 8481.80
# Appliances that are not of heading 8481, and what a valve word there means instead.
_NOT_READ = re.compile(
    r"(?<![\w-])(?:(?:engine|intake|exhaust|inlet|poppet) valves?|valve (?:covers?|springs?|"
    r"guides?|lifters?|trains?|tappets?|timing)|heart|aortic|mitral|cardiac|bags?|sacks?|"
    r"thermionic|vacuum tubes?|tubes? amplifiers?|amplifiers?|toys?|dies|tapping|"
    r"threading|tires?|tyres?|dance|(?:beer|keg) taps? handles?|trumpets?|brass "
    r"instruments?|musical)(?![\w-])"
)
_OPENING_END = descent.opening_end("to|by|on|at")
_ANY_APPLIANCE = re.compile(r"valve|faucet|tap|cock|hydrant|spigot|bibb|regulator|preventer")


# The facts the lines below a subheading turn on: the material named first (brass is copper,
# stainless steel is steel), whether the appliance is worked by hand or by an actuator, its type.
MATERIALS = (
    ("copper", r"copper|brass|bronze|gunmetal"),
    ("iron", r"(?:cast|ductile|malleable|grey|gray) iron|iron"),
    ("steel", r"(?:stainless|carbon|alloy|forged) steel|stainless|steel"),
    (
        "other",
        r"plastics?|pvc|cpvc|abs|polypropylene|polyethylene|nylon|zinc|zamak|alumini?um|"
        r"ceramic|glass|rubber",
    ),
)
_MATERIAL_RE = descent.vocabulary(MATERIALS)
_ACTUATED = re.compile(
    r"(?<![\w-])(?:solenoids?|electric(?:al(?:ly)?)?|motori[sz]ed|motor[- ]operated|actuat\w+|"
    r"pneumatic|air[- ]operated|hydraulic|thermostatic\w*|automatic|self[- ]operating|"
    r"regulat\w+|float|ballcocks?|fill valves?)(?![\w-])"
)
_BY_HAND = re.compile(
    r"(?<![\w-])(?:faucets?|taps?|hydrants?|spigots?|cocks?|stopcocks?|bibbs?|hand[- ]operated|"
    r"hand|manual(?:ly)?|levers?|handles?|hand ?wheels?|knobs?|shut-?off|supply stops?)(?![\w-])"
)
TYPES = (
    ("gate", r"gate"),
    ("globe", r"globe"),
    ("plug", r"plug"),
    ("ball", r"ball"),
    ("butterfly", r"butterfly"),
)
_TYPE_RE = descent.vocabulary([(n, rf"{p} (?:valves?|cocks?)") for n, p in TYPES])
# Line conditions read from the product's words: segment start → the words that meet it.
_NAMED = (
    ("solenoid", r"solenoids?"),
    ("ballcock", r"ballcocks?|fill valves?|float valves?"),
    ("regulator", r"regulat\w+"),
    ("with electrical", r"electric\w*|motori[sz]ed|motor[- ]operated"),
    ("with hydraulic", r"hydraulic\w*"),
    ("with pneumatic", r"pneumatic|air[- ]operated"),
    ("with thermostatic", r"thermostatic\w*"),
    ("control valves designed for proportional", r"proportional"),
    ("pressure spray can", r"aerosol|spray cans?"),
    ("bath and shower", r"bath\w*|shower\w*|tub"),
    ("sink and lavatory", r"sinks?|lavator\w+|basins?|kitchen|bathroom"),
    ("bath, shower, sink and lavatory", r"faucets?|taps?|mixers?"),
    ("supply stops", r"supply stops?|angle stops?|stop valves?"),
    ("hydraulic fluid power", r"hydraulic\w*"),
    ("pneumatic fluid power", r"pneumatic|air"),
    ("filter-regulators", r"filter"),
    ("hydraulic valves", r"hydraulic\w*"),
    ("directional control", r"directional|spool"),
    ("manual type", r"manual\w*|hand\w*|levers?"),
    ("solenoid type", r"solenoids?"),
    ("flow control", r"flow control\w*"),
    ("valve bodies", r"bod(?:y|ies)"),
    ("steel forgings", r"forg\w+"),
)
_NAMED_RE = descent.vocabulary(_NAMED)


@dataclass(frozen=True)
class Reading:
    function: str  # a FUNCTIONS name, or OTHER
    word: str  # the product's word for the appliance ("faucet parts", "hydrant")
    part: bool
    material: str = ""  # a MATERIALS name, "" when the text names none
    by_hand: bool | None = None  # None when the text does not say
    kind: str = ""  # a TYPES name ("ball"), "" when not named
    text: str = ""  # the product's words, for the lines' other conditions


class Proposal(descent.Proposal):
    basis = "valve"

    @property
    def label(self) -> str:
        r = self.reading
        what = f"parts ({r.word})" if r.part else f"{r.word} ({r.function})"
        of = f", of {r.material}" if r.material and r.material != "other" else ""
        return f"{what}{of} → heading 8481"

    @property
    def stated(self) -> bool:
        return self.reading.part or self.reading.function != OTHER

    @property
    def detail(self) -> dict:
        r = self.reading
        return {"function": r.function, "article": r.word, "part": r.part}

    def contradicts(self, code: str) -> bool:
        """Another product's code contradicts this text when it is another subheading of 8481
        and the text states the function (or that the goods are parts)."""
        return self.stated and code[:4] == "8481" and code[:6] != self.code[:6]


def read(facts: Mapping[str, object]) -> Reading | None:
    """The appliance or part the opening phrase ends with, and the function named, or None."""
    description = descent.fold(str(facts.get("description") or ""))
    named = [descent.fold(str(facts.get(k) or "")) for k in ("product_type", "name")]
    text = " ".join([*named, description])
    if not _ANY_APPLIANCE.search(text) or _NOT_READ.search(text):
        return None  # most products: one search
    materials = " ".join(descent.fold(str(m)) for m in facts.get("materials") or ())
    facts_of = {
        "material": descent.first_named(f"{text} {materials}", _MATERIAL_RE),
        "by_hand": False if _ACTUATED.search(text) else (True if _BY_HAND.search(text) else None),
        "kind": descent.first_named(text, _TYPE_RE),
        "text": text,
    }
    for source in (*named, description):
        if _PARTS_OF_RE.search(source):
            return Reading(OTHER, "parts", True, **facts_of)
        opening = _OPENING_END.split(source, maxsplit=1)[0].strip(" .'\"")
        part = _PART_RE.search(opening)
        if part is not None:
            return Reading(OTHER, part.group(0), True, **facts_of)
        found = _APPLIANCE_RE.search(opening)
        if found is None:
            continue
        function = descent.first_named(opening, _FUNCTION_RE)
        return Reading(function or OTHER, found.group(0), False, **facts_of)
    return None


def propose(reading: Reading | None, reference, index=None, vector=None) -> list[Proposal]:
    """The line of the subheading the reading points at, nearest in meaning (one proposal)."""
    if reading is None:
        return []
    prefix = "848190" if reading.part else _PREFIX.get(reading.function, "848180")
    code = descent.line_for(reference, prefix, lambda s: _fit(s, reading), index, vector)
    return [Proposal(code, 1, "8481", reading)] if code else []


@lru_cache(maxsize=4_000)
def _fit(segment: str, reading: Reading) -> int | None:
    """Whether the product meets a line's condition below its subheading (``descent.Fit``)."""
    s = descent.fold(segment).strip(" :")
    material = reading.material
    if s.startswith("of copper"):
        return None if not material else (1 if material == "copper" else -1)
    if s.startswith("of iron or steel"):
        return None if not material else (1 if material in ("iron", "steel") else -1)
    if s in ("of iron", "of steel"):
        return None if material not in ("iron", "steel") else (1 if s[3:] == material else -1)
    if s.startswith("of other materials"):
        return None if not material else (1 if material == "other" else -1)
    if s.startswith(("hand operated", "of hand operated")):  # parts: "… and check appliances"
        if reading.by_hand or (s.startswith("of") and re.search(r"\bcheck\b", reading.text)):
            return 1
        return None if reading.by_hand is None else -1
    if s.startswith("having a pressure rating"):
        return None  # the text rarely states it: both, then meaning
    for name, _ in TYPES:
        if s.startswith(f"{name} type"):
            return 1 if reading.kind == name else -1
    if s.startswith("of valves of subheading 8481.20"):
        return 1 if re.search(r"hydraulic|pneumatic|spool", reading.text) else -1
    named = descent.meets(s, _NAMED_RE, reading.text)
    if named is not None:
        return named
    return 0 if descent.is_other(s) else None
