"""A word index over a pack's rules, so a product is matched against the few rules it can meet.

An entry whose text conditions require words (``any`` of some phrases, or ``all`` of them) can
only match a product whose facts contain, for each such condition, the first word of one of its
phrases. The index maps those trigger words to entries; ``candidate_pack`` returns the pack with
only the rules, restrictions and denied goods a product could match (plus every entry without a
text trigger), and the rule-pack evaluator does the matching itself, so matching logic lives in
one place (``rulepacks.evaluate``) and results are identical.
"""

import threading
from collections import defaultdict

from rulepacks.format.compiled import TEXT_FACTS
from rulepacks.format.normalize import tokens

_cache: dict[int, tuple[object, "RuleIndex"]] = {}
_lock = threading.Lock()
_CACHE_SIZE = 16


def _triggers(entry) -> list[tuple[str, frozenset[str]]]:
    """Per text condition: its key and the words one of which the facts must contain."""
    out = []
    for cond in entry.when.text:
        if cond.all:
            out.append((cond.key, frozenset({cond.all[0].words[0]})))
        elif cond.any:
            out.append((cond.key, frozenset(t.words[0] for t in cond.any)))
    return out


class Present:
    """The folded words of a product's facts per condition key, computed once per key."""

    __slots__ = ("_facts", "_words")

    def __init__(self, facts):
        self._facts = facts
        self._words: dict[str, set[str]] = {}

    def words(self, key: str) -> set[str]:
        found = self._words.get(key)
        if found is None:
            found = self._words[key] = set()
            for fact in TEXT_FACTS[key]:
                value = self._facts.get(fact)
                for text in value if isinstance(value, list | tuple) else (value,):
                    if text:
                        found.update(tokens(str(text)))
        return found


class EntryIndex:
    """Entries (rules, restrictions or denied goods) grouped by the condition keys they need,
    with per-key word → entry-set postings."""

    def __init__(self, entries):
        self.entries = entries
        always: list[int] = []
        groups: dict[tuple[str, ...], set[int]] = defaultdict(set)
        postings: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for position, entry in enumerate(entries):
            triggers = _triggers(entry)
            if not triggers:
                always.append(position)
                continue
            # Two conditions on one key (rare) are each required; one posting set serves both.
            groups[tuple(sorted({key for key, _ in triggers}))].add(position)
            for key, words in triggers:
                for word in words:
                    postings[key][word].add(position)
        self.always = frozenset(always)
        self.groups = {keys: frozenset(rules) for keys, rules in groups.items()}
        self.postings = {k: {w: frozenset(r) for w, r in v.items()} for k, v in postings.items()}

    def positions(self, present: "Present") -> list[int]:
        """Entries each of whose text conditions has one of its trigger words in the facts."""
        triggered: dict[str, set[int]] = {}
        for key, words in self.postings.items():
            hit: set[int] = set()
            for word in present.words(key):
                rules = words.get(word)
                if rules:
                    hit |= rules
            triggered[key] = hit
        found = set(self.always)
        for keys, rules in self.groups.items():
            candidates = set(rules)
            for key in keys:
                candidates &= triggered[key]
                if not candidates:
                    break
            found |= candidates
        return sorted(found)

    def select(self, present: "Present") -> tuple:
        return tuple(self.entries[i] for i in self.positions(present))


class RuleIndex:
    """Indexes of a pack's rules, restrictions and denied goods."""

    def __init__(self, pack):
        self.pack = pack
        self.rules = EntryIndex(pack.rules)
        self.restrictions = EntryIndex(pack.restrictions)
        self.denied = EntryIndex(pack.denied)

    def candidate_pack(self, facts) -> "NarrowedPack":
        """The pack with only the entries these facts could match, in pack order."""
        present = Present(facts)
        return NarrowedPack(
            self.pack,
            self.rules.select(present),
            self.restrictions.select(present),
            self.denied.select(present),
        )


class NarrowedPack:
    """A compiled pack seen through narrowed rules, restrictions and denied goods; every other
    attribute (thresholds, name, sha256…) is the pack's own. Cheaper than copying the pack."""

    __slots__ = ("_pack", "denied", "restrictions", "rules")

    def __init__(self, pack, rules: tuple, restrictions: tuple, denied: tuple):
        self._pack = pack
        self.rules = rules
        self.restrictions = restrictions
        self.denied = denied

    def __getattr__(self, name: str):
        return getattr(self._pack, name)


def rule_index(pack) -> RuleIndex:
    """Return the (cached) index of a compiled pack; packs are immutable, so it never goes stale."""
    with _lock:
        cached = _cache.get(id(pack))
        if cached is not None and cached[0] is pack:
            return cached[1]
    index = RuleIndex(pack)
    with _lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[id(pack)] = (pack, index)
    return index
