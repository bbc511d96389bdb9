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


def test_promoting_adds_the_case_to_the_newest_draft(cast, make_pack, lead):
    draft = make_pack()
    pack = promote.rulepacks_promote_golden(
        actor=lead,
        tenant=cast.tenant,
        jurisdiction="US",
        case_id="decision-7",
        facts=FACTS,
        code="6110202079",
        outcome="classified",
    )
    assert pack.pk == draft.pk and pack.status == "draft"
    assert 'id = "decision-7"' in pack.source and 'code = "6110.20.20.79"' in pack.source


def test_promoting_without_a_draft_starts_one_from_the_active_pack(cast, make_pack, lead):
    from rulepacks.models import RulePack

    active = make_pack(stage="active")
    assert active.status == "active"
    pack = promote.rulepacks_promote_golden(
        actor=lead,
        tenant=cast.tenant,
        jurisdiction="US",
        case_id="decision-8",
        facts=FACTS,
        code="6110202079",
        outcome="classified",
    )
    assert pack.pk != active.pk and pack.status == "draft"
    assert pack.source.startswith(active.source.rstrip("\n"))
    assert "decision-8" not in RulePack.objects.get(pk=active.pk).source


def test_promoting_without_any_pack_is_refused_with_what_to_do(cast, lead, db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="create or activate one first"):
        promote.rulepacks_promote_golden(
            actor=lead,
            tenant=cast.tenant,
            jurisdiction="US",
            case_id="decision-9",
            facts=FACTS,
            code="6110202079",
            outcome="classified",
        )
