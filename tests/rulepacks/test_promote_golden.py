"""Promoting a final decision to a golden case (rulepacks.promote, written for issue 7)."""

import pytest

from rulepacks import promote
from rulepacks.format import parser
from tests.rulepacks.fakes import PACK_HEAD, RULES

SOURCE = PACK_HEAD + "\n" + RULES
FACTS = {
    "sku": "SW-1",
    "name": 'Men\'s "Aran" pullover',
    "description": "Men's knitted pullover sweater of cotton\nlong sleeves",
    "country_of_origin": "VN",
    "materials": ["cotton", "elastane"],
    "intended_use": "everyday wear",
    "product_type": "sweater",
    "destination": "US",
    "customs_value": "25.00",
    "notes": None,
}


def test_a_golden_case_is_appended_and_parses_with_its_facts_and_code():
    text = promote.add_golden_case(
        SOURCE,
        case_id="decision-42",
        code="6110202010",
        outcome="classified",
        facts=FACTS,
        jurisdiction="US",
    )
    assert text.startswith(SOURCE.rstrip("\n"))
    pack = parser.parse(text, jurisdictions=("US",)).pack
    (case,) = [g for g in pack.golden if g.id == "decision-42"]
    assert case.expect_code == "6110202010" and case.expect_outcome == "classified"
    assert case.facts["name"] == FACTS["name"] and case.facts["materials"] == ["cotton", "elastane"]
    assert case.facts["description"] == FACTS["description"]


def test_the_same_case_id_cannot_be_added_twice():
    once = promote.add_golden_case(
        SOURCE,
        case_id="d-1",
        code="6110202010",
        outcome="classified",
        facts=FACTS,
        jurisdiction="US",
    )
    with pytest.raises(ValueError, match="already has a golden case “d-1”"):
        promote.add_golden_case(
            once,
            case_id="d-1",
            code="6110202010",
            outcome="classified",
            facts=FACTS,
            jurisdiction="US",
        )


def test_a_pack_that_does_not_parse_is_refused_with_its_problems():
    with pytest.raises(ValueError, match="does not parse"):
        promote.add_golden_case(
            SOURCE + "\n[[rules]]\nid = 3\n",
            case_id="d-2",
            code="6110202010",
            outcome="classified",
            facts=FACTS,
            jurisdiction="US",
        )
