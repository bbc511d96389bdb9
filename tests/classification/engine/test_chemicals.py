"""Organic chemicals read the way chapter 29 reads them: by function, the last heading winning."""

import pytest

from classification.engine import chemicals
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts

N_ONLY = "Heterocyclic compounds with nitrogen hetero-atom(s) only"
PYRIDINE = (
    "Compounds containing an unfused pyridine ring (whether or not hydrogenated) in the structure"
)
PYRIMIDINE = "Compounds containing a pyrimidine ring or piperazine ring in the structure"
ETHERS = "Ethers, ether-alcohols, ether-phenols, ether-alcohol-phenols, alcohol peroxides"
SULPHUR = "Organo-sulfur compounds"
# (code, declarable, path below the chapter): slices of the US schedule's headings 2909, 2921,
# 2930 and 2933, and a line that words alone favour for a sulfone with amino groups.
LINES = [
    ("2909", False, [ETHERS]),
    (
        "2909110000",
        True,
        [ETHERS, "Acyclic ethers and their halogenated derivatives", "Diethyl ether"],
    ),
    ("2909300500", True, [ETHERS, "Aromatic ethers and their halogenated derivatives", "Other"]),
    (
        "2909410000",
        True,
        [ETHERS, "Ether-alcohols and their halogenated derivatives", "2,2'-Oxydiethanol"],
    ),
    (
        "2909505000",
        True,
        [ETHERS, "Ether-phenols, ether-alcohol-phenols and their halogenated derivatives", "Other"],
    ),
    ("2921", False, ["Amine-function compounds"]),
    ("2921110000", True, ["Amine-function compounds", "Acyclic monoamines", "Methylamine"]),
    (
        "2921410000",
        True,
        ["Amine-function compounds", "Aromatic monoamines", "Aniline and its salts"],
    ),
    (
        "2921420000",
        True,
        ["Amine-function compounds", "Aromatic monoamines", "Aniline derivatives and their salts"],
    ),
    ("2921590000", True, ["Amine-function compounds", "Aromatic polyamines", "Other"]),
    ("2930", False, [SULPHUR]),
    ("2930200000", True, [SULPHUR, "Thiocarbamates and dithiocarbamates"]),
    (
        "2930902600",
        True,
        [SULPHUR, "Other", "Diphenylthiourea; and 4,4'-Thiodiphenyl cyanate"],
    ),
    ("2930909000", True, [SULPHUR, "Other", "Other"]),
    ("2933", False, [N_ONLY]),
    ("2933310000", True, [N_ONLY, PYRIDINE, "Pyridine and its salts"]),
    ("2933399200", True, [N_ONLY, PYRIDINE, "Other"]),
    ("2933599500", True, [N_ONLY, PYRIMIDINE, "Other"]),
    ("2933990000", True, [N_ONLY, "Other"]),
    ("3006930000", True, ["Pharmaceutical goods", "Placebos and blinded clinical trial kits"]),
]


@pytest.fixture(scope="module")
def reference():
    return fakes.path_reference(LINES, name="chemicals")


def product(description):
    return facts(description, name="", materials=(), product_type="")


@pytest.mark.parametrize(
    ("text", "functions", "heading"),
    [
        ("4,4'-Diaminodiphenylsulfone, used as an epoxy curing agent", ("2921", "2930"), "2930"),
        ("2-t-Butyl-4-methoxyphenol, a pharmaceutical intermediate", ("2907", "2909"), "2909"),
        ("4-Aminobenzoic acid (CAS 150-13-0)", ("2916", "2921", "2922"), "2922"),  # note 3
        ("3-chlorophenol", ("2907", "2908"), "2908"),  # a halogenated phenol
        (
            "4-Amino-3,6-bis[(p-aminophenyl)azo]-5-hydroxy-2,7-naphthalenedisulfonic acid",
            None,
            "2927",
        ),
        ("ethyl acetate", ("2915",), "2915"),
        ("lactic acid", ("2918",), "2918"),
        (
            "2-(4-chlorophenyl)pyridine hydrochloride",
            ("2933",),
            "2933",
        ),  # the salt goes with the base
        ("2-methyl-2-butene", ("2901",), "2901"),
        # International non-proprietary names by their WHO stem.
        ("Fluralaner (CAS No. 864731-61-3) in bulk powder form", ("2934",), "2934"),
        ("Ciprofloxacin hydrochloride", ("2933",), "2933"),
        ("Propranolol", ("2922",), "2922"),
        ("Verapamil hydrochloride", ("2926",), "2926"),  # the salt goes with the base
    ],
)
def test_the_last_heading_of_the_functions_named_wins(text, functions, heading):
    reading = chemicals.read(product(text))
    assert reading is not None and reading.heading == heading
    if functions is not None:
        assert reading.headings == functions


