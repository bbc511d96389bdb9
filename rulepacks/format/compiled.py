"""The compiled, immutable form of a rule pack that the evaluator runs (no ORM, no TOML)."""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from types import MappingProxyType

from catalog import facts as catalog_facts

RISK_BANDS = ("low", "medium", "high")
OUTCOMES = ("classified", "needs_review", "blocked")
RESTRICTION_ACTIONS = ("review", "block")
# Share of auto-finalized decisions queued for a broker to confirm or correct.
DEFAULT_SPOT_CHECK = 0.05
# Which partner-government-agency flags on a code send a product to review: only flags saying
# data is required ("required"), or also those saying it may be ("any").
AGENCY_REVIEW_POLICIES = ("required", "any")

# Product facts as the catalog stores them (absent optional facts are None).
REQUIRED_FACTS = catalog_facts.REQUIRED
OPTIONAL_FACTS = catalog_facts.OPTIONAL
FACT_KEYS = catalog_facts.FACT_KEYS

# Condition keys over text facts, and the product facts each one reads.
TEXT_FACTS: dict[str, tuple[str, ...]] = {
    "text": ("name", "description"),
    "name": ("name",),
    "description": ("description",),
    "materials": ("materials",),
    "intended_use": ("intended_use",),
    "product_type": ("product_type",),
}
DEFAULT_MIN_CONFIDENCE = 0.82
DEFAULT_TIE_MARGIN = 0.05


@dataclass(frozen=True)
class Term:
    """One whole-word phrase as written (``text``) and as matched (``words``)."""

    text: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class TextCondition:
    """``any`` / ``all`` / ``none`` of terms over one text condition key (see ``TEXT_FACTS``)."""

    key: str
    any: tuple[Term, ...] = ()
    all: tuple[Term, ...] = ()
    none: tuple[Term, ...] = ()

    @property
    def terms(self) -> tuple[Term, ...]:
        return self.any + self.all + self.none

    # Word-tuple sets, so matching is a few set operations instead of a loop per term.
    @cached_property
    def any_words(self) -> frozenset[tuple[str, ...]]:
        return frozenset(t.words for t in self.any)

    @cached_property
    def all_words(self) -> frozenset[tuple[str, ...]]:
        return frozenset(t.words for t in self.all)

    @cached_property
    def none_words(self) -> frozenset[tuple[str, ...]]:
        return frozenset(t.words for t in self.none)


@dataclass(frozen=True)
class Conditions:
    """Everything that must hold for a rule, restriction or denied good to apply (AND)."""

    text: tuple[TextCondition, ...] = ()
    origin_any: frozenset[str] = frozenset()
    origin_none: frozenset[str] = frozenset()
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    value_currency: str | None = None
    codes: tuple[str, ...] = ()  # code prefixes (restrictions only)

    @property
    def term_count(self) -> int:
        return sum(len(c.terms) for c in self.text)

    @property
    def is_empty(self) -> bool:
        """True when nothing positive is required, so the entry would match every product."""
        positive_text = any(c.any or c.all for c in self.text)
        has_value = self.value_min is not None or self.value_max is not None
        return not (positive_text or self.origin_any or has_value or self.codes)


@dataclass(frozen=True)
class Rule:
    """Facts → code, with the confidence, risk band and rationale a broker would sign."""

    id: str
    code: str
    confidence: float
    risk: str
    rationale: str
    when: Conditions
    line: int | None = None


@dataclass(frozen=True)
class Restriction:
    """Goods that must go to review (or be blocked) whatever their code, and why."""

    id: str
    action: str
    risk: str
    reason: str
    when: Conditions
    line: int | None = None


@dataclass(frozen=True)
class DeniedGood:
    """Goods the tenant must not import: a match blocks the product with high risk."""

    id: str
    reason: str
    when: Conditions
    line: int | None = None


@dataclass(frozen=True)
class GoldenCase:
    """Product facts with the code and outcome the pack must reproduce."""

    id: str
    facts: MappingProxyType
    expect_code: str
    expect_outcome: str
    line: int | None = None


@dataclass(frozen=True)
class Thresholds:
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    tie_margin: float = DEFAULT_TIE_MARGIN


# Policy drift monitoring ([monitoring]): when the insights schedule raises an alert.
DEFAULT_RULE_OVERRIDE_RATE = 0.25
DEFAULT_MIN_DECISIONS = 30
DEFAULT_REVIEW_RATE_MARGIN = 0.10


@dataclass(frozen=True)
class Monitoring:
    """Drift thresholds: a rule overridden this often over its last ``min_decisions`` final
    decisions; a live review rate this far above the backtest's; a precision of automation below
    ``automation_precision_target`` (None: the pack's minimum confidence, which promises exactly
    that share of right codes among those filed without a person)."""

    rule_override_rate: float = DEFAULT_RULE_OVERRIDE_RATE
    min_decisions: int = DEFAULT_MIN_DECISIONS
    review_rate_margin: float = DEFAULT_REVIEW_RATE_MARGIN
    automation_precision_target: float | None = None


@dataclass(frozen=True)
class CompiledPack:
    """A parsed pack: what the evaluator, the gates and the backtest read."""

    name: str
    jurisdiction: str
    version: str
    thresholds: Thresholds
    rules: tuple[Rule, ...]
    restrictions: tuple[Restriction, ...]
    denied: tuple[DeniedGood, ...]
    golden: tuple[GoldenCase, ...]
    denied_declared: bool = True
    high_risk_origins: frozenset[str] = frozenset()
    agency_review: str = "required"
    # Decision lifecycle ([routing]): whether `classified` decisions become final on the pack's
    # authority, the share of those a broker spot-checks, and whether releasing blocked goods
    # needs a second compliance lead.
    auto_finalize: bool = False
    spot_check: float = DEFAULT_SPOT_CHECK
    four_eyes: bool = False
    monitoring: Monitoring = field(default_factory=Monitoring)
    # The tenant's everyday terms and the code prefixes they mean: (term, (prefix, …)).
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    description: str = ""
    sha256: str = ""
    source_bytes: int = 0
    line_of: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @property
    def precision_target(self) -> float:
        """The precision of automation below which the pack's automation is drifting."""
        target = self.monitoring.automation_precision_target
        return self.thresholds.min_confidence if target is None else target

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)
