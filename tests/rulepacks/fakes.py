"""Product facts and a valid test pack for rule-pack tests; the tariff reference (the pack passes
every gate against it) is ``tests.tariff_fakes``."""


def facts(name, description, materials=("cotton",), **extra):
    """Complete catalog facts for a test product."""
    base = {
        "sku": extra.pop("sku", name.lower().replace(" ", "-")[:40]),
        "name": name,
        "description": description,
        "country_of_origin": "CN",
        "materials": list(materials),
        "intended_use": "retail sale",
        "product_type": "consumer goods",
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


GOLDEN = [
    (
        "g-tee-1",
        "Men's T-shirt",
        "Crew neck knitted t-shirt for men",
        "cotton",
        "6109100012",
        "classified",
    ),
    (
        "g-tee-2",
        "Graphic tees",
        "Printed knit T-shirts, short sleeves",
        "cotton",
        "6109100012",
        "classified",
    ),
    (
        "g-sweater-1",
        "Cable sweater",
        "Knitted pullover sweater with cable pattern",
        "cotton",
        "6110202079",
        "classified",
    ),
    (
        "g-sweater-2",
        "Crewneck jumper",
        "Knitted sweater crewneck long sleeves",
        "cotton",
        "6110202079",
        "classified",
    ),
    (
        "g-sweater-3",
        "Fleece sweater",
        "Knitted sweater of polyester fleece",
        "polyester",
        "6110303059",
        "classified",
    ),
    (
        "g-toy-1",
        "Plush bear",
        "Stuffed plush toy bear for children",
        "polyester",
        "9503000073",
        "classified",
    ),
    (
        "g-toy-2",
        "Toy cars",
        "Die-cast toy cars set for children",
        "zinc alloy",
        "9503000073",
        "classified",
    ),
    (
        "g-battery-1",
        "Power bank cell",
        "Rechargeable lithium-ion battery pack 10000 mAh",
        "lithium ion cells",
        "8507600020",
        "needs_review",
    ),
    (
        "g-knife-1",
        "Chef knife",
        "Kitchen knife with fixed stainless steel blade",
        "stainless steel",
        "8211920000",
        "needs_review",
    ),
    (
        "g-fur-1",
        "Fur collar jacket",
        "Jacket trimmed with dog fur collar",
        "dog fur",
        "4303101000",
        "blocked",
    ),
]


def golden_toml(cases=GOLDEN) -> str:
    out = []
    for ident, name, description, material, code, outcome in cases:
        out.append(
            f'[[golden]]\nid = "{ident}"\ncode = "{code}"\noutcome = "{outcome}"\n'
            f'[golden.facts]\nname = "{name}"\ndescription = "{description}"\n'
            f'materials = ["{material}"]\ncountry_of_origin = "CN"\n'
            f'intended_use = "retail sale"\nproduct_type = "consumer goods"\n'
        )
    return "\n".join(out)


PACK_HEAD = """\
[pack]
name = "Test pack"
jurisdiction = "US"
version = "1"

[thresholds]
min_confidence = 0.82
tie_margin = 0.05
"""

RULES = """\
[[rules]]
id = "cotton-tee"
code = "6109.10.00.12"
confidence = 0.92
risk = "low"
rationale = "GRI 1: heading 6109 covers T-shirts, knitted; subheading 6109.10 of cotton."
[rules.when]
text = { any = ["t-shirt", "tee"], none = ["sweater"] }
materials = ["cotton"]

[[rules]]
id = "knit-sweater"
code = "6110202079"
confidence = 0.9
risk = "low"
rationale = "GRI 1 and 6: heading 6110 sweaters, pullovers, knitted; 6110.20 of cotton."
[rules.when]
text = { all = ["sweater"], any = ["knitted", "knit"] }
materials = ["cotton"]

[[rules]]
id = "synthetic-sweater"
code = "6110303059"
confidence = 0.88
risk = "low"
rationale = "GRI 1 and 6: heading 6110, subheading 6110.30 of man-made fibres."
[rules.when]
text = { all = ["sweater"] }
materials = ["polyester", "acrylic"]

[[rules]]
id = "toys"
code = "9503000073"
confidence = 0.9
risk = "low"
rationale = "GRI 1: heading 9503 covers toys; Chapter 95 note 1 exclusions do not apply."
[rules.when]
text = ["toy", "plush"]

[[rules]]
id = "li-ion"
code = "8507600020"
confidence = 0.93
risk = "medium"
rationale = "GRI 1: heading 8507 electric accumulators; 8507.60 lithium-ion."
[rules.when]
text = ["lithium ion battery", "li-ion battery"]

[[rules]]
id = "kitchen-knife"
code = "8211920000"
confidence = 0.9
risk = "medium"
rationale = "GRI 1: heading 8211 knives with cutting blades; 8211.92 fixed blades."
[rules.when]
text = { any = ["knife"], none = ["table knife"] }

[[rules]]
id = "fur-apparel"
code = "4303101000"
confidence = 0.9
risk = "medium"
rationale = "GRI 1: heading 4303 articles of apparel of furskin (Chapter 43 note 4)."
[rules.when]
materials = ["fur"]

[[restrictions]]
id = "lithium-batteries"
action = "review"
risk = "high"
reason = "Lithium batteries are dangerous goods UN3480/UN3481: check packing and labels."
[restrictions.when]
codes = ["850760"]

[[restrictions]]
id = "knives"
action = "review"
risk = "medium"
reason = "Knives: check switchblade and ballistic knife prohibitions (15 U.S.C. 1241)."
[restrictions.when]
text = ["knife"]

[[denied]]
id = "dog-cat-fur"
reason = "Dog and cat fur products are prohibited (Dog and Cat Protection Act, 19 U.S.C. 1308)."
[denied.when]
text = ["dog fur", "cat fur"]
materials = { any = ["dog fur", "cat fur"] }
"""


def pack_source(*, head=PACK_HEAD, rules=RULES, golden=None) -> str:
    """A pack that passes every gate against ``tariff_fakes.FakeReference()``."""
    return f"{head}\n{rules}\n{golden_toml() if golden is None else golden}"
