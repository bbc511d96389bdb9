"""``classification_calibrate``: options that cannot go together are refused before the slow
loading of the schedule's indexes."""

import pytest
from django.core.management import CommandError, call_command

CASES = """\
id,name,description,materials,intended_use,product_type,country_of_origin,expected_code{split}
c1,Sweater,Knitted sweaters of cotton,cotton,retail,apparel,CN,6110.20.2079{a}
c2,Battery,Lithium-ion batteries,lithium,retail,battery,CN,8507.60.0020{b}
"""


def calibrate(tmp_path, *args, split=True):
    path = tmp_path / "cases.csv"
    path.write_text(
        CASES.format(
            split=",split" if split else "",
            a=",validation" if split else "",
            b=",test" if split else "",
        ),
        encoding="utf-8",
    )
    call_command("classification_calibrate", "--cases", str(path), "--jurisdiction", "US", *args)


def test_a_cross_fit_needs_cases_of_two_splits(tmp_path):
    with pytest.raises(CommandError, match="needs cases of exactly two splits"):
        calibrate(tmp_path, "--cross-fit", split=False)


def test_a_cross_fit_chooses_its_halves_itself(tmp_path):
    with pytest.raises(CommandError, match="no --fit-split"):
        calibrate(tmp_path, "--cross-fit", "--fit-split", "validation")


def test_writing_a_fit_needs_its_version(tmp_path):
    with pytest.raises(CommandError, match="--fit-version is required"):
        calibrate(tmp_path)
