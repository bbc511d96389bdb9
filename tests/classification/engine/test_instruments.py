"""Measuring and checking instruments read the way chapter 90 reads them: by what they measure."""

import pytest

from classification.engine import instruments
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

THERMO = (
    "Hydrometers and similar floating instruments, thermometers, pyrometers, barometers, "
    "hygrometers and psychrometers, recording or not; parts and accessories thereof"
)
FLOW = (
    "Instruments and apparatus for measuring or checking the flow, level, pressure or other "
    "variables of liquids or gases; parts and accessories thereof"
)
ANALYSIS = "Instruments and apparatus for physical or chemical analysis; parts and accessories"
ELECTRICAL = (
    "Oscilloscopes, spectrum analyzers and other instruments and apparatus for measuring or "
    "checking electrical quantities; parts and accessories thereof"
)
# (code, declarable, path below the chapter): slices of the US schedule's chapters 85 and 90.
LINES = [
    ("9025", False, [THERMO]),
    ("9025198000", True, [THERMO, "Thermometers and pyrometers", "Other", "Other"]),
    ("9025804000", True, [THERMO, "Other instruments", "Electrical"]),
    ("9025900600", True, [THERMO, "Parts and accessories"]),
    ("9026", False, [FLOW]),
    ("9026102000", True, [FLOW, "For measuring or checking the flow or level of liquids", "El"]),
    ("9026204000", True, [FLOW, "For measuring or checking pressure", "Electrical"]),
    ("9026804000", True, [FLOW, "Other instruments and apparatus", "Electrical"]),
    ("9026902000", True, [FLOW, "Parts and accessories", "Electrical"]),
    ("9027", False, [ANALYSIS]),
    ("9027102000", True, [ANALYSIS, "Gas or smoke analysis apparatus", "Electrical"]),
    ("9027894500", True, [ANALYSIS, "Other instruments and apparatus", "Other", "Electrical"]),
    ("9030", False, [ELECTRICAL]),
    ("9030400000", True, [ELECTRICAL, "Other instruments, specially designed for telecom"]),
    ("9030330000", True, [ELECTRICAL, "Other, for measuring voltage, current, resistance"]),
    ("9032", False, ["Automatic regulating or controlling instruments and apparatus"]),
    (
        "9032100090",
        True,
        ["Automatic regulating or controlling instruments and apparatus", "Thermostats", "Other"],
    ),
    ("8525", False, ["Transmission apparatus for radio-broadcasting or television"]),
    (
        "8525500000",
        True,
        ["Transmission apparatus for radio-broadcasting or television", "Transmission apparatus"],
    ),
    ("8541", False, ["Semiconductor devices; light-emitting diodes"]),
    (
        "8541510000",
        True,
        ["Semiconductor devices; light-emitting diodes", "Semiconductor-based transducers"],
    ),
]


@pytest.fixture(scope="module")
def reference():
    return fakes.path_reference(LINES, name="instruments")


def product(description, **extra):
    return facts(description, name="", materials=(), product_type="", **extra)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Electronic pressure transducers, 4-20 mA output", "9026204000"),
        ("Dew point and temperature transmitters", "9025804000"),  # dew point named first
        ("Pressure and temperature transmitter", "9026204000"),  # pressure named first
        ("Digital thermometer with probe", "9025198000"),
        ("Telephone line test equipment", "9030400000"),
        ("Portable CO2 detector", "9027102000"),
        ("Oxygen sensor used in exhaust systems", "9027102000"),
        ("A sensor for measuring the level of water in tanks", "9026102000"),
        ("Air flow meter for ventilation ducts", "9026804000"),  # gases: not 9026.10
        ("Programmable thermostat for central heating", "9032100090"),
        ("Handheld digital multimeter", "9030330000"),
        ("pH meter for laboratories", "9027894500"),
    ],
)
def test_the_quantity_measured_chooses_the_subheading(text, code, reference):
    (found,) = instruments.propose(instruments.read(product(text)), reference)
    assert found.code == code
    assert not found.code.startswith(("902590", "902690"))  # never a parts line


@pytest.mark.parametrize(
    "text",
    [
        "Blood pressure monitor for home use",  # medical: 9018
        "Baby monitor with camera",
        "Smoke detector, battery operated",  # alarms: 8531
        "Metal detector for treasure hunting",
        "Computer monitor, 24 inch",  # a monitor with no quantity is not an instrument
        "Housing for pressure sensors",  # a part of one
        "Temperature-controlled wine cooler",  # no instrument word ends the article
        "Radio transmitter for broadcasting",  # a transmitter that measures nothing
    ],
)
def test_other_goods_are_not_read(text):
    assert instruments.read(product(text)) is None


def test_a_transmitter_that_measures_leads_with_its_reading_as_fitted_evidence(reference):
    decision = fakes.ranked(product("Dew point and temperature transmitters"), reference)
    best = decision.candidates[0]
    assert best.code == "9025804000"
    evidence = next(e for e in best.sources if e.kind == "reading")
    assert evidence.detail["basis"] == "instrument"
    assert evidence.detail["quantity"] == "humidity, dew point or air pressure"
    # Instruments are among the readings behind the calibration fit (2026.12.7).
    features = decision.calibration["features"]
    assert features["reading"] == 1.0 and features["reading_stated"] == 1.0
    (found,) = instruments.propose(instruments.read(product("Pressure gauge")), reference)
    assert found.contradicts("9025804000") and not found.contradicts("9026804000")
    assert not found.contradicts("8541510000")
