"""A rule pack's synonyms and the shared lexicon of everyday terms, matched as one."""

from functools import lru_cache

from classification.engine import memo
from tariffs import lexicon as tariff_lexicon


class _Lexicons:
    """The pack's synonyms first, then the shared lexicon: one ``match`` over both."""

    def __init__(self, *indexes, key=None):
        self.indexes = [i for i in indexes if i is not None]
        self.key = key  # what identifies the terms (``engine/memo.py``), None if unknown

    def match(self, text: str) -> list:
        return [hit for index in self.indexes for hit in index.match(text)]


PACK_SYNONYM = "Synonym in the tenant's rule pack."


@lru_cache(maxsize=64)
def _pack_lexicon(synonyms: tuple) -> tariff_lexicon.LexiconIndex:
    return tariff_lexicon.LexiconIndex(
        tariff_lexicon.Entry(term, codes, PACK_SYNONYM) for term, codes in synonyms
    )


def with_pack_synonyms(lexicon, pack):
    """Return a matcher over the pack's ``[synonyms]`` and the shared lexicon (either may lack)."""
    synonyms = getattr(pack, "synonyms", ()) if pack is not None else ()
    if not synonyms:
        return lexicon
    shared = memo.lexicon_key(lexicon)
    key = ("synonyms", tuple(synonyms), shared) if shared is not None else None
    return _Lexicons(_pack_lexicon(tuple(synonyms)), lexicon, key=key)
