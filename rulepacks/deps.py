"""The calls rule packs make into the tariffs and catalog apps, gathered in one place.

Rule packs depend on tariffs (schedule reference, code validation) and catalog (products and
their facts), never the other way round.
"""

from catalog.models import Product
from rulepacks.gates import CodeCheck
from tariffs import reference as tariff_reference
from tariffs import services as tariff_services


def reference(jurisdiction: str, revision: str | None = None):
    """Return the tariff reference for ``jurisdiction`` (current schedule unless ``revision``)."""
    return tariff_reference.get_reference(jurisdiction, revision or None)


def code_checker(jurisdiction: str, revision: str | None) -> CodeCheck:
    """Return a ``CodeCheck`` backed by the tariffs validation service for one schedule."""

    def check(code: str) -> str | None:
        result = tariff_services.code_validate(
            jurisdiction=jurisdiction, code=code, revision=revision or None
        )
        if result.ok and result.declarable:
            return None
        return result.message or f"{code} is not a declarable line"

    return check


def products(tenant, jurisdiction: str, limit: int) -> list[tuple[int, str, str, dict, str]]:
    """Return ``(product id, sku, name, facts, facts SHA-256)`` of up to ``limit`` products for a
    destination, by SKU."""
    rows = (
        Product.objects.filter(tenant=tenant, destination=jurisdiction)
        .select_related("current_version")
        .order_by("sku")[:limit]
    )
    return [
        (
            p.pk,
            p.sku,
            p.name,
            dict(p.current_version.facts) if p.current_version else {},
            p.current_version.sha256 if p.current_version else "",
        )
        for p in rows
    ]
