"""Demo data: Acme's sample catalog, imported through the real import service."""

from pathlib import Path

from catalog import services
from catalog.models import Product

DEMO_FILE = Path(__file__).parent / "demo_data" / "acme_catalog.csv"


def import_demo_catalog(tenants: dict, out) -> None:
    """Import the sample catalog into tenant "acme" while it has no products, as no user."""
    tenant = tenants.get("acme")
    if tenant is None or Product.objects.filter(tenant=tenant).exists():
        return
    batch = services.import_batch_from_path(
        actor=None, tenant=tenant, path=DEMO_FILE, source="demo"
    )
    out.write(
        f"Catalog: imported {batch.new_count} demo products into {tenant.slug} "
        f"({batch.refused_count} rows refused on purpose, to show the checks)."
    )
