"""Product facts and a rule pack for engine tests (the tariff reference: ``tests.tariff_fakes``)."""

from rulepacks.format import parse
from tariffs import reference as tariff_reference


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


def small_reference(lines, *, name: str) -> tariff_reference.Reference:
    """A US reference over ``(code, declarable, text, full description)`` lines, no rates."""
    return tariff_reference.Reference(
        tariff_reference.ReferenceData(
            jurisdiction="US",
            revision=f"{name} test",
            schedule_id=None,
            national=True,
            has_rates=False,
            lines=[
                tariff_reference.Line(code, len(code) // 2 - 2, text, full, (), "", "", "", flag)
                for code, flag, text, full in lines
            ],
            sha256=f"test-{name}-1",
        )
    )


def path_reference(lines, *, name: str) -> tariff_reference.Reference:
    """``small_reference`` over ``(code, declarable, path)`` lines, the path a list of segments
    from the heading's text down ("Men's or boys' … knitted" › "Of cotton" › "Shorts")."""
    return small_reference(
        [(code, flag, path[-1], " › ".join(path)) for code, flag, path in lines], name=name
    )


def ranked(product, reference):
    """The engine's decision from search alone (no pack, uncalibrated): the ranking as it is."""
    from classification.engine import classify
    from classification.engine.calibration import UNCALIBRATED

    return classify(
        product, pack=None, reference=reference, rank_without_pack=True, calibration=UNCALIBRATED
    )
