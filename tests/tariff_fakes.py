"""One small in-memory tariff reference for tests that need no schedule (engine and rule packs).

Lines with their headings, agency flags, a word-overlap search with fixed scores, and percentage
duties; ``uncomputable`` codes give a reason instead of a total, ``silent`` ones give neither.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from rulepacks.format.normalize import tokens


@dataclass
class Flags:
    pga: list = field(default_factory=list)
    agencies: list = field(default_factory=list)
    antidumping: bool = False
    countervailing: bool = False
    section301: list = field(default_factory=list)
    section232: list = field(default_factory=list)


@dataclass
class Line:
    code: str
    description: str
    full_description: str
    declarable: bool


@dataclass
class Hit:
    code: str
    score: float
    full_description: str


@dataclass
class Estimate:
    code: str
    computable: bool
    total: Decimal | None
    currency: str | None
    lines: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    preferences: list = field(default_factory=list)


LINES = {
    "6109": ("T-shirts, singlets and other vests, knitted or crocheted", False),
    "6109100012": ("T-shirts, knitted, of cotton, men's", True),
    "6110": ("Sweaters, pullovers, sweatshirts, knitted or crocheted", False),
    "6110202079": ("Sweaters, knitted, of cotton, other", True),
    "6110303059": ("Sweaters, knitted, of man-made fibres, other", True),
    "8507": ("Electric accumulators", False),
    "8507600020": ("Lithium-ion batteries, other", True),
    "8211": ("Knives with cutting blades", False),
    "8211920000": ("Knives with fixed blades, other", True),
    "9503": ("Tricycles, scooters, dolls; other toys", False),
    "9503000073": ("Toys, other", True),
    "4303101000": ("Articles of apparel of furskin", True),
    "7323": ("Table, kitchen or other household articles of iron or steel", False),
    "7323930080": ("Table and kitchen articles of stainless steel, other", True),
}
# Duty rates (percent) per code; codes absent here have no computable duty.
RATES = {
    "6109100012": Decimal("16.5"),
    "6110202079": Decimal("16.5"),
    "6110303059": Decimal("32"),
    "8507600020": Decimal("3.4"),
    "8211920000": Decimal("0"),
    "9503000073": Decimal("0"),
    "7323930080": Decimal("2"),
}


class FakeReference:
    """Lines, flags, a word-overlap search with fixed scores, and percentage duty."""

    jurisdiction = "US"
    revision = "2026 Rev 4 (test)"
    semantic = None

    def __init__(self, *, flags=None, search=None, lines=None, uncomputable=(), silent=()):
        self.lines = {**LINES, **(lines or {})}
        self.flag_map = flags or {}
        self.search_hits = search  # None: word overlap; else a fixed list of (code, score)
        self.searches = 0
        self.boosts = []  # the boost of each word search, in order
        self.uncomputable = set(uncomputable)
        self.silent = set(silent)

    def line(self, code):
        found = self.lines.get(code)
        if found is None:
            return None
        return Line(code, found[0], found[0], found[1])

    def is_declarable(self, code):
        return code in self.lines and self.lines[code][1]

    def hs_description(self, code):
        return ""

    def flags(self, code):
        return self.flag_map.get(code, Flags())

    def search(self, text, limit=10, boost=None):
        self.searches += 1
        self.boosts.append(dict(boost or {}))
        if self.search_hits is not None:
            return [Hit(c, s, self.lines[c][0]) for c, s in self.search_hits][:limit]
        words = set(tokens(text))
        scored = []
        for code, (description, declarable) in self.lines.items():
            overlap = len(words & set(tokens(description)))
            if declarable and overlap:
                scored.append(Hit(code, round(min(1.0, overlap / 4), 4), description))
        scored.sort(key=lambda h: (-h.score, h.code))
        return scored[:limit]

    def duty(
        self, code, *, origin, customs_value, currency, quantity, quantity_unit, net_weight_kg
    ):
        if code in self.silent:
            return Estimate(code, False, None, currency)
        if code in self.uncomputable:
            note = "specific rate needs a weight in kg"
            return Estimate(code, False, None, currency, notes=[note])
        rate = RATES.get(code)
        if rate is None or customs_value is None:
            return Estimate(code, False, None, currency, notes=["Needs the customs value."])
        total = (customs_value * rate / 100).quantize(Decimal("0.01"))
        return Estimate(code, True, total, currency or "USD")
