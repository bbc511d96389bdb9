"""Reads on rule packs: lists, the active pack, compiled packs, impact preview and diffs."""

import difflib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from django.conf import settings

from rulepacks import backtest, deps, routing
from rulepacks.backtest import Case, Outcome
from rulepacks.format import CompiledPack, parse
from rulepacks.models import RulePack, RulePackStatus
from workbench import extension_points

_COMPILED: "OrderedDict[str, CompiledPack]" = OrderedDict()
_COMPILED_MAX = 32
_COMPILED_LOCK = threading.Lock()
IMPACT_MAX_PRODUCTS = 5000


def packs_by_jurisdiction(tenant) -> dict[str, list[RulePack]]:
    """Return the tenant's packs per configured jurisdiction, newest first, without sources."""
    grouped: dict[str, list[RulePack]] = {j: [] for j in settings.JURISDICTIONS}
    packs = (
        RulePack.objects.for_tenant(tenant)
        .defer("source", "gate_report", "backtest_report", "backtest_cases")
        .select_related("created_by", "activated_by")
        .order_by("jurisdiction", "-created_at", "-id")
    )
    for pack in packs:
        grouped.setdefault(pack.jurisdiction, []).append(pack)
    return grouped


def active_pack(tenant, jurisdiction: str) -> RulePack | None:
    """Return the tenant's active pack for ``jurisdiction``, or None."""
    return RulePack.objects.for_tenant(tenant).active().filter(jurisdiction=jurisdiction).first()


def active_pack_keys() -> list[tuple[int, str]]:
    """Return ``(tenant id, jurisdiction)`` of every active pack, across tenants, in order.

    For schedules that act per tenant and jurisdiction (the daily calibration refit).
    """
    return list(
        RulePack.objects.active()
        .order_by("tenant_id", "jurisdiction")
        .values_list("tenant_id", "jurisdiction")
    )


def compiled(pack: RulePack) -> CompiledPack:
    """Return the compiled form of a pack that parses, cached by its SHA-256.

    Raises ``ValueError`` for a source with syntax or schema errors (never true of an active
    pack, which passed the gates).
    """
    with _COMPILED_LOCK:
        found = _COMPILED.get(pack.sha256)
    if found is None:
        result = parse(pack.source)
        if not result.ok:
            raise ValueError(f"rule pack {pack.pk} does not compile: {result.problems[0]}")
        found = result.pack
        with _COMPILED_LOCK:  # web and worker threads share the cache
            _COMPILED[pack.sha256] = found
            while len(_COMPILED) > _COMPILED_MAX:
                _COMPILED.popitem(last=False)
    return found


def active_compiled(tenant, jurisdiction: str) -> tuple[RulePack, CompiledPack] | None:
    """Return the active pack and its compiled form (for the classification engine), or None."""
    pack = active_pack(tenant, jurisdiction)
    return (pack, compiled(pack)) if pack else None


def finalized_decision_cases(tenant, jurisdiction: str) -> list[Case]:
    """Return the tenant's finalized broker decisions for ``jurisdiction`` as backtest cases.

    Rule packs cannot import the app that holds decisions (classification depends on rule packs,
    not the reverse), so any app may contribute cases through the ``decision_cases(tenant,
    jurisdiction)`` extension point: source ``"decision"``, facts of the decided product
    version, expected code = the broker's final code.
    """
    answers = extension_points.collect("decision_cases", tenant, jurisdiction)
    return [case for cases in answers for case in cases]


def source_diff(old: RulePack | None, new: RulePack) -> list[tuple[str, str]]:
    """Return a unified diff of two packs' sources as ``(kind, line)`` for display."""
    if old is None:
        return [("add", f"+{line}") for line in new.source.splitlines()]
    lines = difflib.unified_diff(
        old.source.splitlines(),
        new.source.splitlines(),
        fromfile=f"#{old.pk} {old.status} {old.short_hash}",
        tofile=f"#{new.pk} {new.status} {new.short_hash}",
        lineterm="",
    )
    kinds = {"+": "add", "-": "del", "@": "hunk"}
    return [(kinds.get(line[:1], "ctx"), line) for line in lines]


def classify_cases(
    tenant, jurisdiction: str, packs: Sequence[CompiledPack | None], cases: Sequence[Case]
) -> tuple[str, list[list[Outcome]]]:
    """Classify ``cases`` once per pack (``None``: no active pack) the way production does.

    Returns ``(mode, outcomes per pack)``. Rule packs cannot import the engine's app, so it
    answers through the ``classify_cases`` extension point: pack + the tenant's
    precedents (a decision case without its own decision) + nomenclature search, mode
    ``"production"``. Without that app, the pack alone (mode ``"pack_only"``).
    """
    hook = extension_points.first("classify_cases")
    if hook is not None:
        return "production", hook(
            tenant=tenant, jurisdiction=jurisdiction, packs=list(packs), cases=list(cases)
        )
    reference = deps.reference(jurisdiction)
    return "pack_only", [
        [backtest.pack_only(p, c.facts, reference) if p else NO_PACK for c in cases] for p in packs
    ]


