"""Everyday terms in a text ("power banks", "vape") → the codes experts point them to. Pure.

``LexiconIndex(entries)`` is built once per loaded lexicon (``get_lexicon()`` caches it) and
matches a text in microseconds: the text is folded into words (lower case, apostrophes dropped,
simple plurals folded), and only the terms starting with each word are tried, longest first. A
term found inside a longer matched term ("coffee" in "coffee mug") is not reported separately:
the longer term is the experts' answer for those words.

The classification engine calls ``match`` per product; the search page shows its hits.
"""

import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from tariffs import codes as code_format

# Level of a code prefix by its number of digits (the national codes are 8 or 10 digits).
LEVELS = {2: "chapter", 4: "heading", 6: "subheading", 8: "national", 10: "national"}
_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = re.compile(r"['’‘`]")
# Terms with these words ("book and pens", "for aa batteries") do not end in their head noun, so
# ``related`` leaves them out.
_CONNECTIVES = frozenset({"and", "or", "for", "with", "of", "in"})


def level_of(code: str) -> str:
    """Return ``chapter``, ``heading``, ``subheading`` or ``national`` for a digit prefix."""
    return LEVELS.get(len(code), "")


def display(code: str) -> str:
    """Format a prefix the way the nomenclature prints it: 85, 85.07, 8507.60, 8507.60.00.30."""
    if len(code) == 4:
        return f"{code[:2]}.{code[2:]}"
    return code_format.fmt(code)


def fold(word: str) -> str:
    """Fold a lower-case word's plural to its singular, simply and the same way on both sides.

    Not a stemmer: it only has to map "banks" and "bank", "batteries" and "battery", "boxes" and
    "box" to one form. Short words and -ss/-us/-is endings ("glass", "bus", "axis") are kept.
    """
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


def words(text: str) -> tuple[str, ...]:
    """Return the folded words of a text: "Boys' T-Shirts" → ("boy", "t", "shirt")."""
    plain = _APOSTROPHES.sub("", (text or "").casefold())
    return tuple(fold(w) for w in _WORD.findall(plain))


