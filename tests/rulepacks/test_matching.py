"""Matching is on whole words and phrases of folded text: case, accents, punctuation, plurals."""

import pytest

from rulepacks.evaluate import Facts, evaluate, match_conditions
from rulepacks.format import parse
from rulepacks.format.normalize import fold_word, normalise
from tests.rulepacks.fakes import facts, pack_source


def when(toml_when: str):
    source = pack_source(
        rules=f"""[[rules]]
id = "r"
code = "6109100012"
confidence = 0.9
risk = "low"
rationale = "GRI 1: a rationale long enough to pass."
[rules.when]
{toml_when}
""",
        golden="",
    )
    result = parse(source)
    assert result.ok, result.problems
    return result.pack.rules[0].when


def matches(toml_when: str, **fact_values) -> bool:
    data = facts(fact_values.pop("name", "Item"), fact_values.pop("description", ""), **fact_values)
    return match_conditions(when(toml_when), Facts(data)) is not None


def test_cotton_does_not_match_cottonwood():
    assert not matches('materials = ["cotton"]', materials=["cottonwood"])
    assert matches('materials = ["cotton"]', materials=["organic cotton"])


def test_a_singular_term_matches_the_plural_and_back():
    assert matches('text = ["battery"]', description="Spare batteries for cameras")
    assert matches('text = ["batteries"]', description="One spare battery")
    assert matches('text = ["knife"]', description="Set of kitchen knives")
    assert matches('text = ["box"]', description="Gift boxes")


def test_case_accents_and_punctuation_are_folded():
    assert matches('text = ["creme"]', description="Crème hydratante, 50 ml")
    assert matches('text = ["li-ion battery"]', description="LI ION BATTERY pack")
    assert matches('text = ["t-shirt"]', description="T‑Shirt (crew neck)!")


def test_a_phrase_matches_only_its_words_in_order():
    assert matches('text = ["dog fur"]', description="collar of dog fur")
    assert not matches('text = ["dog fur"]', description="fur collar for a dog")
    assert not matches('text = ["dog fur"]', description="dog bed with fake fur")


def test_a_phrase_never_spans_two_materials():
    assert not matches('materials = ["dog fur"]', materials=["dog", "fur"])
    assert matches('materials = ["dog fur"]', materials=["cotton", "dog fur"])


def test_none_excludes_and_all_requires_every_term():
    rule = 'text = { any = ["sweater"], none = ["vest", "dog"] }'
    assert matches(rule, description="Knitted sweater")
    assert not matches(rule, description="Knitted sweater vest")
    assert not matches(rule, description="Sweater for dogs")
    both = 'text = { all = ["knitted", "sweater"] }'
    assert matches(both, description="Knitted wool sweater")
    assert not matches(both, description="Woven sweater")


def test_text_covers_name_and_description_but_not_materials():
    assert matches('text = ["hoodie"]', name="Zip hoodie", description="Warm top")
    assert not matches('text = ["cotton"]', description="Warm top", materials=["cotton"])


def test_origin_and_value_conditions():
    cond = (
        'text = ["tee"]\norigin = { any = ["CN", "VN"] }\nvalue = { max = 800, currency = "USD" }'
    )
    assert matches(cond, description="tee", customs_value="12.50", currency="USD")
    assert not matches(cond, description="tee", customs_value="900", currency="USD")
    assert not matches(cond, description="tee", customs_value="12.50", currency="EUR")
    assert not matches(cond, description="tee", customs_value=None, currency=None)
    assert not matches(
        cond, description="tee", country_of_origin="BD", customs_value="1", currency="USD"
    )


@pytest.mark.parametrize(
    ("word", "singular"),
    [
        ("batteries", "battery"),
        ("dresses", "dress"),
        ("watches", "watch"),
        ("toys", "toy"),
        ("glass", "glass"),
        ("gloves", "glove"),
        ("knives", "knife"),
        ("bus", "bus"),
    ],
)
def test_simple_plural_folding(word, singular):
    assert fold_word(word) == singular


def test_normalise_is_stable():
    assert normalise("  Crème-Brûlée SETS ") == "creme brulee set"


def test_evaluation_reports_matched_terms_per_fact():
    result = parse(pack_source())
    data = facts("Chef knife", "Kitchen knife with fixed blade", materials=["stainless steel"])
    evaluation = evaluate(result.pack, data)
    assert [m.rule_id for m in evaluation.matches] == ["kitchen-knife"]
    assert evaluation.matches[0].matched == (("text", ("knife",)),)
    assert [r.id for r in evaluation.restrictions] == ["knives"]
    assert evaluation.denied == ()


def test_a_list_of_term_tables_requires_each_of_them():
    cond = 'text = [{ any = ["t-shirt", "tee"] }, { any = ["men", "mens"], none = ["boys"] }]'
    assert matches(cond, description="Men's crew neck t-shirt")
    assert matches(cond, description="Graphic tee for mens")
    assert not matches(cond, description="Women's crew neck t-shirt")
    assert not matches(cond, description="Men's and boys' tee")
    assert not matches(cond, description="Men's polo shirt")
