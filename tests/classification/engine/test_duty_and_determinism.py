"""Duty for the selected code and two alternatives; the same input gives the same decision."""

import json

from classification.engine import ENGINE_VERSION, Precedent, PrecedentIndex, classify
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts
from tests.tariff_fakes import FakeReference

SWEATER = "Knitted pullover sweater with ribbed cuffs"
SEARCH = [("6110303059", 0.9), ("7323930080", 0.6), ("9503000073", 0.5)]


def decide(product, search=SEARCH, precedents=None):
    return classify(
        product,
        pack=fakes.pack(),
        reference=FakeReference(search=search),
        precedents=precedents,
        facts_sha256="f1",
    )


def test_duty_covers_the_selected_code_and_the_two_best_alternatives():
    decision = decide(facts(SWEATER, customs_value="10000.00", currency="USD"))
    assert decision.duty["selected"]["code"] == "6110202079"
    assert decision.duty["selected"]["total"] == "1650.00"
    assert [d["code"] for d in decision.duty["alternatives"]] == ["6110303059", "7323930080"]
    assert decision.duty["exposure"] == [
        "6110.30.30.59 would cost $1,550.00 more on this value.",
        "7323.93.00.80 would cost $1,450.00 less on this value.",
    ]
    by_code = {c.code: c.duty for c in decision.candidates}
    assert by_code["6110303059"]["total"] == "3200.00"
    assert by_code["9503000073"] is None  # only three estimates are made


def test_the_importers_declared_code_is_compared_with_the_selected_code():
    product = facts(SWEATER, customs_value="10000.00", currency="USD", declared_code="9503000073")
    decision = decide(product)
    declared = decision.duty["declared"]
    assert declared["estimate"]["total"] == "0.00"
    assert declared["exposure"] == (
        "The declared code 9503.00.00.73 would cost $1,650.00 less on this value."
    )
    assert decide(facts(SWEATER, declared_code="6110202079")).duty["declared"] is None


def test_without_a_value_the_comparison_says_why_there_is_no_figure():
    decision = decide(facts(SWEATER))
    assert decision.duty["selected"]["computable"] is False
    assert decision.duty["exposure"][0] == (
        "6110.30.30.59: no comparison, the duty of 6110.20.20.79 is not computable "
        "(Needs the customs value.)."
    )


def test_the_same_input_gives_the_same_decision_json():
    product = facts(SWEATER, customs_value="1234.50", currency="USD")
    records = [
        Precedent(
            1,
            "SKU-9",
            "x",
            "Knitted pullover sweater with ribbed collar",
            "6110303059",
            "bea",
            "2026-01-01T00:00:00+00:00",
        ),
        Precedent(2, "SKU-1", "f1", SWEATER, "6110202079", "cy", "2026-02-01T00:00:00+00:00"),
    ]
    first = decide(product, precedents=PrecedentIndex(records)).to_json()
    again = decide(dict(product), precedents=PrecedentIndex(reversed(records))).to_json()
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert first["engine_version"] == ENGINE_VERSION
    assert first["pack"]["version"] == "3"
    assert len(first["pack"]["sha256"]) == 64


def test_decision_json_is_plain_json_with_decimals_as_strings():
    decision = decide(facts(SWEATER, customs_value="99.99", currency="USD"))
    data = json.loads(json.dumps(decision.to_json()))
    assert data["duty"]["selected"]["total"] == "16.50"
    assert data["candidates"][0]["sources"][0]["kind"] == "rule"
    assert data["schedule_revision"] == "2026 Rev 4 (test)"
    outcome = data["outcome"].replace("_", " ").capitalize()
    assert data["explanation"].startswith(f"{outcome}. Best candidate 6110.20.20.79 at 0.90")


def test_a_search_memo_searches_each_product_once_and_changes_nothing():
    product = facts(SWEATER, customs_value="1234.50", currency="USD")
    plain = FakeReference()
    expected = classify(product, pack=fakes.pack(), reference=plain).to_json()
    reference, memo = FakeReference(), {}
    for _ in range(3):  # as a backtest does: one product, several packs
        got = classify(product, pack=fakes.pack(), reference=reference, search_memo=memo)
        assert json.dumps(got.to_json(), sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert reference.searches == plain.searches == 1
