import datetime as dt

import pytest

from tariffs import services
from tests.tariffs.conftest import REV_2025, REV_2026, load_small

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ["8507.60.00.30", "8507 60 00 30", " 8507600030 ", "8507.60.0030"])
def test_dotted_and_spaced_input_is_normalised(us_small, raw):
    check = services.code_validate(jurisdiction="US", code=raw)
    assert check.ok and check.declarable and check.national_verified
    assert (check.code, check.formatted) == ("8507600030", "8507.60.00.30")
    assert check.schedule_revision == REV_2026
    assert "Battery energy storage systems" in check.description


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("8507.6", "5 digits; a tariff code has 2, 4, 6, 8 or 10 digits"),
        ("85076000301", "11 digits"),
        ("8507.6O", "'O' is not"),
        ("", "Enter a tariff code"),
    ],
)
def test_wrong_input_is_refused_with_a_message(us_small, raw, message):
    check = services.code_validate(jurisdiction="US", code=raw)
    assert not check.ok and message in check.message


def test_a_code_that_does_not_exist_is_refused(us_small):
    check = services.code_validate(jurisdiction="US", code="8507.60.00.99")
    assert not check.ok
    assert check.message == (
        "8507.60.00.99 is not in US 2026 Rev 4. "
        "Declarable lines under 8507.60.00 now: 8507.60.00.10, 8507.60.00.30, 8507.60.00.90."
    )
    assert services.code_validate(jurisdiction="US", code="3003.90.00.00").message == (
        "3003.90.00.00 is not in US 2026 Rev 4."
    )


def test_a_parent_line_is_not_declarable(us_small):
    check = services.code_validate(jurisdiction="US", code="8507.60.00")
    assert not check.ok and not check.declarable
    assert "not a declarable line" in check.message
    assert check.description.endswith("Lithium-ion batteries")


def test_an_eight_digit_line_without_suffixes_is_declarable(us_small):
    assert services.code_validate(jurisdiction="US", code="8471.30.01").ok


def test_a_code_only_in_the_older_revision_is_reported_as_such(us_both):
    check = services.code_validate(jurisdiction="US", code="8507.60.00.20")
    assert not check.ok
    assert check.message == (
        "8507.60.00.20 is not in US 2026 Rev 4. "
        "It was valid in US 2025 Rev 13 but is not in 2026 Rev 4. "
        "Declarable lines under 8507.60.00 now: 8507.60.00.10, 8507.60.00.30, 8507.60.00.90."
    )
    older = services.code_validate(jurisdiction="US", code="8507.60.00.20", revision=REV_2025)
    assert older.ok and older.schedule_revision == REV_2025


def test_an_unknown_revision_is_said_so(us_small):
    check = services.code_validate(jurisdiction="US", code="8507600030", revision="1999 Rev 1")
    assert not check.ok and check.message == "No tariff schedule is loaded for US 1999 Rev 1."


def test_without_a_national_schedule_the_hs6_prefix_is_checked(db):
    check = services.code_validate(jurisdiction="GB", code="8507.60.00.30")
    assert check.ok and not check.national_verified
    assert "national digits are unverified" in check.message
    assert check.schedule_revision == "HS 2022"
    missing = services.code_validate(jurisdiction="GB", code="8507.99.00")
    assert not missing.ok and "8507.99 is not an HS 2022 subheading" in missing.message
    heading = services.code_validate(jurisdiction="GB", code="8507")
    assert not heading.ok and "heading, not a declarable code" in heading.message


def test_a_newer_load_becomes_current_only_when_it_is_newer(db):
    load_small()
    load_small(REV_2025, "usitc_2025_small.csv", dt.date(2025, 12, 1))
    assert services.current_schedule("US").revision == REV_2026
    assert services.code_validate(jurisdiction="US", code="0409.00.00.00").ok is False
