import datetime as dt

import pytest

from tariffs import bm25, reference, selectors, services
from tests.tariffs.conftest import load_small

pytestmark = pytest.mark.django_db


def test_reference_search_ranks_by_words_with_scores_in_0_1(us_small):
    hits = us_small.search("lithium ion battery", limit=5)
    assert hits[0].code.startswith("85076000")
    assert all(0 <= hit.score <= 1 for hit in hits)
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert "Lithium-ion batteries" in hits[0].full_description


def test_reference_search_only_returns_declarable_lines(us_small):
    codes = {hit.code for hit in us_small.search("batteries", limit=20)}
    assert codes and all(us_small.is_declarable(code) for code in codes)


def test_reference_search_by_code_prefix(us_small):
    hits = us_small.search("8507.60", limit=10)
    assert [h.code for h in hits] == ["8507600010", "8507600030", "8507600090"]


def test_reference_search_of_unknown_words_finds_nothing(us_small):
    assert us_small.search("zeppelin") == []


def test_hs_only_reference_searches_the_nomenclature(db):
    ref = reference.get_reference("GB")
    assert not ref.national and ref.schedule_id is None
    assert ref.search("lithium-ion accumulators", limit=3)[0].code == "850760"


def test_full_text_search_finds_lines_by_words(us_small):
    schedule = services.current_schedule("US")
    found = [line.code for line in selectors.search_lines(schedule, "lithium ion battery")]
    assert set(found[:3]) == {"8507600010", "8507600030", "8507600090"}
    assert "85076000" in found  # parents too, after the declarable lines


def test_full_text_search_by_code_prefix(us_small):
    schedule = services.current_schedule("US")
    assert [line.code for line in selectors.search_lines(schedule, "6110.20")] == [
        "611020",
        "61102020",
        "6110202010",
        "6110202020",
    ]


def test_full_text_search_accepts_any_text_safely(us_small):
    schedule = services.current_schedule("US")
    assert selectors.search_lines(schedule, "'; drop table -- & | !") == []
    assert selectors.search_lines(schedule, "   ") == []


def test_reference_is_cached_per_schedule_and_renewed_by_a_new_load(us_small):
    assert reference.get_reference("US") is us_small
    load_small("2026 Rev 5", "usitc_2025_small.csv", dt.date(2026, 3, 1))
    renewed = reference.get_reference("US")
    assert renewed is not us_small and renewed.revision == "2026 Rev 5"
    assert reference.get_reference("US", "2026 Rev 4") is not renewed


def test_real_schedule_search_puts_8507_60_first(real_2026):
    hits = real_2026.search("lithium ion battery", limit=3)
    assert {hit.code[:6] for hit in hits} == {"850760"}


def test_the_stemmer_meets_plurals_halfway():
    assert bm25.tokens("Lithium-ion BATTERIES, of boxes") == ["lithium", "ion", "battery", "box"]
    assert bm25.stem("glass") == "glass" and bm25.stem("cactus") == "cactus"


def test_bm25_prefers_documents_with_more_of_the_rare_words():
    index = bm25.SearchIndex(
        [("a", "cotton sweaters"), ("b", "cotton shirts"), ("c", "wool sweaters")]
    )
    ranked = index.rank("cotton sweater", 3)
    assert ranked[0][0] == "a" and ranked[0][1] <= 1.0
    assert {code for code, _ in ranked[1:]} == {"b", "c"}


def test_word_search_leaves_out_chapter_99_provisions(us_small):
    hits = us_small.search("articles the product of China", limit=50)
    assert hits and not [hit for hit in hits if hit.code.startswith("99")]
    assert us_small.search("9903.88")[0].code == "99038801"


def test_full_text_search_puts_chapter_99_provisions_after_goods(us_small):
    schedule = services.current_schedule("US")
    found = [line.code for line in selectors.search_lines(schedule, "china or batteries")]
    goods = [i for i, code in enumerate(found) if code.startswith("8507") and len(code) == 10]
    provisions = [i for i, code in enumerate(found) if code.startswith("99")]
    assert goods and provisions and max(goods) < min(provisions)


def test_bm25_boost_weighs_a_query_word_more_and_keeps_scores_in_0_1():
    # "zinc alloy hose nozzle": without a boost the two material words outweigh the article.
    index = bm25.SearchIndex(
        [("wire", "wire of zinc alloy"), ("nozzle", "hose nozzles"), ("x", "other goods")]
    )
    assert index.rank("zinc alloy nozzle", 2)[0][0] == "wire"
    boosted = index.rank("zinc alloy nozzle", 2, boost={"nozzles": 3.0})
    assert boosted[0][0] == "nozzle" and all(0 < score <= 1 for _, score in boosted)
    # No boost, or a boost of a word the query lacks, ranks exactly as before.
    plain = index.rank("zinc alloy nozzle", 3)
    assert index.rank("zinc alloy nozzle", 3, boost={}) == plain
    assert index.rank("zinc alloy nozzle", 3, boost={"cotton": 2.0}) == plain


def test_reference_search_passes_the_boost_to_bm25(us_small):
    plain = us_small.search("lithium ion battery", limit=5)
    boosted = us_small.search("lithium ion battery", limit=5, boost={"battery": 2.0})
    assert {h.code for h in boosted} and all(0 <= h.score <= 1 for h in boosted)
    assert [h.score for h in boosted] != [h.score for h in plain]
