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
    ("check", "848130", r"check|non-?return|backflow preventers?|foot"),
    ("safety or relief", "848140", r"safety|relief|pressure[- ]relief|blow-?off"),
)
_FUNCTION_RE = descent.vocabulary([(name, pattern) for name, _, pattern in FUNCTIONS])
_PREFIX = {name: prefix for name, prefix, _ in FUNCTIONS}
OTHER = "other appliance"  # no function named: 8481.80
# Appliances that are not of heading 8481, and what a valve word there means instead.
_NOT_READ = re.compile(
    r"(?<![\w-])(?:(?:engine|intake|exhaust|inlet|poppet) valves?|valve (?:covers?|springs?|"
    r"guides?|lifters?|trains?|tappets?|timing)|heart|aortic|mitral|cardiac|bags?|sacks?|"
    r"thermionic|vacuum tubes?|tubes? amplifiers?|amplifiers?|toys?|dies|tapping|"
    r"threading|tires?|tyres?|dance|keg taps? handles?|tap handles?|trumpets?|brass "
    r"instruments?|musical)(?![\w-])"
)
_OPENING_END = descent.opening_end("to|by|on|at")


@dataclass(frozen=True)
class Reading:
    function: str  # a FUNCTIONS name, or OTHER
    word: str  # the product's word for the appliance ("faucet parts", "hydrant")
    part: bool


class Proposal(descent.Proposal):
    basis = "valve"

    @property
    def label(self) -> str:
        r = self.reading
        what = "parts" if r.part else r.function
        return f"{r.word}: {what} → heading 8481"

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
    if _NOT_READ.search(text):
        return None
    for source in (*named, description):
        if _PARTS_OF_RE.search(source):
            return Reading(OTHER, "parts", True)
        opening = _OPENING_END.split(source, maxsplit=1)[0].strip(" .'\"")
        part = _PART_RE.search(opening)
        if part is not None:
            return Reading(OTHER, part.group(0), True)
        found = _APPLIANCE_RE.search(opening)
        if found is None:
            continue
        function = descent.first_named(opening, _FUNCTION_RE)
        return Reading(function or OTHER, found.group(0), False)
    return None


def propose(reading: Reading | None, reference, index=None, vector=None) -> list[Proposal]:
    """The line of the subheading the reading points at, nearest in meaning (one proposal)."""
    if reading is None:
        return []
    prefix = "848190" if reading.part else _PREFIX.get(reading.function, "848180")
    code = descent.nearest_under(reference, prefix, index, vector, parts=reading.part)
    return [Proposal(code, 1, "8481", reading)] if code else []
