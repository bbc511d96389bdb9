"""Screws, bolts, nuts, washers and rivets of iron or steel read the way heading 7318 reads them.

Heading 7318 splits threaded articles (coach screws, wood screws, screw hooks, self-tapping
screws, other screws and bolts, nuts) from non-threaded ones (spring and lock washers, other
washers, rivets, cotters, other). Word search reads the line "Other screws and bolts, whether or
not with their nuts or washers" for a plain washer or nut; the kind is in the text.

``read`` returns the kind of fastener the opening phrase ends with, when the text names no
other metal or plastics (brass screws are 7415, nylon washers 3926); ``propose`` turns it into
the line it points at (``engine/descent.py``). Advice like every retrieval ranking.

Pure: reads the ``Reference`` and its semantic index; no ORM.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from classification.engine import descent

# Kind → (threaded, the product's words for it, the words of the line that names it).
KINDS = {
    "coach screws": (True, r"coach screws?|lag (?:screws?|bolts?)", "coach screws"),
    "wood screws": (True, r"wood screws?|deck(?:ing)? screws?", "wood screws"),
    "screw hooks and screw rings": (
        True,
        r"screw (?:hooks?|rings?|eyes?)|cup hooks?",
        "screw hooks",
    ),
    "self-tapping screws": (
        True,
        r"self[- ](?:tapping|drilling) screws?|tapping screws?|sheet metal screws?",
        "self-tapping",
    ),
    "nuts": (
        True,
        r"(?:hex|lock|wing|flange|cap|square|nylon[- ]insert|t-|jam|coupling|lug|weld) nuts?",
        "nuts",
    ),
    "screws and bolts": (
        True,
        r"screws?|bolts?|threaded rods?|set screws?|cap screws?|machine screws?|anchor bolts?",
        "screws and bolts",
    ),
    "spring and lock washers": (
        False,
        r"(?:spring|lock|split|wave|belleville|tooth) washers?",
        "spring washers",
    ),
    # Not the machines: pressure, dish, window or car washers.
    "washers": (
        False,
        r"(?<!pressure )(?<!dish )(?<!window )(?<!power )(?<!car )(?<!parts )washers?",
        "washers",
    ),
    "rivets": (False, r"rivets?", "rivets"),
    "cotters": (False, r"cotters?(?: pins?)?|split pins?|hitch pins?|r-clips?", "cotters"),
    "other non-threaded articles": (
        False,
        r"circlips?|retaining rings?|snap rings?|clevis pins?|dowel pins?|spring pins?",
        "",
    ),
}
_KIND_RE = [(k, re.compile(rf"(?<![\w-])(?:{p})$")) for k, (_, p, _) in KINDS.items()]
_OTHER_MATERIAL = re.compile(
    r"(?<![\w-])(?:brass|bronze|copper|alumini?um|titanium|zinc alloy|nylon|plastics?|pvc|"
    r"polyamide|rubber|neoprene|silicone|fibre|fiber|wood(?:en)?|ceramic|gold|silver|"
    r"cotton|polyester|fabric|silk|wool|leather)(?![\w-])"
)
_STAINLESS = re.compile(r"stainless")
_STEEL = re.compile(r"steel|iron|carbon")
_OPENING_END = descent.opening_end("without|measuring")


@dataclass(frozen=True)
class Reading:
    kind: str
    threaded: bool
    word: str  # the product's word for it ("hex nuts")
    stainless: bool | None  # None when the text names no steel


class Proposal(descent.Proposal):
    basis = "fastener"

    @property
    def label(self) -> str:
        r = self.reading
        how = "threaded" if r.threaded else "non-threaded"
        return f"{r.kind} ({r.word}), {how} → heading 7318"

    @property
    def stated(self) -> bool:
        return True  # the kind settles the subheading

    @property
    def detail(self) -> dict:
        return {"kind": self.reading.kind, "article": self.reading.word}

    def contradicts(self, code: str) -> bool:
        """Another product's code contradicts this text when it is another subheading of 7318."""
        return code[:4] == "7318" and code[:6] != self.code[:6]


def read(facts: Mapping[str, object]) -> Reading | None:
    """The fastener the opening phrase ends with, of iron or steel or of no metal named."""
    description = descent.fold(str(facts.get("description") or ""))
    named = [descent.fold(str(facts.get(k) or "")) for k in ("product_type", "name")]
    materials = " ".join(descent.fold(str(m)) for m in facts.get("materials") or ())
    for source in (*named, description):
        opening = _OPENING_END.split(source, maxsplit=1)[0].strip(" .'")
        for kind, pattern in _KIND_RE:
            found = pattern.search(opening)
            if found is None:
                continue
            text = f"{description or ' '.join(named)} {materials}"
            if _OTHER_MATERIAL.search(f"{opening[: found.start()]} {materials}"):
                return None  # brass screws, nylon washers: not heading 7318
            steel = _STEEL.search(text) or _STAINLESS.search(text)
            stainless = bool(_STAINLESS.search(text)) if steel else None
            return Reading(kind, KINDS[kind][0], found.group(0), stainless)
    return None


def propose(reading: Reading | None, reference, index=None, vector=None) -> list[Proposal]:
    """The line of 7318 the kind points at (one proposal, rank 1), or none."""
    if reading is None:
        return []
    code = descent.line_for(reference, "7318", lambda s: _fit(s, reading), index, vector)
    return [Proposal(code, 1, "7318", reading)] if code else []


@lru_cache(maxsize=2_000)
def _fit(segment: str, reading: Reading) -> int | None:
    s = descent.fold(segment).strip(" :")
    if s.startswith("threaded articles"):
        return 1 if reading.threaded else -1
    if s.startswith("non-threaded articles"):
        return -1 if reading.threaded else 1
    if s.startswith("of stainless steel"):
        return None if reading.stainless is None else (1 if reading.stainless else -1)
    # A line of the heading's own kinds ("Other screws and bolts, whether or not with their nuts
    # or washers", "Spring washers and other lock washers"): the kind its text starts with.
    head = s.split(",")[0].removeprefix("other ")
    named = [words for _, _, words in KINDS.values() if words and head.startswith(words)]
    if named:
        return 1 if KINDS[reading.kind][2] in named else -1
    return 0 if descent.is_other(s) else None