def normalise(term: str) -> str:
    """Return a term as the matcher sees it (stored on ``LexiconEntry.normalised``)."""
    return " ".join(words(term))


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon term as plain data (what the selector reads from ``LexiconEntry``)."""

    term: str
    codes: tuple[str, ...]
    message: str = ""
    too_generic: bool = False
    correction: str = ""


@dataclass(frozen=True, slots=True)
class LexiconHit:
    """A lexicon term found in a text, with the code prefixes it points at (maybe none).

    ``codes`` are digit prefixes, most specific first; ``levels`` names each one's level
    (``chapter``, ``heading``, ``subheading``, ``national``). ``start``/``end`` are the word span
    of the match in the folded text.
    """

    term: str
    codes: tuple[str, ...]
    levels: tuple[str, ...]
    message: str
    too_generic: bool
    start: int
    end: int
    correction: str = ""

    @property
    def labelled_codes(self) -> list[tuple[str, str, str]]:
        """Return ``(level, code, formatted)`` per code, for display."""
        return [(lv, c, display(c)) for c, lv in zip(self.codes, self.levels, strict=True)]


class LexiconIndex:
    """Terms keyed by their folded words, with the lengths of the terms each first word starts.

    ``match`` looks up, at each word of the text, only the lengths of terms starting with that
    word (one dict lookup each, longest first), instead of comparing every such term: a word like
    "baby" starts dozens of terms but only a handful of lengths.
    """

    def __init__(self, entries, *, lexicon_id: int | None = None):
        self.lexicon_id = lexicon_id
        terms: dict[tuple[str, ...], list[tuple[Entry, tuple[str, ...]]]] = defaultdict(list)
        lengths: dict[str, set[int]] = defaultdict(set)
        by_last: dict[str, list[tuple[tuple[str, ...], Entry]]] = defaultdict(list)
        for entry in entries:
            key = words(entry.term)
            # Spelling variants that fold alike ("boys t shirt", "boys' t shirt") and give the
            # same codes are one answer: keep the first, so a text does not get it twice.
            if not key or any(e.codes == entry.codes for e, _ in terms.get(key, ())):
                continue
            terms[key].append((entry, tuple(level_of(c) for c in entry.codes)))
            lengths[key[0]].add(len(key))
            if not _CONNECTIVES.intersection(key):
                by_last[key[-1]].append((key, entry))
        self._terms = {key: tuple(found) for key, found in terms.items()}
        self._lengths = {word: tuple(sorted(ns, reverse=True)) for word, ns in lengths.items()}
        self._by_last = dict(by_last)
        self._size = sum(len(found) for found in self._terms.values())

    def __len__(self) -> int:
        return self._size

    def entries(self) -> list[Entry]:
        """Every term kept (one per spelling that folds alike with the same codes)."""
        return [entry for found in self._terms.values() for entry, _ in found]

    def __repr__(self) -> str:
        return f"<LexiconIndex {self._size} terms, lexicon {self.lexicon_id}>"

    def match(self, text: str) -> list[LexiconHit]:
        """Return the terms found in ``text``, longest first, then in text order.

        A term lying wholly inside a longer matched term is dropped; terms that only overlap
        are both reported. Terms that fold to the same words with different codes are all
        reported.
        """
        tokens = words(text)
        found = []
        terms, lengths = self._terms, self._lengths
        count = len(tokens)
        for start, word in enumerate(tokens):
            for n in lengths.get(word, ()):
                # Near the end a slice comes out short and could equal a shorter term.
                end = start + n
                if end <= count and (entries := terms.get(tokens[start:end])) is not None:
                    found.append((start, end, entries))
        if not found:
            return []
        found.sort(key=lambda f: (f[0] - f[1], f[0]))  # longest span first, then position
        kept: list[tuple[int, int, tuple]] = []
        for start, end, entries in found:
            # Sorted longest first, so only an already kept span can contain this one.
            if not any(s <= start and end <= e and e - s > end - start for s, e, _ in kept):
                kept.append((start, end, entries))
        return [
            _hit(entry, levels, start, end)
            for start, end, entries in kept
            for entry, levels in entries
        ]

    def related(self, text: str, *, limit: int = 8) -> list[LexiconHit]:
        """Return terms with codes that end in the text's last word ("ballpoint pen" → "gel pen").

        Weaker evidence than ``match``, for display where no term matched with codes: terms that
        share the head noun of the text, in file order, at most ``limit``.
        """
        tokens = words(text)
        if not tokens:
            return []
        out = []
        for key, entry in self._by_last.get(tokens[-1], ()):
            if entry.codes and key != tokens:
                out.append(_hit(entry, tuple(level_of(c) for c in entry.codes), 0, 0))
                if len(out) >= limit:
                    break
        return out


def _hit(entry: Entry, levels: tuple[str, ...], start: int, end: int) -> LexiconHit:
    return LexiconHit(
        term=entry.term,
        codes=entry.codes,
        levels=levels,
        message=entry.message,
        too_generic=entry.too_generic,
        start=start,
        end=end,
        correction=entry.correction,
    )


# --- cache per current lexicon --------------------------------------------------------------

_cache: dict[int, LexiconIndex] = {}
_current: list[tuple[float, int | None]] = []
_cache_lock = threading.Lock()
# How long a process trusts its idea of "the current lexicon" before asking the database again.
# A load in this process clears the cache at commit; another process sees it within this.
KEY_TTL_SECONDS = 10.0


def _current_id() -> int | None:
    from tariffs import selectors

    now = time.monotonic()
    with _cache_lock:
        cached = _current[0] if _current else None
    if cached is not None and now - cached[0] < KEY_TTL_SECONDS:
        return cached[1]
    lexicon_id = selectors.current_lexicon_id()
    with _cache_lock:
        _current[:] = [(now, lexicon_id)]
    return lexicon_id


def get_lexicon() -> LexiconIndex | None:
    """Return the index of the current (newest) lexicon, built once per process, or None.

    A load in this process is seen at once; one in another process within ``KEY_TTL_SECONDS``.
    """
    from tariffs import selectors

    lexicon_id = _current_id()
    if lexicon_id is None:
        return None
    with _cache_lock:
        cached = _cache.get(lexicon_id)
    if cached is not None:
        return cached
    built = LexiconIndex(selectors.lexicon_entries(lexicon_id), lexicon_id=lexicon_id)
    with _cache_lock:
        # One lexicon is current at a time; an older index is only kept until the next load.
        for old in [k for k in _cache if k != lexicon_id]:
            _cache.pop(old)
        return _cache.setdefault(lexicon_id, built)


def clear_cache() -> None:
    """Forget the index and the current-lexicon answer (called when a load commits)."""
    with _cache_lock:
        _cache.clear()
        _current.clear()
