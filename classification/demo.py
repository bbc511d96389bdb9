"""Demo: queue the demo catalog for classification; the worker started by `make run` drains it."""

from classification import services
from classification.models import ClassificationRequest


def classify_demo_catalog(tenants, out) -> None:
    tenant = tenants.get("acme")
    if tenant is None or ClassificationRequest.objects.filter(tenant=tenant).exists():
        return
    requests = services.catalog_classify(actor=None, tenant=tenant, only_unclassified=True)
    if requests:
        count = sum(r.product_count for r in requests)
        out.write(
            f"Queued {count} demo products for classification in {len(requests)} "
            "request(s); the worker classifies them once it starts."
        )
