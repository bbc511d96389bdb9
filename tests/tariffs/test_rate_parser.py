import csv
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tariffs import rates
from tests.conftest import shared_data_path


def test_free_is_a_zero_ad_valorem_rate():
    rate = rates.parse("Free")
    assert rate.kind == rates.FREE and rate.readable and rate.ad_valorem == 0


def test_ad_valorem_keeps_the_exact_decimal():
    rate = rates.parse("6.8%")
    assert rate.kind == rates.AD_VALOREM and rate.ad_valorem == Decimal("6.8")


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("1.9¢/kg", Decimal("0.019"), "kg"),
        ("$1.02/head", Decimal("1.02"), "head"),
        ("37.5¢/doz.", Decimal("0.375"), "doz."),
        ("5¢ each", Decimal("0.05"), "each"),
        ("$2.50/liter", Decimal("2.50"), "liter"),
    ],
)
def test_specific_rates_are_read_in_dollars_per_unit(text, amount, unit):
    rate = rates.parse(text)
    assert rate.kind == rates.SPECIFIC
    assert rate.specific == (rates.SpecificPart(amount, unit),)


def test_compound_rate_has_both_parts():
    rate = rates.parse("2.8¢/kg + 5%")
    assert rate.kind == rates.COMPOUND
    assert rate.ad_valorem == Decimal(5)
    assert rate.specific == (rates.SpecificPart(Decimal("0.028"), "kg"),)


@pytest.mark.parametrize(
    "text",
    [
        "17.6¢/kg on tungsten content + 3.8%",
        "The duty provided in the applicable subheading + 25%",
        "4.4¢/kg on drained weight",
        "See additional U.S. note 3",
        "5% + 5%",
    ],
)
def test_text_it_cannot_read_stays_text_and_is_flagged(text):
    rate = rates.parse(text)
    assert rate.kind == rates.TEXT and not rate.readable
    assert rate.reason
    assert rate.ad_valorem is None and rate.specific == ()


def test_an_empty_cell_is_not_a_zero_rate():
    rate = rates.parse("")
    assert rate.kind == rates.EMPTY and not rate.readable and rate.ad_valorem is None


def test_chapter_99_surcharge_is_read_from_the_heading_text():
    assert rates.additional_percent("The duty provided in the applicable subheading + 25%") == 25
    assert rates.additional_percent(
        "The duty provided in the applicable subheading plus 7.5%"
    ) == Decimal("7.5")
    assert rates.additional_percent("The duty provided in the applicable subheading") is None
    assert (
        rates.additional_percent("… subheading + a duty of 50% upon the value of the steel content")
        is None
    )


def test_special_programme_lists_lose_their_stray_spaces():
    assert rates.normalise_special("Free (A+,AU,BH, CL,CO, SG)") == "Free (A+,AU,BH,CL,CO,SG)"
    assert rates.special_programmes("Free (A, IL) 2.5% (JP)") == [
        ("Free", ["A", "IL"]),
        ("2.5%", ["JP"]),
    ]


@given(st.text(max_size=60))
def test_any_text_parses_or_is_flagged_never_raises(text):
    rate = rates.parse(text)
    assert rate.kind in {
        rates.FREE,
        rates.AD_VALOREM,
        rates.SPECIFIC,
        rates.COMPOUND,
        rates.TEXT,
        rates.EMPTY,
    }
    if not rate.readable:
        assert rate.ad_valorem is None and rate.specific == ()


@given(
    st.decimals(min_value=0, max_value=1000, places=2),
    st.decimals(min_value=0, max_value=1000, places=1),
)
def test_generated_compound_rates_round_trip(cents, percent):
    rate = rates.parse(f"{cents}¢/kg + {percent}%")
    assert rate.kind == rates.COMPOUND
    assert rate.ad_valorem == percent
    assert rate.specific[0].amount_usd == cents / 100


@pytest.mark.shared_data
def test_every_general_rate_of_the_2026_schedule_parses_or_is_flagged():
    path = shared_data_path("us_htsus_2026_rev4_usitc_export.csv")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        texts = [
            row["General Rate of Duty"]
            for row in csv.DictReader(handle)
            if row["General Rate of Duty"].strip()
        ]
    assert len(texts) > 13_000
    kinds = {}
    for text in texts:
        rate = rates.parse(text)
        kinds[rate.kind] = kinds.get(rate.kind, 0) + 1
        if rate.readable:
            # A readable rate accounts for every number in its text: nothing silently dropped.
            numbers = [
                n
                for n in text.replace(",", "").replace("$", " ").split()
                if any(c.isdigit() for c in n)
            ]
            assert len(numbers) == (rate.ad_valorem is not None and rate.kind != rates.FREE) + len(
                rate.specific
            ), text
        else:
            assert rate.kind == rates.TEXT and rate.reason, text
    assert kinds[rates.AD_VALOREM] > 6000 and kinds[rates.FREE] > 5000
    assert kinds[rates.SPECIFIC] > 500 and kinds[rates.COMPOUND] > 150
    assert 0 < kinds[rates.TEXT] < 800
