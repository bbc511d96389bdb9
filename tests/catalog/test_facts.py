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


# --- RowChecker: the import's column-wise validate_row ----------------------------------------

# Cells as readers give them: text (with the spacing, case and punctuation analysts type),
# floats, ints, booleans, dates, blanks; valid and invalid for each fact.
_CELLS = {
    "sku": ["KN-1", " KN-2 ", "A\\B\t1", "line\nbreak", 123.0, 12.5, "", None, "x" * 65, "Ünï-7"],
    "name": ["Chef's knife", ' 15" screen ', "tab\there", "a\r\nb", "", None, 42.0, "n" * 201],
    "description": ["Knife with blade", 'quote " and back\\slash', "", "é😀\u2028", 7.0],
    "country_of_origin": ["DE", "de", " cn ", "XK", "Chna", "Germany", "", None, "USA", 1.0],
    "materials": ["cotton; elastane", " ; ", ";steel;", "", None, 3.0, "a;;b ;c"],
    "intended_use": ["Cooking", "", None, "u" * 1001, True],
    "product_type": ["Knife", "", None, "Toy"],
    "destination": ["US", "us", " gb ", "EU", "FR", "", None],
    "customs_value": ["18.50", 18.5, 4.0, "1 000", "-3", "abc", 1e-07, 0.1, "", None, True, 2**60],
    "currency": ["USD", "eur", "XXX", "EURO", "", None],
    "quantity": [1.0, "2", 0.0, -0.0, "", None, "1e3", 3.25, float("nan"), float("inf")],
    "quantity_unit": ["pcs", "", None, "u" * 21],
    "net_weight_kg": [0.25, "0.250", 1234567.123456, 0.1234567, "", None],
    "supplier": ["Acme", "", None, 5.0],
    "declared_code": ["8211.92.90", "0901210020", 61091000.0, 90121.0, 8471.3, "12", "", None],
    "notes": ["", None, "note\twith tab", "n" * 4001],
}


def _random_rows(count: int, seed: int) -> list[dict]:
    import random

    rnd = random.Random(seed)
    rows = []
    for _ in range(count):
        raw = {key: VALID.get(key) for key in F.FACT_KEYS}
        # Mostly valid rows with one or two odd cells, plus some rows odd throughout.
        keys = F.FACT_KEYS if rnd.random() < 0.2 else rnd.sample(F.FACT_KEYS, rnd.randint(0, 2))
        for key in keys:
            raw[key] = rnd.choice(_CELLS[key])
        rows.append(raw)
    return rows


def test_the_column_wise_checker_accepts_exactly_what_validate_row_accepts():
    columns = {key: index for index, key in enumerate(F.FACT_KEYS)}
    checker = F.RowChecker(columns)
    rows = _random_rows(3000, seed=7)
    cells = [[raw[key] for key in F.FACT_KEYS] for raw in rows]
    # In chunks, as the import calls it: remembered cells carry over from chunk to chunk.
    checked = [
        result for i in range(0, len(cells), 250) for result in checker.check(cells[i : i + 250])
    ]
    accepted = 0
    for raw, result in zip(rows, checked, strict=True):
        facts, errors = F.validate_row(raw)
        if facts is None:
            assert result is None, (raw, errors)
            continue
        accepted += 1
        assert result == (
            F.facts_json(facts),
            facts["sku"],
            facts["name"],
            facts["description"],
            facts["destination"],
            facts["country_of_origin"],
        ), raw
    assert 300 < accepted < 2700  # both outcomes are well represented


def test_the_checker_treats_absent_optional_columns_as_blank():
    columns = {key: index for index, key in enumerate(F.REQUIRED)}
    raw = {**VALID}
    [result] = F.RowChecker(columns).check([[raw[key] for key in F.REQUIRED]])
    facts, _ = F.validate_row(raw)
    assert result[0] == F.facts_json(facts)
    assert '"notes":null' in result[0] and '"customs_value":null' in result[0]


def test_the_checker_keeps_numbers_apart_from_equal_text():
    # 1.0, True and "1" are equal as dict keys would have them; their facts differ.
    columns = {key: index for index, key in enumerate(F.FACT_KEYS)}
    checker = F.RowChecker(columns)
    rows = []
    for quantity in ("1", 1.0, True, "1", 1.0):
        raw = {**VALID, "quantity": quantity, "quantity_unit": "pcs"}
        rows.append([raw.get(key) for key in F.FACT_KEYS])
    results = checker.check(rows)
    assert [r is None for r in results] == [False, False, True, False, False]
    assert all('"quantity":"1"' in r[0] for r in results if r)


def test_an_identifier_with_an_invisible_character_is_refused_naming_it():
    message = errors_of({**VALID, "sku": "KN-CF\u202e1003"})["sku"]
    assert message.startswith("contains U+202E (RIGHT-TO-LEFT OVERRIDE) at character 6")
    assert "U+200B (ZERO WIDTH SPACE)" in errors_of({**VALID, "sku": "KN\u200b-1"})["sku"]
    assert "U+0007" in errors_of({**VALID, "sku": "KN\x07-1"})["sku"]


def test_an_identifier_with_accented_letters_is_accepted():
    facts, errors = F.validate_row({**VALID, "sku": "ÉCLAIR-Ø1"})
    assert errors == [] and facts["sku"] == "ÉCLAIR-Ø1"
