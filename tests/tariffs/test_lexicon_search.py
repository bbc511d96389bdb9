"""The tariff search page shows the everyday terms of the query above the schedule's lines."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db
SEARCH = "/t/acme/tariffs/search/"


def _html(cast, query, **headers) -> str:
    response = cast.client("analyst").get(SEARCH, {"q": query}, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_search_shows_the_corrected_heading_of_an_everyday_term(cast, us_small, lexicon_small):
    html = _html(cast, "power banks")
    assert "Everyday term “power bank”" in html
    assert 'heading <a href="/t/acme/tariffs/browse/8507/?jurisdiction=US">85.07</a>' in html
    assert "Corrected at load: the source says 8407" in html
    assert "wireless power bank" not in html


def test_search_keeps_the_schedule_results_below_the_everyday_terms(cast, us_small, lexicon_small):
    html = _html(cast, "lithium ion battery")
    assert "8507.60.00.30" in html and "Everyday term “" not in html
    html = _html(cast, "aa battery")
    assert html.index("Everyday term “aa battery”") < html.index(" in US 2026 Rev 4")


def test_a_term_without_codes_shows_its_message_and_related_terms(cast, us_small, lexicon_small):
    html = _html(cast, "coffee mug")
    assert "Everyday term “coffee mug”</strong>:\n      no code given" in html
    assert "say the material" in html
    assert "More precise everyday terms" in html and "“glass mug”" in html
    assert "Everyday term “coffee”" not in html


def test_an_unknown_term_shows_related_terms_with_the_same_last_word(cast, us_small, lexicon_small):
    html = _html(cast, "ballpoint pen")
    assert "No everyday term matches “ballpoint pen”; related everyday terms" in html
    assert "“gel pen”" in html
    assert 'subheading <a href="/t/acme/tariffs/browse/960810/?jurisdiction=US">9608.10</a>' in html


def test_a_national_code_links_to_its_hs_subheading(cast, us_small, lexicon_small):
    html = _html(cast, "vape")
    assert "UK commodity code 8543.40.00.00" in html
    assert 'href="/t/acme/tariffs/browse/854340/?jurisdiction=US">HS 8543.40</a>' in html


def test_a_too_generic_term_says_so(cast, us_small, lexicon_small):
    assert "Too generic to classify" in _html(cast, "accessories")


def test_the_htmx_fragment_carries_the_everyday_terms(cast, us_small, lexicon_small):
    html = _html(cast, "power bank", HTTP_HX_REQUEST="true")
    assert "<html" not in html and "Everyday term “power bank”" in html


def test_without_a_lexicon_the_search_page_is_unchanged(cast, us_small):
    html = _html(cast, "power bank")
    assert "Everyday term" not in html and "No line matches “power bank”" in html


def test_everyday_terms_cost_no_query_once_the_lexicon_is_cached(cast, us_small, lexicon_small):
    client = cast.client("analyst")
    client.get(SEARCH, {"q": "vape"})  # warm the session, the reference and the lexicon

    def queries(query):
        with CaptureQueriesContext(connection) as captured:
            client.get(SEARCH, {"q": query})
        return len(captured.captured_queries)

    assert queries("power bank coffee mug vape") == queries("zeppelin")
