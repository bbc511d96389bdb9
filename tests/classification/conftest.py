"""Classification fixtures: products imported through the real catalog import."""

import csv
import io

import pytest

from catalog import services as catalog_services
from catalog.models import Product
from workbench.roles import Role

HEADERS = [
    "SKU",
    "Name",
    "Description",
    "Country of origin",
    "Materials",
    "Intended use",
    "Product type",
    "Destination",
    "Customs value",
    "Currency",
]

SWEATER = {
    "Name": "Men's cotton pullover",
    "Description": "Men's knitted pullover sweater of cotton, long sleeves, ribbed cuffs",
    "Country of origin": "VN",
    "Materials": "cotton",
    "Intended use": "Apparel for everyday wear",
    "Product type": "Sweater",
    "Destination": "US",
    "Customs value": "25.00",
    "Currency": "USD",
}


def import_products(tenant, actor, rows: list[dict]) -> list[Product]:
    """Import ``rows`` (dicts by header) as a CSV through the catalog service."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADERS)
    writer.writeheader()
    for r in rows:
        writer.writerow({**SWEATER, **r})
    batch = catalog_services.import_batch_start(
        actor=actor,
        tenant=tenant,
        fileobj=io.BytesIO(buffer.getvalue().encode()),
        filename="products.csv",
        background=False,
    )
    assert batch.refused_count == 0, batch.refused_rows
    skus = [r["SKU"] for r in rows]
    return list(Product.objects.filter(tenant=tenant, sku__in=skus).order_by("pk"))


@pytest.fixture
def make_products(cast):
    def make(n: int, prefix: str = "P", tenant=None, **overrides) -> list[Product]:
        rows = [{"SKU": f"{prefix}-{i:05d}", **overrides} for i in range(n)]
        return import_products(tenant or cast.tenant, cast.users[Role.ANALYST], rows)

    return make
