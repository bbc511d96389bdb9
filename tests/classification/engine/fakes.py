"""A small in-memory tariff reference and rule pack for engine tests that need no schedule."""

from dataclasses import dataclass, field
from decimal import Decimal

from rulepacks.format import parse
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
    national = True

    def __init__(self, *, flags=None, search=None, lines=None):
        self.lines = {**LINES, **(lines or {})}
        self.flag_map = dict(flags or {})
        self.search_hits = search  # None: word overlap; else a fixed list of (code, score)
        self.searches = 0
        self.boosts = []  # the boost of each word search, in order

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
        rate = RATES.get(code)
        if rate is None or customs_value is None:
            return Estimate(code, False, None, currency, notes=["Needs the customs value."])
        total = (customs_value * rate / 100).quantize(Decimal("0.01"))
        return Estimate(code, True, total, currency or "USD")


def facts(description, *, name=None, materials=("cotton",), **extra):
    """Complete catalog facts for a test product."""
    base = {
        "sku": extra.pop("sku", "SKU-1"),
        "name": name or description.split(",")[0][:60],
        "description": description,
        "country_of_origin": "CN",
        "materials": list(materials),
        "intended_use": "retail sale to consumers",
        "product_type": "finished consumer article",
        "destination": "US",
        "customs_value": None,
        "currency": None,
        "quantity": None,
        "quantity_unit": None,
        "net_weight_kg": None,
        "supplier": None,
        "declared_code": None,
        "notes": None,
    }
    base.update(extra)
    return base


HEAD = """\
[pack]
name = "Engine test pack"
jurisdiction = "US"
version = "3"

[thresholds]
min_confidence = {min_confidence}
tie_margin = 0.05

[routing]
high_risk_origins = ["KP"]
agency_review = "{agency}"
"""

RULES = """\
[[rules]]
id = "cotton-tee"
code = "6109100012"
confidence = 0.92
risk = "low"
rationale = "GRI 1: heading 6109 T-shirts, knitted; 6109.10 of cotton."
[rules.when]
text = { any = ["t-shirt", "tee"], none = ["sweater"] }
materials = ["cotton"]

[[rules]]
id = "cotton-sweater"
code = "6110202079"
confidence = 0.9
risk = "low"
rationale = "GRI 1 and 6: heading 6110 sweaters; 6110.20 of cotton."
[rules.when]
text = { all = ["sweater"] }
materials = ["cotton"]

[[rules]]
id = "blend-sweater"
code = "6110303059"
confidence = 0.88
risk = "low"
rationale = "GRI 3(b): man-made fibres give the essential character of the blend."
[rules.when]
text = { all = ["sweater"] }
materials = ["polyester"]

[[rules]]
id = "toys"
code = "9503000073"
confidence = 0.7
risk = "low"
rationale = "Heading 9503 toys, when the product is not a game or sports article."
[rules.when]
text = ["toy"]

[[rules]]
id = "li-ion"
code = "8507600020"
confidence = 0.93
risk = "medium"
rationale = "GRI 1: heading 8507 electric accumulators; 8507.60 lithium-ion."
[rules.when]
text = ["lithium ion battery"]

[[rules]]
id = "knife"
code = "8211920000"
confidence = 0.9
risk = "medium"
rationale = "Heading 8211 knives with cutting blades; 8211.92 fixed blades."
[rules.when]
text = ["knife"]

[[rules]]
id = "knife-heading"
code = "8211"
confidence = 0.95
risk = "low"
rationale = "A heading-level rule: not declarable on its own."
[rules.when]
text = ["heading knife"]

[[rules]]
id = "fur-apparel"
code = "4303101000"
confidence = 0.9
risk = "medium"
rationale = "Heading 4303 articles of apparel of furskin."
[rules.when]
materials = ["fur"]

[[restrictions]]
id = "lithium-batteries"
action = "review"
risk = "high"
reason = "Lithium batteries are dangerous goods UN3480: check packing and labels."
[restrictions.when]
codes = ["850760"]

[[restrictions]]
id = "knives"
action = "review"
risk = "medium"
reason = "Knives: check switchblade prohibitions (15 U.S.C. 1241)."
[restrictions.when]
text = ["knife"]

[[restrictions]]
id = "no-polyester-sweaters-code"
action = "block"
risk = "high"
reason = "The tenant may not declare 6110.30 for goods from this supplier programme."
[restrictions.when]
codes = ["611030"]
origin = ["VN"]

[[denied]]
id = "dog-cat-fur"
reason = "Dog and cat fur products are prohibited (19 U.S.C. 1308)."
[denied.when]
materials = { any = ["dog fur", "cat fur"] }
"""


def pack(*, min_confidence=0.82, rules=RULES, agency="required"):
    result = parse(HEAD.format(min_confidence=min_confidence, agency=agency) + "\n" + rules)
    assert result.ok, result.problems
    return result.pack
