"""Reads on rule packs: lists, the active pack, compiled packs, impact preview and diffs."""

import difflib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings

from rulepacks import backtest, deps, routing
from rulepacks.backtest import Case
from rulepacks.evaluate import run_pack
from rulepacks.format import CompiledPack, parse
from rulepacks.models import RulePack, RulePackStatus

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
    not the reverse), so any app may contribute cases through ``AppConfig.decision_cases(tenant,
    jurisdiction)``: source ``"decision"``, facts of the decided product version, expected code =
    the broker's final code.
    """
    cases: list[Case] = []
    for config in apps.get_app_configs():
        provider = getattr(config, "decision_cases", None)
        if provider is not None:
            cases.extend(provider(tenant, jurisdiction))
    return cases


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


# What the engine does today for a destination without an active pack (DESIGN §5).
NO_PACK = {
    "code": "",
    "outcome": routing.BLOCKED,
    "risk": routing.HIGH,
    "reasons": [routing.NO_ACTIVE_RULE_PACK],
}


def _summary(outcome) -> dict:
    r = outcome.routing
    return {"code": r.code, "outcome": r.outcome, "risk": r.risk, "reasons": list(r.reasons)}


def impact_preview(pack: RulePack) -> Impact:
    """Run ``pack`` and the active pack side by side over the tenant's products.

    Returns the products whose code, outcome or risk would change (the pack-only path; without
    an active pack, products are blocked today). Capped at ``IMPACT_MAX_PRODUCTS``.
    """
    candidate = compiled(pack)
    current = active_pack(pack.tenant, pack.jurisdiction)
    current_compiled = compiled(current) if current else None
    reference = deps.reference(pack.jurisdiction)
    products = deps.products(pack.tenant, pack.jurisdiction, IMPACT_MAX_PRODUCTS + 1)
    truncated = len(products) > IMPACT_MAX_PRODUCTS
    products = products[:IMPACT_MAX_PRODUCTS]
    rows = []
    counts = {"code": 0, "outcome": 0, "risk": 0}
    for product_id, sku, name, facts in products:
        after = _summary(run_pack(candidate, facts, reference))
        before = (
            _summary(run_pack(current_compiled, facts, reference)) if current_compiled else None
        )
        changes = [k for k in counts if before is None or before[k] != after[k]]
        for key in changes:
            counts[key] += 1
        if changes:
            rows.append(ImpactRow(product_id, sku, name, before, after, changes))
    return Impact(products=len(products), rows=rows, truncated=truncated, counts=counts)


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
