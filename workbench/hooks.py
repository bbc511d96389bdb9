"""Hooks between apps that must not import each other.

The catalog announces that a product's facts changed; any app may react by defining
``on_product_changed(*, actor, product_id, tenant_id, changed_facts)`` on its ``AppConfig``
(classification re-classifies a product a broker asked facts for). Hooks run after the
catalog's transaction commits, so they never see, or undo, a change that did not happen.
"""

from django.apps import apps
from django.db import transaction


def product_changed(*, actor, product_id: int, tenant_id: int, changed_facts) -> None:
    """After commit, call every installed app's ``on_product_changed`` with the changed facts."""
    changed = sorted(changed_facts)

    def run() -> None:
        for config in apps.get_app_configs():
            hook = getattr(config, "on_product_changed", None)
            if hook is not None:
                hook(actor=actor, product_id=product_id, tenant_id=tenant_id, changed_facts=changed)

    transaction.on_commit(run)