@pytest.mark.parametrize(
    "text",
    [
        "Metformin hydrochloride",  # a name that states no function, and no stem read here
        "Calcium hypochlorite",  # inorganic
        "nitrile gloves, powder free",  # goods of a material named like a function
        "polyethylene terephthalate film",  # a polymer
        "Acrylic paint set for children",
        "a preparation of 2-propanol and water for cleaning lenses",  # a mixture
        "Ethiopia",
        "nitrous oxide",
        "Ethyl alcohol, 96 %",  # chapter 29 note 2: heading 2207
        "April",  # not a stem ("-pril") with a stem's length before it
    ],
)
def test_goods_preparations_and_names_without_a_function_are_not_read(text):
    assert chemicals.read(product(text)) is None


def test_rings_and_combined_classes_choose_the_line(reference):
    found = chemicals.propose(chemicals.read(product("2-t-Butyl-4-methoxyphenol")), reference)
    first = [p.code for p in found if p.rank < chemicals.ALTERNATIVE_RANK]
    # An ether-phenol, aromatic: not an acyclic ether, not an ether-alcohol.
    assert set(first) == {"2909300500", "2909505000"}
    assert all(not p.stated for p in found)  # two subheadings remain: meaning chooses
    # The lines the name rules out stay as alternatives far behind (2907 has no lines here).
    others = {p.code for p in found if p.rank >= chemicals.ALTERNATIVE_RANK}
    assert others == {"2909110000", "2909410000"}
    pyridine = chemicals.propose(chemicals.read(product("pyridine (CAS 110-86-1)")), reference)
    assert pyridine[0].code == "2933310000" and pyridine[0].stated and pyridine[0].rank == 1
    assert all(p.rank >= chemicals.ALTERNATIVE_RANK for p in pyridine[1:])
    assert "nitrogen heterocycle (29.33) → heading 2933" in pyridine[0].label


def test_the_runner_up_heading_is_an_alternative_and_other_headings_contradict(reference):
    reading = chemicals.read(product("4,4'-Diaminodiphenylsulfone"))
    found = chemicals.propose(reading, reference)
    assert found[0].code == "2930909000" and found[0].rank == 1
    assert found[-1].heading == "2921" and found[-1].rank >= chemicals.ALTERNATIVE_RANK
    assert "also heading 2921, after note 3's 2930" in found[-1].label
    assert found[0].contradicts("2921590000") and not found[0].contradicts("2930200000")
    assert not found[0].contradicts("3006930000")  # outside chapter 29: not this reading's call
    assert found[0].detail == {
        "compound": "4,4'-diaminodiphenylsulfone",
        "functions": ["2921", "2930"],
        "rings": ["aromatic"],
    }


def test_a_compound_leads_with_its_reading(reference):
    decision = fakes.ranked(
        product("4,4'-Diaminodiphenylsulfone, used as an epoxy curing agent"), reference
    )
    best = decision.candidates[0]
    assert best.code == "2930909000"
    evidence = next(e for e in best.sources if e.kind == "reading")
    assert evidence.detail["basis"] == "chemical" and evidence.detail["functions"] == [
        "2921",
        "2930",
    ]
    assert "chemical reading: 4,4'-diaminodiphenylsulfone" in best.rationale


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Aniline (CAS 62-53-3)", "2921410000"),  # the compound a line names
        ("4-Isopropylaniline", "2921420000"),  # a derivative of it
        ("Diphenylthiourea", "2930902600"),
        # Fragments ("phenyl", "thio") of the compounds a line names are not the compound.
        ("4,4'-Diaminodiphenylsulfone", "2930909000"),
    ],
)
def test_a_line_of_named_compounds_takes_only_those_compounds(text, code, reference):
    assert chemicals.propose(chemicals.read(product(text)), reference)[0].code == code
