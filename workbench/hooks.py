"""Hooks between apps that must not import each other.

The catalog announces that a product's facts changed; any app may react by defining
``on_product_changed(*, actor, product_id, tenant_id, changed_facts)`` on its ``AppConfig``
(classification re-classifies a product a broker asked facts for). An import that gave existing
products new versions calls ``on_catalog_imported(*, actor, tenant_id, batch_id)`` once instead
of one call per product (the versions name their batch). Hooks run after the catalog's
transaction commits, so they never see, or undo, a change that did not happen.

Rule packs ask the app that classifies (which depends on them) through ``provider``:
``classify_cases(*, tenant, jurisdiction, packs, cases)`` (backtest cases or products classified
as production does, once per pack), ``products_to_reclassify(*, tenant, jurisdiction, pack_id)``
and ``reclassify_products(*, actor, tenant, product_ids)`` (after an activation). Every app's
``decision_cases(tenant, jurisdiction)`` is collected by ``rulepacks.selectors``.
"""

import logging

from django.db import transaction

from workbench import extension_points

log = logging.getLogger(__name__)


def product_changed(*, actor, product_id: int, tenant_id: int, changed_facts) -> None:
    """After commit, call every installed app's ``on_product_changed`` with the changed facts."""
    _after_commit(
        "on_product_changed",
        f"product {product_id}",
        actor=actor,
        product_id=product_id,
        tenant_id=tenant_id,
        changed_facts=sorted(changed_facts),
    )


def catalog_imported(*, actor, tenant_id: int, batch_id: int) -> None:
    """After commit, call every installed app's ``on_catalog_imported`` for an import batch
    that wrote new versions of existing products."""
    _after_commit(
        "on_catalog_imported",
        f"import batch {batch_id}",
        actor=actor,
        tenant_id=tenant_id,
        batch_id=batch_id,
    )


def _after_commit(name: str, subject: str, **kwargs) -> None:
    def run() -> None:
        for config, hook in extension_points.implementers(name):
            try:
                hook(**kwargs)
            except Exception:  # the change is committed; one app's failure must not undo or hide it
                log.exception("%s of %s failed for %s", name, config.label, subject)

    transaction.on_commit(run)
