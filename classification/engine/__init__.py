"""The classification engine: pure Python over plain data (no ORM), the same in a worker, a
backtest and an evaluation.

``classify(facts, pack=, reference=, precedents=, facts_sha256=)`` returns an ``EngineDecision``
(candidates with evidence, rejected codes with reasons, routed outcome with every reason, risk
band, duty comparison). ``ENGINE_VERSION`` changes whenever scoring changes, so a decision says
which engine made it.
"""

from classification.engine.core import ENGINE_VERSION, REJECTION_REASONS, classify
from classification.engine.precedents import Precedent, PrecedentIndex
from classification.engine.types import (
    Candidate,
    EngineDecision,
    Evidence,
    Reason,
    Rejected,
)

__all__ = [
    "ENGINE_VERSION",
    "REJECTION_REASONS",
    "Candidate",
    "EngineDecision",
    "Evidence",
    "Precedent",
    "PrecedentIndex",
    "Reason",
    "Rejected",
    "classify",
]
