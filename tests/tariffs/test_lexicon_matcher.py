"""The in-memory lexicon matcher: folded words, longest terms first, no ORM."""

import pytest

from tariffs import lexicon
from tariffs.lexicon import Entry, LexiconIndex


@pytest.fixture
def index():
    return LexiconIndex(
        [
            Entry("power bank", ("8507",), "Accumulators."),
            Entry("wireless power bank", ("8507",), "Accumulators."),
            Entry("coffee", ("0901", "2101"), "Coffee."),
            Entry("coffee mug", (), "Too many codes to list: say the material."),
            Entry("glass mug", ("7013",), "Glassware."),
            Entry("steel mug", ("7323",), "Steel."),
            Entry("book and mugs", ("4901",), "A set."),
            Entry("aa battery", ("8506",), "Cells."),
            Entry("vape", ("8543400000", "2404"), "By whether disposable."),
            Entry("box", (), "By material."),
            Entry("boxing gloves", ("9506",), "Sports."),
            Entry("boys' t shirt", ("6109100010",), "Knitted."),
            Entry("boys t shirt", ("6109100010",), "Knitted."),
            Entry("accessories", (), "Too generic.", too_generic=True),
            Entry("glass", ("70",), "Glass."),
        ]
    )


def _terms(hits):
    return [hit.term for hit in hits]


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("banks", "bank"),
        ("batteries", "battery"),
        ("boxes", "box"),
        ("watches", "watch"),
        ("glasses", "glass"),
        ("glass", "glass"),
        ("bus", "bus"),
        ("gas", "gas"),
        ("shoes", "shoe"),
    ],
)
def test_simple_plurals_fold_to_the_singular(word, folded):
    assert lexicon.fold(word) == folded


def test_words_are_lower_case_without_apostrophes_or_punctuation():
    assert lexicon.words("Boys' T-Shirts, 100% cotton") == ("boy", "t", "shirt", "100", "cotton")
    assert lexicon.normalise("Children’s  Shoes") == "children shoe"


def test_a_plural_in_the_text_matches_the_singular_term(index):
    [hit] = index.match("Power banks for phones")
    assert (hit.term, hit.codes, hit.levels) == ("power bank", ("8507",), ("heading",))
    assert _terms(index.match("4 AA batteries")) == ["aa battery"]


def test_a_multiword_term_needs_its_words_in_order_and_adjacent(index):
    assert index.match("a bank of power") == []
    assert index.match("power supply bank") == []


def test_the_longest_term_wins_and_terms_inside_it_are_not_reported(index):
    assert _terms(index.match("wireless power bank")) == ["wireless power bank"]
    [mug] = index.match("coffee mug with lid")
    assert mug.term == "coffee mug" and mug.codes == ()


def test_separate_terms_in_one_text_are_all_reported_longest_first(index):
    hits = index.match("vape kit with a power bank and a glass")
    assert _terms(hits) == ["power bank", "vape", "glass"]
    assert hits[0].start == 4 and hits[0].end == 6


def test_terms_that_only_overlap_are_both_reported(index):
    assert _terms(index.match("coffee mug glass mug")) == ["coffee mug", "glass mug"]


def test_a_word_is_not_matched_inside_a_longer_word(index):
    assert _terms(index.match("boxing gloves")) == ["boxing gloves"]
    assert index.match("coffeemaker") == []


def test_spelling_variants_with_the_same_codes_give_one_hit(index):
    assert _terms(index.match("boys t-shirts")) == ["boys' t shirt"]
    assert len(index) == 14


def test_a_hit_carries_the_message_codes_levels_and_too_generic(index):
    [vape] = index.match("disposable vapes")
    assert vape.levels == ("national", "heading") and vape.message == "By whether disposable."
    assert vape.labelled_codes == [
        ("national", "8543400000", "8543.40.00.00"),
        ("heading", "2404", "24.04"),
    ]
    [generic] = index.match("phone accessories")
    assert generic.too_generic and generic.codes == ()


def test_nothing_matches_empty_or_unknown_text(index):
    assert index.match("") == [] and index.match("zeppelin") == [] and index.match(None) == []


def test_related_terms_share_the_last_word_and_have_codes(index):
    assert _terms(index.related("coffee mug")) == ["glass mug", "steel mug"]
    assert _terms(index.related("enamel mugs", limit=1)) == ["glass mug"]
    assert index.related("") == []


def test_levels_and_display_follow_the_number_of_digits():
    assert [lexicon.level_of(c) for c in ("85", "8507", "850760", "85076000", "8507600010")] == [
        "chapter",
        "heading",
        "subheading",
        "national",
        "national",
    ]
    assert [lexicon.display(c) for c in ("85", "8507", "850760", "8507600010")] == [
        "85",
        "85.07",
        "8507.60",
        "8507.60.00.10",
    ]


def test_a_term_at_the_end_of_the_text_has_its_own_span(index):
    [glass] = index.match("a glass")
    assert (glass.term, glass.start, glass.end) == ("glass", 1, 2)


def test_entries_lists_each_term_kept_once(index):
    terms = [e.term for e in index.entries()]
    assert len(terms) == len(index) == 14  # "boys t shirt" folds like "boys' t shirt", same codes
    assert "boys' t shirt" in terms and "boys t shirt" not in terms
    assert {"power bank", "coffee mug", "accessories"} <= set(terms)
