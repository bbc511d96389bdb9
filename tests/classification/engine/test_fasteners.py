"""Fasteners of iron or steel read the way heading 7318 reads them: threaded or not, then kind."""

import pytest

from classification.engine import fasteners
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

HEADING = (
    "Screws, bolts, nuts, coach screws, screw hooks, rivets, cotters, washers, of iron or steel"
)
THREADED, PLAIN = "Threaded articles", "Non-threaded articles"
OTHER_SCREWS = "Other screws and bolts, whether or not with their nuts or washers"
# (code, declarable, path below the chapter): a slice of the US schedule's heading 7318.
LINES = [
    ("7318", False, [HEADING]),
    ("7318120000", True, [HEADING, THREADED, "Other wood screws"]),
    ("7318141030", True, [HEADING, THREADED, "Self-tapping screws", "Having shanks of 6 mm"]),
    ("7318152065", True, [HEADING, THREADED, OTHER_SCREWS, "Bolts and their nuts or washers"]),
    ("7318155090", True, [HEADING, THREADED, OTHER_SCREWS, "Other"]),
    ("7318160085", True, [HEADING, THREADED, "Nuts", "Other"]),
    ("7318210090", True, [HEADING, PLAIN, "Spring washers and other lock washers"]),
    ("7318220000", True, [HEADING, PLAIN, "Other washers"]),
    ("7318230000", True, [HEADING, PLAIN, "Rivets"]),
    ("7318290000", True, [HEADING, PLAIN, "Other"]),
    (
        "8424300000",
        True,
        ["Mechanical appliances for projecting liquids", "Steam or sand blasting"],
    ),
]


@pytest.fixture(scope="module")
def reference():
    return fakes.path_reference(LINES, name="fasteners")


def product(description):
    return facts(description, name="", materials=(), product_type="")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Stainless steel flat washers, M8", "7318220000"),  # not "… or washers" of 7318.15
        ("Zinc-plated steel hex nuts", "7318160085"),
        ("Split lock washers of spring steel", "7318210090"),
        ("Steel wood screws, countersunk", "7318120000"),
        ("Self-drilling screws for sheet metal roofing", "7318141030"),
        ("Blind rivets, steel", "7318230000"),
        ("Retaining rings (circlips) of carbon steel", "7318290000"),
    ],
)
def test_the_kind_chooses_the_line(text, code, reference):
    (found,) = fasteners.propose(fasteners.read(product(text)), reference)
    assert found.code == code


@pytest.mark.parametrize(
    "text",
    [
        "Brass wood screws",  # copper alloys: heading 7415
        "Nylon washers",  # plastics
        "Electric pressure washers, 1800 W",  # machines of 8424
        "Mixed nuts, roasted and salted",  # food
        "Bolt cutters, 24 inch",
        "Cotton fabric bolts",
    ],
)
def test_other_goods_and_other_metals_are_not_read(text):
    assert fasteners.read(product(text)) is None


def test_washers_lead_with_their_reading_and_contradict_other_subheadings(reference):
    decision = fakes.ranked(product("Stainless steel flat washers, M8"), reference)
    best = decision.candidates[0]
    assert best.code == "7318220000"
    evidence = next(e for e in best.sources if e.kind == "reading")
    assert evidence.detail["basis"] == "fastener" and evidence.detail["kind"] == "washers"
    assert decision.calibration["features"]["reading_stated"] == 1.0  # fitted on ATLAS's 7318
    (found,) = fasteners.propose(fasteners.read(product("Flat washers")), reference)
    assert found.contradicts("7318155090") and not found.contradicts("7318220000")
    assert not found.contradicts("8424300000")