@dataclass
class ImpactRow:
    product_id: int
    sku: str
    name: str
    before: dict
    after: dict
    changes: list[str] = field(default_factory=list)


@dataclass
class Impact:
    products: int
    rows: list[ImpactRow]
    truncated: bool = False
    counts: dict = field(default_factory=dict)
    now: dict = field(default_factory=dict)  # outcome mix today
    after: dict = field(default_factory=dict)  # outcome mix with the pack
    mode: str = "production"


# What the engine does today for a destination without an active pack (DESIGN §5).
NO_PACK = Outcome(
    code="",
    outcome=routing.BLOCKED,
    risk=routing.HIGH,
    reasons=(routing.NO_ACTIVE_RULE_PACK, routing.NO_CANDIDATE),
)


def _summary(outcome: Outcome) -> dict:
    return {
        "code": outcome.code,
        "outcome": outcome.outcome,
        "risk": outcome.risk,
        "reasons": list(outcome.reasons),
    }


def _mix(outcomes: Sequence[Outcome]) -> dict:
    return {o: sum(x.outcome == o for x in outcomes) for o in routing.OUTCOMES}


def impact_preview(pack: RulePack) -> Impact:
    """Classify the tenant's products with the active pack and with ``pack``, as production
    would if they were classified again now; return the outcome mixes and the products whose
    code, outcome or risk would change.

    Production's way (``classify_cases``): each product with its own facts and every finalized
    decision as a precedent, its own included, as a worker would. Without an active pack,
    products are blocked today. Capped at ``IMPACT_MAX_PRODUCTS``.
    """
    candidate = compiled(pack)
    current = active_pack(pack.tenant, pack.jurisdiction)
    current_compiled = compiled(current) if current else None
    products = deps.products(pack.tenant, pack.jurisdiction, IMPACT_MAX_PRODUCTS + 1)
    truncated = len(products) > IMPACT_MAX_PRODUCTS
    products = products[:IMPACT_MAX_PRODUCTS]
    cases = [
        Case(f"product-{pk}", "product", MappingProxyType(facts), "", facts_sha256=sha)
        for pk, _, _, facts, sha in products
    ]
    mode, (before, after) = classify_cases(
        pack.tenant, pack.jurisdiction, [current_compiled, candidate], cases
    )
    rows = []
    counts = {"code": 0, "outcome": 0, "risk": 0}
    for (product_id, sku, name, _, _), old, new in zip(products, before, after, strict=True):
        old, new = _summary(old), _summary(new)
        changes = [k for k in counts if old[k] != new[k]]
        for key in changes:
            counts[key] += 1
        if changes:
            rows.append(ImpactRow(product_id, sku, name, old, new, changes))
    return Impact(
        products=len(products),
        rows=rows,
        truncated=truncated,
        counts=counts,
        now=_mix(before),
        after=_mix(after),
        mode=mode,
    )


def products_to_reclassify(pack: RulePack) -> list[int]:
    """Return the products an active ``pack`` should classify again (none for another pack).

    Those of its jurisdiction whose latest decision was made without it (by the pack it
    replaced, an older one, or none) and still waits untouched in a queue; answered by the
    classifying app (``AppConfig.products_to_reclassify``).
    """
    hook = extension_points.first("products_to_reclassify")
    if pack.status != RulePackStatus.ACTIVE or hook is None:
        return []
    return hook(tenant=pack.tenant, jurisdiction=pack.jurisdiction, pack_id=pack.pk)


def activation_problems(pack: RulePack, current_revision: str | None = None) -> list[str]:
    """Return why ``pack`` cannot be activated now (empty when it can).

    ``current_revision`` defaults to the jurisdiction's current schedule revision.
    """
    if current_revision is None:
        current_revision = getattr(deps.reference(pack.jurisdiction), "revision", "") or ""
    if pack.status != RulePackStatus.VALIDATED:
        return [f"The pack is {pack.status}; only a validated pack can be activated."]
    problems = []
    if not pack.gates_passed:
        problems.append("The gates have not all passed for this source.")
    if not pack.backtest_report or pack.backtest_report.get("sha256") != pack.sha256:
        problems.append("Run a backtest first.")
    else:
        problems += [f"Backtest: {p}." for p in backtest.failed_checks(pack.backtest_report)]
    if pack.schedule_revision != current_revision:
        problems.append(
            f"The pack was validated against schedule {pack.schedule_revision or 'none'}; the "
            f"current one is {current_revision or 'none'}. Validate it again."
        )
    return problems
