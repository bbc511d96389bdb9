"""Extension points: what an app may define on its ``AppConfig`` for other apps to call.

An app lower in the order (DESIGN §3) must not import one above it, so it asks through a named
method on the apps' configs instead. Every such method is declared here once, as a stub whose
signature implementers must match, with when it runs, whether inside the caller's transaction,
and whether every implementer is called (``ALL``) or only the first in INSTALLED_APPS order
(``FIRST``). ``implementers``/``collect``/``first`` are the only way to find them;
``tests/workbench/test_extension_points.py`` checks that no config defines an undeclared hook
and that every implementer matches its stub.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import AppConfig, apps

ALL = "all"
FIRST = "first"


@dataclass(frozen=True)
class ExtensionPoint:
    name: str
    signature: inspect.Signature
    runs: str
    called: str  # ALL or FIRST
    doc: str


POINTS: dict[str, ExtensionPoint] = {}


def _declare(runs: str, called: str = ALL):
    def register(stub: Callable) -> Callable:
        POINTS[stub.__name__] = ExtensionPoint(
            stub.__name__, inspect.signature(stub), runs, called, inspect.getdoc(stub) or ""
        )
        return stub

    return register


@dataclass(frozen=True)
class CodeUse:
    """A tenant record that names a tariff code (a product's declared code, a decision's code).

    Returned by ``tariff_code_uses``; defined here because catalog and classification, which
    implement it, sit on either side of tariffs in the app order."""

    kind: str
    label: str
    code: str
    jurisdiction: str
    url: str = ""


# --- pages -----------------------------------------------------------------------------------


@_declare("in the request that renders the tenant dashboard; reads only")
def dashboard_tiles(tenant) -> "list":
    """The app's tiles (``workbench.dashboard.Tile``) on ``tenant``'s dashboard."""


@_declare("in the request that renders a detail page; reads only")
def object_panels(kind, request, obj) -> "list":
    """Panels (``workbench.panels.Panel``) for the ``kind`` page ("product", "decision",
    "rulepack", …) about ``obj``; ``[]`` for kinds the app does not add to."""


@_declare("by ``seed_demo``, after the demo users exist, under the demo actor")
def demo_steps() -> "list":
    """Idempotent callables ``step(tenants, out)`` that add the app's demo data."""


# --- catalog changes -------------------------------------------------------------------------


@_declare(
    "after the catalog's transaction commits, as one django-q2 task per implementer "
    "(``workbench.hooks.react``) in its own transaction; a failure is recorded as a "
    "``ReactionFailure`` and must be redone by the implementer's own sweep, which then marks "
    "it recovered (``workbench.hooks.failures_recovered``)"
)
def on_product_changed(*, actor, product_id, tenant_id, changed_facts) -> None:
    """A product got a new version of its facts (an analyst's edit, a supplier link, an upsert);
    ``changed_facts`` are the fact keys that differ from the previous version."""


@_declare("as ``on_product_changed``: after commit, one task per implementer, failures recorded")
def on_catalog_imported(*, actor, tenant_id, batch_id) -> None:
    """An import gave existing products new versions (the versions name ``batch_id``): one call
    per import, not per product."""


# --- audit -----------------------------------------------------------------------------------


@_declare("inside the caller's transaction: the event commits or rolls back with the change", FIRST)
def audit_record(*, actor, verb, target, data, tenant, actor_label) -> object:
    """Append one audit event (``audit.services.record``) for an app below audit: the
    workbench's tenancy writes. Required: ``workbench.services`` fails without an implementer."""


@_declare("while an export is built (a background task), inside its snapshot's transaction")
def audit_export_sections(tenant, scope) -> "dict":
    """``{section name: JSON-safe data}`` for an export of ``scope``; data may carry the audit
    targets it names under ``audit.snapshot.TARGETS_KEY``. Two apps may not use one name."""


@_declare("when a snapshot is rendered (certificate, XLSX); reads only, no database needed")
def audit_labels() -> "dict":
    """``{category: {code: label}}`` for the codes the app's export section holds."""


# --- tariffs ---------------------------------------------------------------------------------


@_declare("in the request for the tariffs' invalid-codes page; reads only")
def tariff_code_uses(tenant, jurisdiction) -> "list[CodeUse]":
    """The app's records of ``tenant`` that name a ``jurisdiction`` code, as ``CodeUse``."""


# --- rule packs ask the app that classifies --------------------------------------------------


@_declare("while a pack is backtested or its impact shown; reads only")
def decision_cases(tenant, jurisdiction) -> "list":
    """Final broker decisions as backtest cases (``rulepacks.backtest.Case``, source
    ``"decision"``, expected code the broker's)."""


@_declare("while a pack is backtested or its impact shown; reads only", FIRST)
def classify_cases(*, tenant, jurisdiction, packs, cases) -> "list":
    """Classify ``cases`` once per compiled pack (``None``: no active pack) as production does;
    one list of outcomes per pack. Without an implementer rule packs use the pack alone."""


@_declare("in the request that shows or starts a re-classification after activation", FIRST)
def products_to_reclassify(*, tenant, jurisdiction, pack_id) -> "list[int]":
    """Products whose latest decision predates active pack ``pack_id`` and waits untouched."""


@_declare("inside ``rulepacks.services.rulepack_reclassify``'s transaction", FIRST)
def reclassify_products(*, actor, tenant, product_ids) -> "list":
    """Queue ``product_ids`` for classification (requests of 100, audited); return them."""


# --- discovery -------------------------------------------------------------------------------


def point(name: str) -> ExtensionPoint:
    """Return the declaration of ``name``; ``LookupError`` for a name nobody declared."""
    try:
        return POINTS[name]
    except KeyError:
        raise LookupError(f"{name!r} is not a declared extension point") from None


def implementers(name: str) -> list[tuple[AppConfig, Callable]]:
    """Return ``(config, method)`` for every installed app defining ``name``, in app order."""
    point(name)
    found = []
    for config in apps.get_app_configs():
        method = getattr(config, name, None)
        if method is not None:
            found.append((config, method))
    return found


def collect(name: str, *args, **kwargs) -> list[Any]:
    """Call every implementer of ``name``; return their answers in app order."""
    if point(name).called != ALL:
        raise LookupError(f"{name!r} has one implementer: use first()")
    return [method(*args, **kwargs) for _config, method in implementers(name)]


def first(name: str) -> Callable | None:
    """Return the first installed app's implementer of ``name``, or None when none has it."""
    found = implementers(name)
    return found[0][1] if found else None
