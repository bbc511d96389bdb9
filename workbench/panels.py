"""Panels that one app adds to another app's detail page, without either importing the other.

An app may implement the ``object_panels(kind, request, obj) -> list[Panel]`` extension point;
a detail page of ``kind`` ("product", "decision", "rulepack", …) renders every panel it is
given, in INSTALLED_APPS order. Example: classification lists a product's decisions on the
product page.
"""

from dataclasses import dataclass, field

from workbench import extension_points


@dataclass(frozen=True)
class Panel:
    title: str
    template: str
    context: dict = field(default_factory=dict)


def collect(kind: str, request, obj) -> list[Panel]:
    """Return the panels every installed app contributes to a ``kind`` page about ``obj``."""
    answers = extension_points.collect("object_panels", kind, request, obj)
    return [panel for panels in answers for panel in panels]
