"""Bags and cases of heading 4202 read the way the heading reads them: kind, then outer surface.

Heading 4202 sorts containers by kind — trunks, suitcases and briefcases (4202.1), handbags
(4202.2), articles carried in the pocket or handbag such as wallets (4202.3), everything else:
backpacks, travel, sports, tool and toiletry bags, insulated food bags, instrument and camera
cases (4202.9) — and then by the material of the outer surface: leather or composition leather,
sheeting of plastics or textile materials, other. Words and meaning pull a "laptop backpack" to
laptops and a "PU leather wallet" to leather; the kind and the outer surface are in the text.

``read`` returns the kind and outer surface of a bag or case the text names as its article
(the word that ends the opening phrase); ``propose`` turns it into the line it points at
(``engine/descent.py``). Advice like every retrieval ranking.

Pure: reads the ``Reference`` and its semantic index; no ORM.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from classification.engine import descent

# Kind → (the product's words for it, the words of the lines that name it).
KINDS = {
    "trunks, suitcases and briefcases": (
        r"suitcases?|luggage|carry[- ]ons?|trolley (?:case|bag)s?|trunks?|vanity cases?|"
        r"briefcases?|attache cases?|school satchels?|satchels?",
        ("trunks", "suitcases", "briefcases", "satchels"),
    ),
    "handbags": (
        r"handbags?|purses?|clutch(?:es| bags?)?|shoulder bags?|cross ?body bags?|tote(?: bag)?s?|"
        r"hobo bags?",
        ("handbags",),
    ),
    "articles carried in the pocket or handbag": (
        r"wallets?|billfolds?|coin purses?|card (?:holder|case)s?|key (?:case|holder)s?|"
        r"passport (?:holder|cover|wallet)s?|checkbook covers?|cigarette cases?|"
        r"(?:eye)?glass(?:es)? cases?|spectacle cases?",
        ("pocket",),
    ),
    "travel, sports and similar bags": (
        r"back ?packs?|ruck ?sacks?|knapsacks?|day ?packs?|duff(?:el|le) bags?|gym bags?|"
        r"sports? bags?|travel bags?|weekender bags?|messenger bags?|laptop bags?|"
        r"diaper bags?|beach bags?|fanny packs?|belt bags?|waist packs?|tool bags?|"
        r"toiletry bags?|cosmetic bags?|make ?up bags?|wash bags?|shopping bags?",
        ("travel", "sports"),
    ),
    "insulated food or beverage bags": (
        r"(?:insulated |thermal )?(?:lunch|cooler|picnic) bags?|insulated bags?|cooler bags?",
        ("insulated",),
    ),
    "musical instrument cases": (r"(?:guitar|violin|instrument) cases?", ("musical",)),
    "golf bags": (r"golf bags?", ("golf",)),
    "other cases": (
        r"(?:carrying|storage|pencil|cosmetic|make ?up|camera|laptop|jewel(?:le)?ry|gun|rifle|"
        r"binocular|tool|travel|hard|soft) cases?|pencil pouch(?:es)?|laptop sleeves?|"
        r"jewel(?:le)?ry (?:boxes|box|rolls?)",
        ("jewelry", "cases"),
    ),
}
_KIND_RE = [(k, re.compile(rf"(?<![\w-])(?:{p})(?![\w-])")) for k, (p, _) in KINDS.items()]
_ANY_KIND = re.compile(r"(?<![\w-])(?:" + "|".join(p for p, _ in KINDS.values()) + r")(?![\w-])")
_GROUP_WORDS = {w.rstrip("s") for _, words in KINDS.values() for w in words}
# Outer surface: the first material named. Imitation leather is sheeting of plastics.
_SURFACES = (
    (
        "plastics",
        rf"{descent.IMITATION_LEATHER}|(?:bonded|pvc) leather|polyurethane|\bpu\b|pvc|vinyl|"
        r"plastics?|polycarbonate|abs|eva|tpu",
    ),
    ("leather", r"leather|suede|nubuck|cowhide|calfskin|lambskin"),
    (
        "textile",
        r"polyester|nylon|canvas|cotton|jute|linen|denim|fabric|textile|oxford|felt|wool|"
        r"polypropylene woven|neoprene|microfiber",
    ),
    ("other", r"paperboard|cardboard|wood|wooden|aluminium|aluminum|metal|steel|straw|rattan"),
)
_SURFACE_RE = descent.vocabulary(_SURFACES)
_FIBRE = (
    ("man-made", re.compile(r"(?<![\w-])(?:polyester|nylon|polypropylene|microfiber)(?![\w-])")),
    ("cotton", re.compile(r"(?<![\w-])(?:cotton|canvas|denim)(?![\w-])")),
    ("vegetable", re.compile(r"(?<![\w-])(?:jute|linen|hemp|flax)(?![\w-])")),
)
_OPENING_END = descent.opening_end("without|measuring")


@dataclass(frozen=True)
class Reading:
    kind: str
    word: str  # the product's word for it ("laptop backpack")
    surface: str  # "leather", "plastics", "textile", "other", "" when the text names none
    fibre: str  # "man-made", "cotton", "vegetable", "" for a textile surface


class Proposal(descent.Proposal):
    basis = "bag"

    @property
    def label(self) -> str:
        r = self.reading
        surface = f"outer surface of {r.surface}" if r.surface else "outer surface not stated"
        if r.fibre:
            surface += f" ({r.fibre} fibres)"
        return f"{r.kind} ({r.word}), {surface} → heading 4202"

    @property
    def stated(self) -> bool:
        return bool(self.reading.surface)

    @property
    def detail(self) -> dict:
        r = self.reading
        return {"kind": r.kind, "article": r.word, "surface": r.surface}

    def contradicts(self, code: str) -> bool:
        """A code chosen for another product contradicts this text when it is another
        subheading of 4202 while the outer surface is stated (another kind or surface)."""
        if code[:4] != "4202":
            return False
        return code[:6] != self.code[:6] if self.reading.surface else code[:5] != self.code[:5]


def read(facts: Mapping[str, object]) -> Reading | None:
    """The kind and outer surface of a bag or case the text names as its article; None when
    the opening phrase does not end with one ("backpack vacuum cleaner" is a vacuum cleaner)."""
    description = descent.fold(str(facts.get("description") or ""))
    named = [descent.fold(str(facts.get(k) or "")) for k in ("product_type", "name")]
    materials = " ".join(descent.fold(str(m)) for m in facts.get("materials") or ())
    if not any(_ANY_KIND.search(source) for source in (*named, description)):
        return None  # most products: no bag or case named, one search each
    for source in (*named, description):
        opening = _OPENING_END.split(source, maxsplit=1)[0].strip(" .'")
        for kind, pattern in _KIND_RE:
            m = next((m for m in pattern.finditer(opening) if m.end() == len(opening)), None)
            if m is None:
                continue
            text = f"{description or ' '.join(named)} {materials}"
            surface = descent.first_named(text, _SURFACE_RE)
            fibre = descent.first_named(text, _FIBRE) if surface == "textile" else ""
            return Reading(kind, m.group(0), surface, fibre)
    return None


def propose(reading: Reading | None, reference, index=None, vector=None) -> list[Proposal]:
    """The line of 4202 the reading points at (one proposal, rank 1), or none."""
    if reading is None:
        return []
    code = descent.line_for(reference, "4202", lambda s: _fit(s, reading), index, vector)
    return [Proposal(code, 1, "4202", reading)] if code else []


@lru_cache(maxsize=20_000)
def _fit(segment: str, reading: Reading) -> int | None:
    s = descent.fold(segment)
    if "outer surface" in s or s.startswith("of material"):
        if s.startswith("of material") or "(other than" in s:
            said = reading.surface == "other"
            return (1 if said else -1) if reading.surface else None
        named = {
            name
            for name, words in (
                ("leather", ("leather",)),
                ("plastics", ("plastics",)),
                ("textile", ("textile",)),
            )
            if any(w in s for w in words)
        }
        if not reading.surface:
            return None
        return 1 if reading.surface in named else -1
    for fibre, words in (
        ("man-made", "man-made"),
        ("cotton", "cotton"),
        ("vegetable", "vegetable"),
    ):
        if s.startswith(f"of {words}"):
            return (1 if reading.fibre == fibre else -1) if reading.fibre else None
    ordered = [w.rstrip("s") for w in re.findall(r"[a-z]+", s)]
    words = set(ordered)
    own = {w.rstrip("s") for w in KINDS[reading.kind][1]}
    own |= {w.rstrip("s") for w in re.findall(r"[a-z]+", reading.word)}
    groups = [w for w in ordered if w in _GROUP_WORDS]
    if groups:  # the kind a line names first is the kind it is for
        return 1 if groups[0] in own else -1
    if descent.is_other(s):
        return 0
    return 1 if own & words - descent.STOP else 0
