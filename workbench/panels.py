"""Panels that one app adds to another app's detail page, without either importing the other.

An app's ``AppConfig`` may define ``object_panels(kind, request, obj) -> list[Panel]``; a detail
page of ``kind`` ("product", "decision", "rulepack", …) renders every panel it is given, in
INSTALLED_APPS order. Example: classification lists a product's decisions on the product page.
"""

from dataclasses import dataclass, field

from django.apps import apps


@dataclass(frozen=True)
class Panel:
    title: str
    template: str
    context: dict = field(default_factory=dict)


def collect(kind: str, request, obj) -> list[Panel]:
    """Return the panels every installed app contributes to a ``kind`` page about ``obj``."""
    panels: list[Panel] = []
    for config in apps.get_app_configs():
        provider = getattr(config, "object_panels", None)
        if provider is not None:
            panels.extend(provider(kind, request, obj))
    return panels
