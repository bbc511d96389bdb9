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


def test_the_article_is_the_product_type_or_the_opening_phrase_of_the_description():
    def article(description, product_type=""):
        product = facts(description, name="", product_type=product_type)
        return search.article_phrase(product), search.article_word(product)

    assert article("a spacer ring used in a pneumatic valve") == ("a spacer ring", "ring")
    assert article("filter cartridge for a shop vacuum cleaner") == (
        "filter cartridge",
        "cartridge",
    )
    assert article("Men's crew-neck T-shirt, knitted jersey, 180 g/m2") == (
        "Men's crew-neck T-shirt",
        "shirt",
    )
    assert article("chrome-plated zinc alloy hose nozzles")[1] == "nozzle"
    assert article("unrecorded optical discs, specifically DVD-R")[1] == "disc"
    # The product type, when given, says what the article is.
    assert article("Backpack with a padded sleeve for a laptop", "laptop backpack")[1] == "backpack"
    assert article("123 / 456") == ("", "")


def test_word_search_weighs_the_article_and_meaning_reads_its_phrase_first():
    reference = FakeReference()
    product = facts("chrome-plated zinc alloy hose nozzle, pistol grip", name="", product_type="")
    search.search_candidates(product, reference)
    assert reference.boosts == [{"nozzle": search.ARTICLE_BOOST}]
    query = search.semantic_query(product)
    assert query.startswith("chrome-plated zinc alloy hose nozzle " * search.ARTICLE_REPEAT)
    assert query.endswith(search.semantic_text(product))
    # Nothing names an article: the word search runs unweighted.
    reference = FakeReference()
    search.search_candidates(facts("of steel", name="", product_type=""), reference)
    assert reference.boosts in ([], [{}])
