"""Taps, cocks, valves and their parts read the way heading 8481 reads them: by what they do."""

import pytest

from classification.engine import valves
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

VALVES = (
    "Taps, cocks, valves and similar appliances for pipes, boiler shells, tanks, vats or the "
    "like, including pressure-reducing valves and thermostatically controlled valves; parts"
)
BEARINGS = "Ball or roller bearings, and parts thereof"
HAND = ("Hand operated",)
# (code, declarable, path below the chapter): slices of the US schedule's chapters 84 and 85.
LINES = [
    ("8481", False, [VALVES]),
    ("8481100090", True, [VALVES, "Pressure-reducing valves", "Other"]),
    ("8481200070", True, [VALVES, "Valves for oleohydraulic or pneumatic transmissions", "Oth"]),
    ("8481301090", True, [VALVES, "Check (nonreturn) valves", "Of copper", "Other"]),
    ("8481302010", True, [VALVES, "Check (nonreturn) valves", "Of iron or steel", "Of iron"]),
    ("8481302090", True, [VALVES, "Check (nonreturn) valves", "Of iron or steel", "Of steel"]),
    ("8481309000", True, [VALVES, "Check (nonreturn) valves", "Other"]),
    ("8481400000", True, [VALVES, "Safety or relief valves"]),
    (
        "8481801020",
        True,
        [VALVES, "Other appliances", *HAND, "Of copper", "Bath and shower faucets"],
    ),
    (
        "8481801030",
        True,
        [VALVES, "Other appliances", *HAND, "Of copper", "Sink and lavatory faucets"],
    ),
    ("8481801085", True, [VALVES, "Other appliances", *HAND, "Of copper", "Ball type"]),
    ("8481801095", True, [VALVES, "Other appliances", *HAND, "Of copper", "Other"]),
    (
        "8481803090",
        True,
        [VALVES, "Other appliances", *HAND, "Of iron or steel", "Of steel", "Other"],
    ),
    ("8481805090", True, [VALVES, "Other appliances", *HAND, "Of other materials", "Other"]),
    ("8481809005", True, [VALVES, "Other appliances", "Other", "Solenoid valves"]),
    ("8481809015", True, [VALVES, "Other appliances", "Other", "Regulator valves, self-operating"]),
    ("8481809050", True, [VALVES, "Other appliances", "Other", "Other"]),
    ("8481909040", True, [VALVES, "Parts", "Other"]),
    ("8482", False, [BEARINGS]),
    ("8482200000", True, [BEARINGS, "Tapered roller bearings"]),
    ("8409", False, ["Parts suitable for use solely or principally with the engines"]),
    (
        "8409919990",
        True,
        ["Parts suitable for use solely or principally with the engines", "Other", "Other"],
    ),
]


@pytest.fixture(scope="module")
def reference():
    return fakes.path_reference(LINES, name="valves")


def product(description, materials=(), **extra):
    return facts(description, name="", materials=materials, product_type="", **extra)


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("a Yard Hydrant Assembly", "848180"),  # the assembly is the hydrant
        ("Brass deck-mounted bath faucet with ceramic disk cartridges", "848180"),
        ("Hydraulic relief valves", "848120"),  # transmissions before relief
        ("Pneumatic directional control valve, 24 V", "848120"),
        ("Propane gas regulator with hose", "848110"),
        ("Pressure reducing valve for water mains", "848110"),
        ("Stainless steel check valve", "848130"),
        ("Safety relief valve for boilers", "848140"),
        ("Gas safety shut-off valve", "848180"),  # closes, relieves nothing
        ("Foot-operated sink valve", "848180"),  # worked by foot: not a foot (check) valve
        ("a fuel regulator for gaseous-fueled engines", "848180"),  # not stated: other
        ("Faucet parts of unspecified origin", "848190"),
        ("a valve body from Mexico", "848190"),
        ("Parts of ball valves: stems and seats", "848190"),
    ],
)
def test_the_function_chooses_the_subheading(text, prefix, reference):
    (found,) = valves.propose(valves.read(product(text)), reference)
    assert found.code.startswith(prefix)
    assert found.heading == "8481"


@pytest.mark.parametrize(
    ("text", "materials", "code"),
    [
        ("Stainless steel swing check valve, 1 in NPT", (), "8481302090"),  # stainless is steel
        ("Swing check valve, 1 in NPT", ("cast iron",), "8481302010"),
        ("Brass deck-mounted bath faucet", (), "8481801020"),  # brass is copper
        ("Kitchen sink faucet, chrome plated brass", (), "8481801030"),
        ("Brass ball valve with lever handle", (), "8481801085"),
        ("PVC ball valve with lever handle", (), "8481805090"),
        ("Frost-free yard hydrant, 4 ft bury depth", ("steel", "brass"), "8481803090"),
        ("24 V solenoid valve for irrigation", (), "8481809005"),  # worked by an actuator
        ("Thermostatic temperature regulating valve", (), "8481809015"),
    ],
)
def test_material_operation_and_type_choose_the_line(text, materials, code, reference):
    (found,) = valves.propose(valves.read(product(text, materials=materials)), reference)
    assert found.code == code


def test_parts_go_to_the_parts_line_and_appliances_never_do(reference):
    (part,) = valves.propose(valves.read(product("Faucet cartridges")), reference)
    assert part.code == "8481909040"
    (whole,) = valves.propose(valves.read(product("Shut-off valve")), reference)
    assert not whole.code.startswith("848190")


@pytest.mark.parametrize(
    "text",
    [
        "Engine valves of steel for motorcycles",  # parts of engines: 8409
        "Exhaust valve springs",
        "Mechanical heart valve",  # 9021
        "Valve bags of paper for cement",
        "Taps and dies set for threading bolts",  # tools of 8207
        "Hand tap wrench",
        "Beer tap handles of carved wood",  # decorative: by material
        "Tire valve stems",  # read by the words of the schedule, not here
        "Voltage regulator for alternators",  # not a regulator of a medium
        "Toy water tap for bath time",
        "Faucet water filter",  # the article is the filter
    ],
)
def test_other_goods_are_not_read(text):
    assert valves.read(product(text)) is None


def test_a_hydrant_leads_with_its_reading_among_bearings(reference):
    decision = fakes.ranked(product("a Yard Hydrant Assembly"), reference)
    best = decision.candidates[0]
    assert best.code.startswith("848180")
    evidence = next(e for e in best.sources if e.kind == "reading")
    assert evidence.detail["basis"] == "valve"
    assert evidence.detail["function"] == valves.OTHER
    # A fitted reading, but the text does not say what the hydrant does: not "stated".
    features = decision.calibration["features"]
    assert features["reading"] == 1.0 and features["reading_stated"] == 0.0
    check = fakes.ranked(product("Stainless steel check valve"), reference)
    assert check.candidates[0].code.startswith("848130")
    assert check.calibration["features"]["reading_stated"] == 1.0


def test_only_a_stated_function_contradicts_another_subheading(reference):
    (check,) = valves.propose(valves.read(product("Check valve")), reference)
    assert check.contradicts("8481400000") and not check.contradicts(check.code)
    assert not check.contradicts("8482200000")
    (other,) = valves.propose(valves.read(product("Gate valve")), reference)
    assert not other.contradicts("8481400000")  # "other appliances" is what is left unsaid


def test_the_label_says_what_was_read(reference):
    (check,) = valves.propose(valves.read(product("Stainless steel check valve")), reference)
    assert check.label == "valve (check), of steel → heading 8481"
    (part,) = valves.propose(valves.read(product("Faucet cartridges")), reference)
    assert part.label == "parts (faucet cartridges) → heading 8481"
