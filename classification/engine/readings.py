"""The structured readings, each fused into search as a ranking of its own.

A reading takes from the product's own text the facts its part of the nomenclature turns on and
walks the heading's tree to the line they point at (``engine/descent.py``): garments of chapters
61 and 62, footwear of chapter 64, goods of plastics of chapter 39, bags and cases of heading
4202, fasteners of heading 7318, organic chemicals of chapter 29, measuring instruments of
chapter 90, taps and valves of heading 8481, table and kitchen ware by material. Only the first
that reads a product runs (a garment of polyester is a garment, not goods of plastics).

Weights chosen on the ATLAS validation half (flat from 1.5 or 2 to 3: at 2 a reading's first
line leads over any line that search alone ranks first), checked on its test half and the UK
everyday terms (docs/engine.md).
"""

from classification.engine import (
    articles,
    bags,
    chemicals,
    fasteners,
    footwear,
    garments,
    household,
    instruments,
    plastics,
    valves,
)

GARMENT_WEIGHT = PLASTICS_WEIGHT = BAG_WEIGHT = CHEMICAL_WEIGHT = 2.0
FOOTWEAR_WEIGHT = FASTENER_WEIGHT = 2.0
# Instruments: one validation ruling among those read, too few to choose on; 2.0 like the others,
# so the reading leads (docs/engine.md "Measuring instruments of chapter 90").
INSTRUMENT_WEIGHT = 2.0
VALVE_WEIGHT = 2.0
HOUSEHOLD_WEIGHT = 2.0
ARTICLE_WEIGHT = 2.0


def _readers() -> tuple:
    """The readers in the order they are tried, with their weights (read when called)."""
    return (
        (garments, GARMENT_WEIGHT),
        (footwear, FOOTWEAR_WEIGHT),
        (plastics, PLASTICS_WEIGHT),
        (bags, BAG_WEIGHT),
        (fasteners, FASTENER_WEIGHT),
        (chemicals, CHEMICAL_WEIGHT),
        (instruments, INSTRUMENT_WEIGHT),
        (valves, VALVE_WEIGHT),
        (household, HOUSEHOLD_WEIGHT),
        (articles, ARTICLE_WEIGHT),
    )


def added(reading_of, bases, *, rrf_k: int) -> dict[str, float]:
    """Per code, the relevance that ``fuse`` added to it from readings of ``bases``."""
    weight = {module.Proposal.basis: w for module, w in _readers()}
    out: dict[str, float] = {}
    for code, proposals in reading_of.items():
        for p in proposals:
            if p.basis in bases:
                out[code] = out.get(code, 0.0) + weight[p.basis] / (rrf_k + p.rank)
    return out


def bases() -> frozenset[str]:
    return frozenset(module.Proposal.basis for module, _ in _readers())


def fuse(facts, reference, index, vector, fused, reading_of, *, rrf_k: int, text) -> object:
    """Add the first reading's proposals to ``fused`` (``weight / (rrf_k + rank)``) and to
    ``reading_of``; return the product's vector, computed from ``text()`` if a reading needed
    it to choose among lines."""
    for module, weight in _readers():
        found = module.read(facts) if weight else None
        if not found:
            continue
        if vector is None and index is not None:
            vector = index.vector(text())
        proposals = module.propose(found, reference, index=index, vector=vector)
        settle = getattr(module, "settle", None)  # a reader that defers to what search found
        if settle is not None:
            proposals = settle(proposals, fused, reference)
        for proposal in proposals:
            reading_of[proposal.code].append(proposal)
            fused[proposal.code] += weight / (rrf_k + proposal.rank)
        break
    return vector
