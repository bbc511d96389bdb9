"""Measuring, checking and regulating instruments read the way chapter 90 reads them: by what
they measure.

Headings 9025 to 9032 sort instruments by the quantity they measure or check, not by how they are
built: temperature and humidity (9025), the flow, level or pressure of liquids and gases (9026),
physical or chemical analysis: gas and smoke, chromatography, spectrometry, pH, viscosity (9027),
gas, liquid and electricity supply meters (9028), revolutions, counts and speed (9029),
electrical quantities and telecommunication tests (9030), automatic regulation: thermostats
(9032). Words and meaning pull "dew point transmitters" to radio transmitters and "electronic
pressure transducers" to semiconductors; the article ("transmitter", "transducer", "gauge") and
the quantity ("dew point", "pressure") are in the text.

``read`` returns the instrument the opening phrase ends with and the quantity the text names;
``propose`` turns it into the subheading it points at and that subheading's line nearest in
meaning. Medical instruments (9018), instruments for other products' parts and alarms (8531)
are not read. Advice like every retrieval ranking.

Pure: reads the ``Reference`` and its semantic index; no ORM.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from classification.engine import descent

# The words that name a measuring, checking or regulating instrument as the article.
_INSTRUMENT = (
    r"sensors?|transducers?|transmitters?|(?<!parking )meters?|gauges?|gages?|analy[sz]ers?|"
    r"testers?|test (?:equipment|sets?|instruments?|apparatus|devices?)|"
    r"measuring (?:instruments?|apparatus|devices?|equipment)|measurers?|"
    r"thermometers?|hygrometers?|barometers?|manometers?|hydrometers?|pyrometers?|"
    r"psychrometers?|thermo-?hygrometers?|flow ?meters?|spectrometers?|spectrophotometers?|"
    r"chromatographs?|oscilloscopes?|multimeters?|voltmeters?|ammeters?|odometers?|"
    r"pedometers?|speedometers?|tachometers?|(?:revolution|production|step) counters?|"
    r"thermostats?|detectors?|monitors?|loggers?"
)
_INSTRUMENT_RE = re.compile(rf"(?<![\w-])(?:{_INSTRUMENT})$")
# Quantity → (the code prefix of its subheadings, the words that name it). The first named wins, so
# "pressure and temperature transmitters" measure pressure; of two named at the same place the
# longer ("gas meter": a supply meter, not gas analysis).
QUANTITIES = (
    ("thermostat", "903210", r"thermostats?"),
    ("temperature only", "902519", r"temperature|thermometers?|pyrometers?"),
    (
        "humidity, dew point or air pressure",
        "902580",
        r"dew ?point|humidity|hygrometers?|psychrometers?|barometers?|barometric|"
        r"thermo-?hygrometers?",
    ),
    ("density of liquids", "902580", r"hydrometers?"),
    ("gas supply", "902810", r"gas meters?"),
    ("flow of gases", "902680", r"air ?flow|gas flow"),
    ("gas or smoke analysis", "902710", r"gas|co2|carbon (?:di|mon)oxide|oxygen|hydrogen|smoke"),
    ("chromatography", "902720", r"chromatograph\w*"),
    ("spectrometry", "902730", r"spectro\w+"),
    (
        "physical or chemical analysis",
        "902789",
        r"ph|viscosity|conductivity|moisture|refractive|polarimeters?|refractometers?|"
        r"colou?rimeters?|density|turbidity",
    ),
    ("flow or level of liquids", "902610", r"flow|level|flowmeters?|flow ?meters?"),
    ("pressure", "902620", r"pressure|manometers?|vacuum gauges?"),
    ("electricity supply", "902830", r"(?:electricity|kwh|watt-?hour) meters?"),
    ("liquid supply", "902820", r"water meters?"),
    ("speed", "902920", r"speedometers?|tachometers?|speed"),
    (
        "revolutions or counts",
        "902910",
        r"odometers?|pedometers?|(?:revolution|production|step) counters?|rpm",
    ),
    (
        "telecommunication test",
        "903040",
        r"telephone|telecommunications?|network cables?|cable testers?|lan|ethernet",
    ),
    (
        "electrical quantities",
        "90303",
        r"voltage|current|resistance|multimeters?|voltmeters?|ammeters?|ohmmeters?|"
        r"oscilloscopes?|insulation|electrical quantities",
    ),
)
_QUANTITY_RE = descent.vocabulary([(name, pattern) for name, _, pattern in QUANTITIES])


_PREFIX = {name: prefix for name, prefix, _ in QUANTITIES}
# Words for which a "monitor" or "detector" is something else (medical monitors of 9018, smoke
# and fire alarms of 8531, metal detectors of 8543), or a part or accessory of an instrument.
_NOT_READ = re.compile(
    r"(?<![\w-])(?:blood|heart|patient|medical|clinical|surgical|dental|veterinary|fetal|baby|"
    r"glucose|alarms?|smoke detectors?|smoke alarms?|metal detectors?|fire|parts?|housings?|"
    r"cases?|covers?|brackets?|mounts?|probes? for|accessor(?:y|ies))(?![\w-])"
)
# "Detector", "monitor" and "logger" name an instrument only with a quantity before them
# ("gas detector", "temperature data logger"); the other words do on their own.
_NEEDS_QUANTITY = re.compile(r"(?:detectors?|monitors?|loggers?)$")
_OPENING_END = descent.opening_end("measuring|to|by")


@dataclass(frozen=True)
class Reading:
    quantity: str
    word: str  # the product's word for the instrument ("transmitters")


class Proposal(descent.Proposal):
    basis = "instrument"

    @property
    def label(self) -> str:
        r = self.reading
        return f"{r.word} measuring {r.quantity} → heading {self.heading}"

    @property
    def stated(self) -> bool:
        return True  # the quantity measured settles the subheading

    @property
    def detail(self) -> dict:
        return {"quantity": self.reading.quantity, "article": self.reading.word}

    def contradicts(self, code: str) -> bool:
        """Another product's code contradicts this text when it is another heading of 9025–9032."""
        return "9025" <= code[:4] <= "9032" and code[:4] != self.code[:4]


def read(facts: Mapping[str, object]) -> Reading | None:
    """The instrument the opening phrase ends with and the quantity the text names, or None."""
    description = descent.fold(str(facts.get("description") or ""))
    named = [descent.fold(str(facts.get(k) or "")) for k in ("product_type", "name")]
    text = " ".join([*named, description])
    if _NOT_READ.search(text):
        return None
    for source in (*named, description):
        opening = _OPENING_END.split(source, maxsplit=1)[0].strip(" .'")
        found = _INSTRUMENT_RE.search(opening)
        if found is None:
            continue
        quantity = descent.first_named(opening, _QUANTITY_RE)
        if not quantity and _NEEDS_QUANTITY.search(found.group(0)):
            return None
        quantity = quantity or descent.first_named(text, _QUANTITY_RE)
        return Reading(quantity, found.group(0)) if quantity else None
    return None


def propose(reading: Reading | None, reference, index=None, vector=None) -> list[Proposal]:
    """The line of the subheading the quantity points at, nearest in meaning (one proposal)."""
    if reading is None:
        return []
    prefix = _PREFIX[reading.quantity]
    code = descent.nearest_under(reference, prefix, index, vector)
    return [Proposal(code, 1, prefix[:4], reading)] if code else []
