"""The engine's output values: frozen dataclasses a worker stores as JSON on a Decision."""

from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal
from enum import Enum
from functools import cache

# Evidence kinds that come from retrieval (word search, meaning, everyday terms, residual and
# parts lines, structured readings): one fused share per code (engine/search.py), corroboration
# only.
RETRIEVAL_KINDS = ("search", "semantic", "lexicon", "residual", "reading")


@cache
def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def jsonable(value):
    """Return ``value`` as JSON-safe data: Decimals as strings, tuples as lists, keys as text."""
    # Exact types first: a worker converts a few hundred nodes per decision.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is tuple or kind is list:
        return [jsonable(v) for v in value]
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if kind is float:
        return round(value, 6)
    names = _DATACLASS_FIELDS.get(kind)
    if names is not None:
        return {name: jsonable(getattr(value, name)) for name in names}
    return _jsonable(value)


_DATACLASS_FIELDS: dict[type, tuple[str, ...]] = {}


def _jsonable(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return jsonable(value.value)
    if is_dataclass(value) and not isinstance(value, type):
        _DATACLASS_FIELDS[type(value)] = names = _field_names(type(value))
        return {name: jsonable(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


@dataclass(frozen=True)
class Evidence:
    """Why a source proposed a code: a rule id, a precedent decision id, or ``search``."""

    kind: str  # "rule" | "precedent" | "search" | "semantic" | "lexicon" | "residual" | "reading"
    ref: str
    weight: float
    detail: dict


@dataclass(frozen=True)
class Candidate:
    code: str
    score: float
    description: str
    rationale: str
    sources: tuple[Evidence, ...]
    duty: dict | None = None
    declarable: bool = True

    @property
    def source_kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.kind for e in self.sources))


@dataclass(frozen=True)
class Rejected:
    code: str
    score: float
    reason: str  # one of REJECTION_REASONS
    detail: str


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    detail: dict


@dataclass(frozen=True)
class EngineDecision:
    selected_code: str | None
    confidence: float
    outcome: str
    risk_band: str
    reasons: tuple[Reason, ...]
    candidates: tuple[Candidate, ...]  # best first; the selected code first when there is one
    rejected: tuple[Rejected, ...]
    duty: dict  # {"selected", "alternatives", "exposure"}
    flags: dict
    pack: dict | None  # {"id", "version", "sha256"}
    schedule_revision: str | None
    engine_version: str
    explanation: str
    facts_sha256: str = ""
    # How candidates were found: {"semantic": "on" or why not, "lexicon": [terms found]}.
    retrieval: dict = field(default_factory=dict)
    # The calibration that turned the evidence into ``confidence``: its version and features.
    calibration: dict = field(default_factory=dict)

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def to_json(self) -> dict:
        """Return the decision as JSON-safe data (Decimals as strings), stable for equal input."""
        return jsonable(self)
