"""Table, kitchen and cooking ware read the way the nomenclature reads it: by material first."""

import pytest

from classification.engine import household
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

STEEL = "Table, kitchen or other household articles and parts thereof, of iron or steel"
ALU = "Table, kitchen or other household articles and parts thereof, of aluminum"
CERAMIC = "Ceramic tableware, kitchenware, other household articles, other than porcelain"
GLASS = "Glassware of a kind used for table, kitchen, toilet, office, indoor decoration"
WOOD = "Tableware and kitchenware, of wood"
TUBES = "Tubes, pipes and hollow profiles, seamless, of iron or steel"
BAKEWARE = "Bakeware (cookware not suitable for stove top use)"
# (code, declarable, path below the chapter): slices of the US schedule.
LINES = [
    ("7323", False, [STEEL]),
    ("7323915020", True, [STEEL, "Other", "Of cast iron, not enameled", "Other", BAKEWARE]),
    ("7323915040", True, [STEEL, "Other", "Of cast iron, not enameled", "Other", "Other"]),
    ("7323920040", True, [STEEL, "Other", "Of cast iron, enameled", "Other"]),
    (
        "7323930015",
        True,
        [STEEL, "Other", "Of stainless steel", "Cooking and kitchen ware", "Teakettles"],
    ),
    (
        "7323930045",
        True,
        [
            STEEL,
            "Other",
            "Of stainless steel",
            "Cooking and kitchen ware",
            "Other",
            "Cooking ware",
            "Other",
        ],
    ),
    (
        "7323930060",
        True,
        [STEEL, "Other", "Of stainless steel", "Cooking and kitchen ware", "Other", "Kitchen ware"],
    ),
    ("7323930080", True, [STEEL, "Other", "Of stainless steel", "Other"]),
    ("7615", False, [ALU]),
    (
        "7615103025",
        True,
        [
            ALU,
            "Table, kitchen or other household articles",
            "Other",
            "Cooking and kitchen ware",
            "Enameled or glazed or containing nonstick interior finishes",
            "Other",
            "Other",
        ],
    ),
    (
        "7615107155",
        True,
        [
            ALU,
            "Table, kitchen or other household articles",
            "Other",
            "Cooking and kitchen ware",
            "Not enameled or glazed and not containing nonstick interior finishes",
            "Other",
            "Other cookware",
            "Other",
        ],
    ),
    ("6912", False, [CERAMIC]),
    (
        "6912004400",
        True,
        [CERAMIC, "Tableware and kitchenware", "Other", "Other", "Mugs and other steins"],
    ),
    ("6912004810", True, [CERAMIC, "Tableware and kitchenware", "Other", "Other", "Other"]),
    ("7013", False, [GLASS]),
    (
        "7013286010",
        True,
        [GLASS, "Stemware drinking glasses", "Other", "Other", "Valued over $5 each"],
    ),
    ("7013372090", True, [GLASS, "Other drinking glasses", "Other", "Other", "Valued over $0.30"]),
    (
        "7013421000",
        True,
        [
            GLASS,
            "Glassware of a kind used for table or kitchen purposes",
            "Of glass having a linear coefficient of expansion not exceeding 5",
        ],
    ),
    (
        "7013491000",
        True,
        [GLASS, "Glassware of a kind used for table or kitchen purposes", "Other"],
    ),
    ("4419", False, [WOOD]),
    ("4419110000", True, [WOOD, "Of bamboo", "Bread boards, chopping boards and similar boards"]),
    ("4419199000", True, [WOOD, "Of bamboo", "Other", "Other"]),
    ("4419909100", True, [WOOD, "Other", "Other"]),
    ("7304", False, [TUBES]),
    ("7304292080", True, [TUBES, "Casing, tubing and drill pipe", "Other"]),
]


@pytest.fixture(scope="module")
def reference():
    return fakes.path_reference(LINES, name="household")


def product(description, materials=()):
    return facts(description, name="", materials=materials, product_type="")


def line(text, reference, materials=()):
    found = household.propose(household.read(product(text, materials)), reference)
    return found[0].code if found else ""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("a cast iron fry pan measuring 11 inches in diameter", "7323915040"),
        ("cast iron loaf pan for baking bread", "7323915020"),  # bakeware
        ("enameled cast iron dutch oven", "7323920040"),
        ("stainless steel tea kettle, 2 quarts", "7323930015"),
        ("stainless steel cooking pot with lid", "7323930045"),
        ("stainless steel measuring cups", "7323930060"),  # kitchen ware, not cooking
        ("stainless steel dog bowl", "7323930080"),  # neither: "Other"
        ("nonstick aluminum frying pan", "7615103025"),
        ("ceramic coated aluminium skillet", "7615103025"),  # the coating is not the material
        ("aluminum stock pot", "7615107155"),
        ("stoneware coffee mug, 12 oz", "6912004400"),
        ("stoneware mixing bowl", "6912004810"),
        ("crystal wine glasses", "7013286010"),  # stemware
        ("glass drinking tumblers", "7013372090"),
        ("borosilicate glass baking dish", "7013421000"),  # low expansion
        ("bamboo cutting board", "4419110000"),
        ("acacia wood salad bowl", "4419909100"),
    ],
)
def test_the_material_then_the_use_choose_the_line(text, code, reference):
    assert line(text, reference) == code


def test_the_catalogs_materials_count_when_the_text_names_none(reference):
    assert line("Frying pan, 28 cm", reference, materials=("cast iron",)) == "7323915040"


@pytest.mark.parametrize(
    "text",
    [
        "electric kettle, 1.7 litres",  # an appliance of 8516
        "vacuum insulated stainless steel tumbler",  # vacuum vessels of 9617
        "steel license plates",  # not tableware
        "oil drain pan of steel",
        "ceramic flower pot",
        "stainless steel toilet bowl",
        "copper satellite dish",
        "cotton oven mitt",  # no material of the table-ware headings
        "plastic mixing bowl",  # the plastics reading's
        "glass vase",
    ],
)
def test_other_goods_are_not_read(text):
    assert household.read(product(text)) is None


def test_a_fry_pan_leads_among_tubes_and_a_material_contradicts_another(reference):
    decision = fakes.ranked(product("a cast iron fry pan, 10 inch"), reference)
    best = decision.candidates[0]
    assert best.code == "7323915040"
    evidence = next(e for e in best.sources if e.kind == "reading")
    assert evidence.detail["basis"] == "household"
    assert (evidence.detail["use"], evidence.detail["material"]) == ("cooking", "cast iron")
    (found,) = household.propose(household.read(product("aluminum stock pot")), reference)
    assert found.label == "cooking ware (stock pot) of aluminium → heading 7615"
    assert found.contradicts("7323930045") and not found.contradicts("7304292080")
