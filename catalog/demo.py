"""Demo data: Acme's sample catalog, imported through the real import service."""

from pathlib import Path

from django.contrib.auth import get_user_model

from catalog import services
from catalog.models import ImportBatch

DEMO_FILE = Path(__file__).parent / "demo_data" / "acme_catalog.csv"


def import_demo_catalog(tenants: dict, out) -> None:
    """Import the sample catalog into tenant "acme" as its analyst, once."""
    tenant = tenants.get("acme")
    if tenant is None or ImportBatch.objects.filter(tenant=tenant, source="demo").exists():
        return
    analyst = get_user_model().objects.filter(username="analyst").first()
    batch = services.import_batch_from_path(
        actor=analyst, tenant=tenant, path=DEMO_FILE, source="demo"
    )
    out.write(
        f"Catalog: imported {batch.new_count} demo products into {tenant.slug} "
        f"({batch.refused_count} rows refused on purpose, to show the checks)."
    )
