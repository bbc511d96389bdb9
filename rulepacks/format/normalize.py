"""Text normalisation and whole-word / phrase matching.

Case, accents and punctuation are folded and simple English plurals reduced to the singular, so
"Batteries" matches the term "battery", "Crème" matches "creme", "li-ion" matches "li ion", and
"cotton" never matches "cottonwood". Terms are phrases of whole words, never regular expressions.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_NON_WORD = re.compile(r"[^0-9a-z]+")
_IRREGULAR = {
    "knives": "knife",
    "wives": "wife",
    "leaves": "leaf",
    "shelves": "shelf",
    "halves": "half",
    "wolves": "wolf",
    "loaves": "loaf",
    "scarves": "scarf",
    "women": "woman",
    "men": "man",
    "children": "child",
    "feet": "foot",
    "teeth": "tooth",
    "mice": "mouse",
    "geese": "goose",
}
# Words ending in "s" that are not plurals; folding them would corrupt the word.
_KEEP_S = ("ss", "us", "is", "ous")
# Longest phrase a pack term may be, in words; also bounds the n-grams built per text.
MAX_PHRASE_WORDS = 6


def fold_word(word: str) -> str:
    """Return the singular of a simple English plural (``batteries`` → ``battery``)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_KEEP_S):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    return word[:-1]


@lru_cache(maxsize=65536)
def tokens(text: str) -> tuple[str, ...]:
    """Return the folded words of ``text``: lower case, no accents or punctuation, singular."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    ascii_text = ascii_text.replace("ß", "ss")
    return tuple(fold_word(w) for w in _NON_WORD.split(ascii_text) if w)


def normalise(text: str) -> str:
    """Return ``text`` as folded words joined by single spaces."""
    return " ".join(tokens(text))


class TextIndex:
    """The phrases (n-grams up to ``MAX_PHRASE_WORDS``) present in one or more texts.

    Each text is indexed separately, so a phrase never spans two materials or the name and the
    description.
    """

    __slots__ = ("grams",)

    def __init__(self, texts: Iterable[str]):
        grams: set[tuple[str, ...]] = set()
        for text in texts:
            words = tokens(text)
            for size in range(1, min(MAX_PHRASE_WORDS, len(words)) + 1):
                for start in range(len(words) - size + 1):
                    grams.add(words[start : start + size])
        self.grams = frozenset(grams)

    def __contains__(self, phrase: tuple[str, ...]) -> bool:
        return phrase in self.grams

    def __bool__(self) -> bool:
        return bool(self.grams)
