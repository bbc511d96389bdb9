"""The pure facts validator shared by the import, the edit form and the API."""

from catalog import facts as F

VALID = {
    "sku": "KN-CF-3001",
    "name": "8-inch chef's knife",
    "description": "Kitchen knife with fixed stainless steel blade",
    "country_of_origin": "de",
    "materials": " stainless steel ;  ; polyoxymethylene ",
    "intended_use": "Food preparation",
    "product_type": "Kitchen knife",
    "destination": "us",
}


def errors_of(raw):
    facts, errors = F.validate_row(raw)
    assert facts is None
    return {e.field: e.message for e in errors}


def test_valid_facts_are_normalised_with_every_key_present():
    facts, errors = F.validate_row(
        {**VALID, "customs_value": "18.50", "currency": "eur", "declared_code": "8211.92.90"}
    )
    assert errors == []
    assert set(facts) == set(F.FACT_KEYS)
    assert facts["country_of_origin"] == "DE"
    assert facts["destination"] == "US"
    assert facts["materials"] == ["stainless steel", "polyoxymethylene"]
    assert facts["customs_value"] == "18.5"
    assert facts["currency"] == "EUR"
    assert facts["declared_code"] == "82119290"
    assert facts["supplier"] is None and facts["notes"] is None


def test_the_same_facts_always_hash_the_same():
    a, _ = F.validate_row({**VALID, "customs_value": "18.50", "currency": "USD"})
    b, _ = F.validate_row({**VALID, "customs_value": 18.5, "currency": "usd"})
    assert F.facts_sha256(a) == F.facts_sha256(b)


def test_materials_as_a_list_mean_the_same_as_semicolon_separated_text():
    text, _ = F.validate_row({**VALID, "materials": " cotton ;elastane; "})
    listed, _ = F.validate_row({**VALID, "materials": ["cotton", " elastane", ""]})
    assert text["materials"] == listed["materials"] == ["cotton", "elastane"]
    assert F.facts_sha256(text) == F.facts_sha256(listed)


def test_every_required_fact_is_named_when_missing():
    errors = errors_of({})
    assert set(errors) == set(F.REQUIRED)
    assert errors["materials"] == "at least one material is required"
    assert errors["name"] == "is required"


def test_a_country_that_is_not_iso_3166_is_refused_with_a_hint():
    assert errors_of({**VALID, "country_of_origin": "Chna"})["country_of_origin"].startswith(
        "'Chna' is not an ISO 3166 country code"
    )
    assert (
        "did you mean CN?"
        in errors_of({**VALID, "country_of_origin": "China"})["country_of_origin"]
    )


def test_kosovo_is_accepted_as_xk():
    facts, errors = F.validate_row({**VALID, "country_of_origin": "XK"})
    assert errors == [] and facts["country_of_origin"] == "XK"


def test_a_destination_outside_the_configured_list_is_refused(settings):
    settings.JURISDICTIONS = ["US", "EU", "GB"]
    assert errors_of({**VALID, "destination": "CA"})["destination"] == (
        "'CA' is not a destination (US, EU, GB)"
    )


def test_currency_must_be_iso_4217_and_is_required_with_a_value():
    assert "ISO 4217" in errors_of({**VALID, "customs_value": "3", "currency": "DOL"})["currency"]
    assert errors_of({**VALID, "customs_value": "3"})["currency"] == (
        "is required when a customs value is given"
    )


def test_numbers_must_be_plain_non_negative_decimals():
    errors = errors_of({**VALID, "customs_value": "12,50", "currency": "USD"})
    assert "is not a number" in errors["customs_value"]
    assert "must not be negative" in errors_of({**VALID, "net_weight_kg": "-1"})["net_weight_kg"]
    assert errors_of({**VALID, "quantity": "2"})["quantity_unit"] == (
        "is required when a quantity is given"
    )


def test_a_declared_code_typed_as_a_number_is_kept_only_when_unambiguous():
    facts, _ = F.validate_row({**VALID, "declared_code": 61091000.0})
    assert facts["declared_code"] == "61091000"
    lost_zero = errors_of({**VALID, "declared_code": 90121})["declared_code"]
    assert "stored as a number" in lost_zero and "leading or trailing zeros" in lost_zero
    assert "stored as a number" in errors_of({**VALID, "declared_code": 8471.3})["declared_code"]


def test_a_declared_code_must_be_6_8_or_10_digits():
    assert "is not a tariff code" in errors_of({**VALID, "declared_code": "61A9"})["declared_code"]
    facts, _ = F.validate_row({**VALID, "declared_code": "0901.21.0020"})
    assert facts["declared_code"] == "0901210020"


def test_broker_header_aliases_are_recognised_whatever_the_case_and_spacing():
    assert F.field_for_header("HTS") == "declared_code"
    assert F.field_for_header("hts  code") == "declared_code"
    assert F.field_for_header("Commodity_Code") == "declared_code"
    assert F.field_for_header("COO") == "country_of_origin"
    assert F.field_for_header(" Country of Origin ") == "country_of_origin"
    assert F.field_for_header("Origin") == "country_of_origin"
    assert F.field_for_header("Item") == "sku"
    assert F.field_for_header("Part Number") == "sku"
    assert F.field_for_header("Part #") == "sku"
    assert F.field_for_header("Colour") is None
