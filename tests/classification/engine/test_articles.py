"""Everyday articles whose name the nomenclature never uses, read from the engine's glossary."""

import pytest

from classification.engine import articles
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

ADP = "Automatic data processing machines and units thereof"
PHONES = "Telephone sets; other apparatus for the transmission or reception of voice, images"
SEATS = "Seats (other than those of heading 9402), whether or not convertible into beds"
RAIL = "Railway or tramway track construction material of iron or steel"
# (code, declarable, path below the chapter): slices of the US schedule.
LINES = [
    ("8471", False, [ADP]),
    ("8471300100", True, [ADP, "Portable automatic data processing machines"]),
    ("8471606000", True, [ADP, "Input or output units", "Other", "Keyboards"]),
    ("8471609050", True, [ADP, "Input or output units", "Other", "Other"]),
    ("8517", False, [PHONES]),
    ("8517140080", True, [PHONES, "Other telephones for cellular networks", "Other"]),
    (
        "8517620090",
        True,
        [PHONES, "Machines for the reception, conversion and transmission", "Oth"],
    ),
    ("9401", False, [SEATS]),
    ("9401310000", True, [SEATS, "Swivel seats with variable height adjustment", "Of wood"]),
    ("9401390000", True, [SEATS, "Swivel seats with variable height adjustment", "Other"]),
    ("7302", False, [RAIL]),
    ("7302105020", True, [RAIL, "Rails", "Other"]),
]


@pytest.fixture(scope="module")
def reference():
    return fakes.path_reference(LINES, name="articles")


def product(description, **extra):
    return facts(description, name="", materials=(), product_type="", **extra)


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("Wireless mouse, 2.4 GHz, with USB receiver", "847160"),
        ("Mechanical gaming keyboard, RGB backlit, USB", "847160"),
        ("Ergonomic office chair with armrests, mesh back", "94013"),
        ("Smartwatch with heart rate monitor and GPS", "851762"),
    ],
)
def test_the_glossary_names_the_code_the_schedule_words_miss(text, prefix, reference):
    (found,) = articles.propose(articles.read(product(text)), reference)
    assert found.code.startswith(prefix)


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("Adjustable dumbbells set, 2 x 24 kg", "950691"),  # a count after the article
        ("Hair dryer 1800 W with diffuser", "851631"),  # a rating after it
        ("USB-C to USB-C charging cable, 2 m", "854442"),  # "to" inside the article's name
        ("Sterling silver pendant necklace", "711311"),  # the material picks the entry
        ("Fashion earrings, gold-tone zinc alloy", "711719"),
        ("Beaded bracelet, glass beads on elastic cord", "711790"),
        ("Night cream with retinol, 50 ml", "330499"),
    ],
)
def test_the_article_and_its_context_choose_the_entry(text, prefix):
    reading = articles.read(product(text))
    assert reading is not None and reading.prefix == prefix


@pytest.mark.parametrize(
    "text",
    [
        "Computer mouse toy for cats",  # a toy of it
        "Field mouse figurine",  # a mouse with nothing computer about it
        "Piano keyboard stand",  # the article is the stand
        "Greek style ice cream, 500 ml",  # a food, not a skin cream
        "Antique oak dresser, 19th century",  # antiques of 9706
        "Mouse pad, rubber base",
        "an Auto Tip Dresser used in robotic welding lines",  # a machine, not furniture
        "Rotary table for milling machines",
        "Welding helmet, auto-darkening",
    ],
)
def test_other_goods_are_not_read(text):
    assert articles.read(product(text)) is None


def test_the_glossary_leads_with_its_reading_but_states_nothing(reference):
    decision = fakes.ranked(product("Ergonomic office chair with armrests"), reference)
    best = decision.candidates[0]
    assert best.code.startswith("94013")
    evidence = next(e for e in best.sources if e.kind == "reading")
    assert evidence.detail["basis"] == "article"
    assert evidence.detail["glossary"] == "swivel office chair"
    # Where such goods usually go, not facts the text states: no confidence from it.
    assert decision.calibration["features"]["reading_stated"] == 0.0
    (found,) = articles.propose(articles.read(product("office chair")), reference)
    assert found.label == "swivel office chair (office chair) → 9401.3"
    (mouse,) = articles.propose(articles.read(product("Computer mouse, USB")), reference)
    assert mouse.label == "computer mouse → 8471.60"
    assert not found.contradicts("7302105020")


def test_a_glossary_heading_backs_the_line_search_already_found(reference):
    (found,) = articles.propose(articles.read(product("Gaming keyboard, USB")), reference)
    fused = {"8471609050": 0.2, "8471606000": 0.1, "8517140080": 0.3}
    (kept,) = articles.settle([found], fused, reference)
    assert kept.code == "8471609050"  # search's best under 8471.60, not the line by meaning
    (alone,) = articles.settle([found], {"8517140080": 0.3}, reference)
    assert alone.code == found.code  # nothing under it found: the proposal stands


def test_the_calibration_reads_the_share_without_the_glossary(reference):
    # The glossary's weight ranks the mouse first; the fit was measured without such readings,
    # so its share and margin are read as if the glossary had not spoken.
    text = "Wireless mouse for computers, with receiver for data transmission"
    decision = fakes.ranked(product(text), reference)
    best, runner_up = decision.candidates[0], decision.candidates[1]
    assert best.code.startswith("847160")
    reading = next(e for e in best.sources if e.kind == "reading")
    assert reading.detail["fitted_weight"] < reading.weight
    other = runner_up.sources[0]
    assert other.detail["fitted_weight"] > other.weight  # the rest's share grows
    features = decision.calibration["features"]
    assert features["retrieval_share"] == reading.detail["fitted_weight"]
    assert features["margin"] < 0  # by the fitted evidence alone the runner-up leads
