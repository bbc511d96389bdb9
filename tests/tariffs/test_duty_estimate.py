from decimal import Decimal

import pytest

from tests.tariffs.conftest import REV_2026

pytestmark = pytest.mark.django_db
D = Decimal


def estimate(ref, code, origin="VN", value="10000", currency="USD", **kw):
    return ref.duty(
        code,
        origin=origin,
        customs_value=D(value) if value is not None else None,
        currency=currency,
        **kw,
    )


def test_ad_valorem_rate_on_the_customs_value(us_small):
    result = estimate(us_small, "6110202010")
    assert result.computable and result.total == D("1650.00")
    base = result.lines[0]
    assert (base.label, base.rate_text, base.amount) == (
        "General (MFN) rate",
        "16.5%",
        D("1650.00"),
    )
    assert base.source == f"US {REV_2026}, 6110.20.20.10 (rate of 6110.20.20)"
    assert isinstance(result.total, Decimal)


def test_free_is_a_computed_zero_with_its_source(us_small):
    result = estimate(us_small, "8471300100"[:8])
    assert result.computable and result.total == D("0.00")
    assert result.lines[0].rate_text == "Free"


def test_specific_rate_needs_the_quantity(us_small):
    without = estimate(us_small, "0104200000", value="500")
    assert not without.computable and without.total is None
    assert "Needs the quantity in head" in without.lines[0].note
    with_heads = estimate(us_small, "0104200000", value="500", quantity=D(10), quantity_unit="head")
    assert with_heads.total == D("6.80")


def test_specific_rate_per_dozen_from_a_count(us_small):
    result = estimate(us_small, "0407210000", value="100", quantity=D(120), quantity_unit="No.")
    assert result.total == D("0.28")


def test_compound_rate_with_and_without_weight(us_small):
    without = estimate(us_small, "5107103000", value="1000")
    assert not without.computable and "Needs the quantity in kg" in without.lines[0].note
    with_weight = estimate(us_small, "5107103000", value="1000", net_weight_kg=D("250"))
    assert with_weight.total == D("57.00")  # 250 kg × 2.8¢ + 5% of 1000


def test_column_2_rate_for_a_column_2_origin(us_small):
    result = estimate(us_small, "6110202010", origin="RU")
    assert result.lines[0].label == "Column 2 rate (Russia)"
    assert result.lines[0].rate_text == "50%" and result.total == D("5000.00")


def test_section_301_adds_its_chapter_99_duty_for_chinese_origin(us_small):
    vietnam = estimate(us_small, "6110202010", origin="VN")
    china = estimate(us_small, "6110202010", origin="CN")
    assert len(vietnam.lines) == 1
    extra = china.lines[1]
    assert extra.label == "Section 301 (list 3, 9903.88.03)"
    assert (extra.rate_text, extra.amount) == ("+25%", D("2500.00"))
    assert "9903.88.03" in extra.source and "Section 301" in extra.source
    assert china.total == D("4150.00") and vietnam.total == D("1650.00")


def test_the_four_year_review_increase_replaces_the_list_rate(us_small):
    result = estimate(us_small, "8507600030", origin="CN")
    assert [line.rate_text for line in result.lines] == ["3.4%", "+25%"]
    assert result.total == D("2840.00")
    assert "Section 301 (list 4B, 9903.88.16): the provision is suspended" in result.notes[0]


def test_suspended_lists_are_not_applied_and_overlapping_lists_are_not_stacked(us_small):
    sweater = estimate(us_small, "6110202010", origin="CN")
    assert [line.label for line in sweater.lines[1:]] == ["Section 301 (list 3, 9903.88.03)"]
    assert any("list 4B, 9903.88.16): the provision is suspended" in n for n in sweater.notes)
    wool = estimate(us_small, "5107103000", origin="CN", net_weight_kg=D("250"), value="1000")
    assert len(wool.lines) == 2 and wool.lines[1].amount == D("250.00")
    assert wool.total == D("307.00")
    assert any("this HTS8 is on 2 lists" in note for note in wool.notes)


def test_unreadable_rate_text_is_flagged_never_zero(us_small):
    result = estimate(us_small, "2620992000")
    assert not result.computable and result.total is None
    assert result.lines[0].amount is None
    assert "cannot be computed automatically" in result.lines[0].note
    assert "No total" in result.notes[0]


def test_section_232_goods_have_no_silent_total(us_small):
    result = estimate(us_small, "7610100010", origin="DE")
    assert result.lines[1].label == "Section 232 aluminum (annex 1a)"
    assert result.lines[1].amount is None and result.total is None
    assert any("anti-dumping and countervailing" in note for note in result.notes)


def test_missing_value_is_said_not_assumed(us_small):
    result = estimate(us_small, "6110202010", value=None, currency=None)
    assert not result.computable and result.lines[0].note == "Needs the customs value."


def test_preferences_the_origin_might_claim_are_listed_not_applied(us_small):
    result = estimate(us_small, "6110202010", origin="KR")
    assert result.total == D("1650.00")
    assert result.preferences == [
        "US-Korea FTA (KR): Free if the goods meet its rules of origin "
        "and the claim is made (not applied)."
    ]
    usmca = estimate(us_small, "6110202010", origin="MX")
    assert usmca.preferences[0].startswith("USMCA (S): Free")


def test_other_currencies_compute_ad_valorem_but_not_specific(us_small):
    euros = estimate(us_small, "6110202010", currency="EUR")
    assert euros.total == D("1650.00") and euros.currency == "EUR"
    assert any("converts the value to USD" in note for note in euros.notes)
    specific = estimate(us_small, "0104200000", currency="EUR", quantity=D(1), quantity_unit="head")
    assert not specific.computable and "no exchange rate" in specific.lines[0].note


def test_a_non_declarable_or_unknown_code_gets_no_estimate(us_small):
    assert "not a declarable line" in estimate(us_small, "85076000").notes[0]
    assert "is not in US 2026 Rev 4" in estimate(us_small, "8507600099").notes[0]


def test_real_schedule_battery_from_china_and_sweater_from_vietnam_and_china(real_2026):
    battery = estimate(real_2026, "8507600090", origin="CN")
    assert battery.total == D("2840.00")
    assert "FD1" in real_2026.flags("8507600090").pga
    sweater_vn = estimate(real_2026, "6110202020", origin="VN")
    sweater_cn = estimate(real_2026, "6110202020", origin="CN")
    assert sweater_vn.total == D("1650.00")
    assert sweater_cn.total > sweater_vn.total
    assert [line.label for line in sweater_cn.lines][1:] == ["Section 301 (list 4A, 9903.88.15)"]
    assert sweater_cn.total == D("2400.00")  # 16.5% + 7.5%; list 4B is suspended
