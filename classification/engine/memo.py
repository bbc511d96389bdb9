"""Bounded caches of pure search results, keyed by everything the result depends on.

A worker searches the same words many times: products of one kind share their word query (digits
and model numbers are not searched) and the parts their descriptions name. The word ranking and
the parts' heading are functions of their text, the stored schedule (immutable once loaded, so
its id says what it holds) and the lexicon (likewise); they are kept per worker process, at most
``SIZE`` of each, and forgotten all at once when full (as ``search._heading_text`` does).

A reference or lexicon without a stored id (a test's fake, the pack's synonyms without their
terms) gives no key and is never cached: its ``id()`` could be reused by a different object.
"""

SIZE = 20_000
_MISSING = object()


class Memo:
    """A map of computed results, emptied when it holds ``size``."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self._found: dict = {}

    def get(self, key, compute):
        """Return the result kept under ``key``, else ``compute()`` (kept unless ``key`` is
        None)."""
        if key is None:
            return compute()
        found = self._found.get(key, _MISSING)
        if found is _MISSING:
            found = compute()
            if len(self._found) >= self.size:
                self._found.clear()
            self._found[key] = found
        return found

    def clear(self) -> None:
        self._found.clear()

    def __len__(self) -> int:
        return len(self._found)


def stored_schedule(reference) -> tuple | None:
    """``(jurisdiction, revision, schedule id)`` of a stored schedule; None for any other."""
    schedule = getattr(reference, "schedule_id", None)
    if schedule is None:
        return None
    return (getattr(reference, "jurisdiction", ""), getattr(reference, "revision", ""), schedule)


def lexicon_key(lexicon) -> tuple | None:
    """What identifies a lexicon's terms: its stored id, or the ``key`` a combination of
    lexicons carries (``lexicons.with_pack_synonyms``); ``()`` for none, None when unknown."""
    if lexicon is None:
        return ()
    key = getattr(lexicon, "key", None)
    if key is not None:
        return key
    lexicon_id = getattr(lexicon, "lexicon_id", None)
    return ("lexicon", lexicon_id) if lexicon_id is not None else None
