"""Hooks between apps that must not import each other.

The catalog announces that a product's facts changed; any app may react by defining
``on_product_changed(*, actor, product_id, tenant_id, changed_facts)`` on its ``AppConfig``
(classification re-classifies a product a broker asked facts for). Hooks run after the
catalog's transaction commits, so they never see, or undo, a change that did not happen.
"""

import logging

from django.apps import apps
from django.db import transaction

log = logging.getLogger(__name__)


def product_changed(*, actor, product_id: int, tenant_id: int, changed_facts) -> None:
    """After commit, call every installed app's ``on_product_changed`` with the changed facts."""
    changed = sorted(changed_facts)

    def run() -> None:
        for config in apps.get_app_configs():
            hook = getattr(config, "on_product_changed", None)
            if hook is None:
                continue
            try:
                hook(actor=actor, product_id=product_id, tenant_id=tenant_id, changed_facts=changed)
            except Exception:  # the edit is committed; one app's failure must not undo or hide it
                log.exception(
                    "on_product_changed of %s failed for product %s", config.label, product_id
                )

    transaction.on_commit(run)
