"""Template helpers of the review workbench: open counts in the navigation, dict lookups."""

from django import template

from classification.review import selectors
from workbench.access import has_perm

register = template.Library()


@register.filter
def lookup(mapping, key):
    """{{ counts|lookup:queue.key }} → the value, or 0."""
    try:
        return mapping.get(key, 0)
    except AttributeError:
        return 0


@register.simple_tag(takes_context=True)
def review_open_count(context) -> str:
    """Return the open review items of the current tenant ("" for none, "2997+" when capped).

    Cached on the request, so the navigation and the page share one query.
    """
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None or not has_perm(request, "read_tenant"):
        return ""
    counts = selectors.open_counts(tenant, request.user, request)
    if not counts["open"]:
        return ""
    return f"{counts['open']}+" if counts["open_capped"] else str(counts["open"])
