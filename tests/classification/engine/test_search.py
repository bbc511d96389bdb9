"""Nomenclature search as a candidate source: the query, the re-ranking, the spread of codes."""

from classification.engine import search
from tests.classification.engine.fakes import facts
from tests.tariff_fakes import FakeReference


def test_the_query_drops_paperwork_words_and_keeps_what_the_article_is():
    product = facts(
        "The subject merchandise is a knitted pullover sweater, model 123, imported in sets",
        name="Cable sweater",
        materials=["cotton", "polyester"],
        product_type="apparel",
    )
    query, core = search.build_query(product)
    words = query.split()
    assert words[:2] == ["cable", "sweater"]
    assert {"knitted", "pullover", "cotton", "polyester"} <= set(words)
    assert not {"subject", "merchandise", "model", "imported", "123", "set"} & set(words)
    assert {"cable", "sweater", "apparel", "knitted", "pullover"} <= core
    assert "polyester" not in core  # materials detail the article, they do not name it


def test_codes_whose_heading_names_the_article_rank_first():
    # Equal schedule scores: the sweater lines' heading text contains "sweater", the toy's not.
    reference = FakeReference(search=[("9503000073", 0.5), ("6110202079", 0.5)])
    found = search.search_candidates(facts("Knitted sweater", name="Sweater"), reference).candidates
    assert [c.code for c in found] == ["6110202079", "9503000073"]


def test_scores_are_shares_of_the_relevance_and_subheadings_are_spread():
    more = {f"611020200{i}": ("Sweaters, knitted, of cotton, style {i}", True) for i in range(5)}
    hits = [(code, 0.95) for code in more] + [("6110303059", 0.8), ("6109100012", 0.7)]
    reference = FakeReference(search=hits, lines=more)
    result = search.search_candidates(facts("Knitted sweater"), reference, limit=4)
    found = result.candidates
    assert [c.code[:6] for c in found] == ["611020", "611020", "611030", "610910"]
    assert sum(c.score for c in found) <= 1.0001
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert found[0].raw == 0.95 and result.query


def test_a_product_with_no_searchable_words_gets_no_search_candidates():
    reference = FakeReference()
    product = facts("123 / 456", name="", materials=[], intended_use="", product_type="")
    assert search.search_candidates(product, reference).candidates == []
    assert reference.searches == 0
