"""A worker keeps the word ranking and a part's heading per stored schedule and lexicon: searched
once, the same answer after, and never kept for a reference or lexicon it cannot identify."""

from types import SimpleNamespace

import pytest

from classification.engine import classify, lexicons, memo
from classification.engine import search as search_module
from classification.engine.calibration import UNCALIBRATED
from tests.classification.engine import test_residual
from tests.classification.engine.fakes import facts

VACUUM_PART = facts("Filter cartridge for a shop vacuum", materials=[])


@pytest.fixture(autouse=True)
def empty_memos():
    search_module._rankings.clear()
    search_module._part_headings.clear()
    yield
    search_module._rankings.clear()
    search_module._part_headings.clear()


def reference(schedule_id):
    found = test_residual.small_reference()
    found.schedule_id = schedule_id  # as a stored schedule's reference has
    return found


def counting_searches(ref, monkeypatch) -> list[str]:
    asked = []
    search = ref.search

    def counted(text, *args, **kwargs):
        asked.append(text)
        return search(text, *args, **kwargs)

    monkeypatch.setattr(ref, "search", counted)
    return asked


def rank(ref, query="vacuum cleaners parts"):
    return search_module._word_ranking(query, frozenset({"vacuum"}), ref, "cleaners")


def test_a_stored_schedules_word_ranking_is_searched_once(monkeypatch):
    ref = reference(9001)
    asked = counting_searches(ref, monkeypatch)
    first = rank(ref)
    assert rank(ref) == first and first
    assert asked == ["vacuum cleaners parts"]


def test_another_schedule_or_query_is_searched_again(monkeypatch):
    ref, other = reference(9001), reference(9002)
    asked = counting_searches(ref, monkeypatch)
    asked_other = counting_searches(other, monkeypatch)
    rank(ref)
    rank(other)
    rank(ref, "ball point pens")
    assert asked == ["vacuum cleaners parts", "ball point pens"]
    assert asked_other == ["vacuum cleaners parts"]


def test_a_reference_without_a_stored_schedule_is_searched_every_time(monkeypatch):
    ref = reference(None)
    asked = counting_searches(ref, monkeypatch)
    assert rank(ref) == rank(ref)
    assert len(asked) == 2
    assert len(search_module._rankings) == 0


def decide(product, ref):
    return classify(
        product, pack=None, reference=ref, rank_without_pack=True, calibration=UNCALIBRATED
    )


def heading_searches(monkeypatch) -> list[dict]:
    """The searches of a part's words alone (``_fuse_proposals``' ``heading_for``)."""
    asked = []
    search = search_module.search_candidates

    def counted(product, *args, **kwargs):
        if kwargs.get("proposals") is False:
            asked.append(product)
        return search(product, *args, **kwargs)

    monkeypatch.setattr(search_module, "search_candidates", counted)
    return asked


def test_a_parts_heading_is_searched_once_per_schedule_and_lexicon(monkeypatch):
    ref = reference(9003)
    ref.semantic(wait=True)
    asked = heading_searches(monkeypatch)
    first = decide(VACUUM_PART, ref)
    again = decide({**VACUUM_PART, "sku": "SKU-2", "name": "Shop vacuum filter"}, ref)
    assert asked == [{"description": "a shop vacuum"}]
    parts = [e for c in again.candidates for e in c.sources if e.kind == "residual"]
    assert [e.detail["heading"] for e in parts] == ["8508"]
    assert first.to_json() == decide(VACUUM_PART, ref).to_json()


def test_a_parts_heading_found_without_meaning_is_searched_again_once_meaning_is_ready(
    monkeypatch,
):
    ref = reference(9005)
    asked = heading_searches(monkeypatch)
    ready = search_module._semantic
    monkeypatch.setattr(search_module, "_semantic", lambda r: (None, "being built"))
    decide(VACUUM_PART, ref)  # a worker that started before the index was ready
    monkeypatch.setattr(search_module, "_semantic", ready)
    ref.semantic(wait=True)
    decide(VACUUM_PART, ref)
    decide(VACUUM_PART, ref)
    assert asked == [{"description": "a shop vacuum"}] * 2


def test_kept_answers_are_the_answers_searched(monkeypatch):
    stored, unstored = reference(9004), reference(None)
    for ref in (stored, unstored):
        ref.semantic(wait=True)
    decide(VACUUM_PART, stored)  # fills the memos
    kept, searched = decide(VACUUM_PART, stored), decide(VACUUM_PART, unstored)
    assert len(search_module._rankings) and len(search_module._part_headings)
    assert kept.candidates == searched.candidates


def test_the_pack_synonyms_and_the_shared_lexicon_identify_the_terms():
    shared = SimpleNamespace(lexicon_id=7, match=lambda text: [])
    pack = SimpleNamespace(synonyms=[("hoover", ("8508",))])
    assert memo.lexicon_key(shared) == ("lexicon", 7)
    assert memo.lexicon_key(None) == ()
    both = lexicons.with_pack_synonyms(shared, pack)
    assert memo.lexicon_key(both) == ("synonyms", (("hoover", ("8508",)),), ("lexicon", 7))
    unknown = SimpleNamespace(lexicon_id=None, match=lambda text: [])
    assert memo.lexicon_key(lexicons.with_pack_synonyms(unknown, pack)) is None


def test_a_full_memo_forgets_everything_and_starts_again():
    kept = memo.Memo(size=2)
    assert kept.get("a", lambda: 1) == 1 and kept.get("b", lambda: 2) == 2
    assert kept.get("a", lambda: "not asked") == 1
    assert kept.get("c", lambda: 3) == 3
    assert len(kept) == 1
    assert kept.get(None, lambda: 4) == 4 and len(kept) == 1
