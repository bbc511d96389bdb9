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


RIGHT_FEATURES = {"rule": 1.0, "rule_weight": 0.9, "retrieval_share": 0.4, "agree": 1.0}
WRONG_FEATURES = {"rule": 0.0, "rule_weight": 0.0, "retrieval_share": 0.1, "agree": 0.0}


def finalized_decisions(
    tenant, actor, *, right: int, wrong: int, older: int = 0, jurisdiction: str = "US"
) -> list[int]:
    """Bulk-insert finalized decisions on one product whose evidence carries features.

    ``right`` decisions: the machine's best candidate shares 6 digits with the broker's final
    code, and their features say a rule proposed it (``RIGHT_FEATURES``); ``wrong``: another
    heading, found by search alone (``WRONG_FEATURES``); ``older``: right, but made by an engine
    that recorded no features. Rows go in with ``bulk_create`` (the review-state trigger runs),
    then the review states are made final as a broker's accept would leave them.
    """
    import uuid

    from django.utils import timezone

    from classification.models import (
        ClassificationRequest,
        Decision,
        Job,
        JobStatus,
        ReviewState,
        ReviewStatus,
    )

    product = import_products(tenant, actor, [{"SKU": f"CAL-{uuid.uuid4().hex[:8]}"}])[0]
    kinds = ["right"] * right + ["wrong"] * wrong + ["older"] * older
    requests = ClassificationRequest.objects.bulk_create(
        ClassificationRequest(tenant=tenant, group=uuid.uuid4(), source="ui", product_count=1)
        for _ in kinds
    )
    jobs = Job.objects.bulk_create(
        Job(
            request=r,
            tenant=tenant,
            product=product,
            product_version_id=product.current_version_id,
            status=JobStatus.DONE,
        )
        for r in requests
    )
    machine = {"right": "6110202010", "wrong": "6109100012", "older": "6110202010"}
    features = {"right": RIGHT_FEATURES, "wrong": WRONG_FEATURES}
    evidence = {}
    for kind, code in machine.items():
        evidence[kind] = {"candidates": [{"code": code, "score": 0.5, "sources": []}]}
        if kind in features:
            evidence[kind]["calibration"] = {"version": "test", "features": features[kind]}
    from django.db import transaction

    from classification.review import states as review_states

    with transaction.atomic():  # decisions commit with their review states
        decisions = Decision.objects.bulk_create(
            Decision(
                tenant=tenant,
                job=job,
                attempt=1,
                product=product,
                product_version_id=product.current_version_id,
                jurisdiction=jurisdiction,
                engine_version="test",
                selected_code=machine[kind],
                confidence=0.5,
                outcome="needs_review",
                reasons=["low_confidence"],
                risk_band="low",
                evidence=evidence[kind],
            )
            for job, kind in zip(jobs, kinds, strict=True)
        )
        review_states.review_states_open(decisions, actor_label="test")
    ids = [d.pk for d in decisions]
    ReviewState.objects.filter(decision_id__in=ids).update(
        status=ReviewStatus.FINAL,
        queue="final",
        final_code="6110202020",  # the broker's code: same 6 digits as the right suggestion
        decided_by=actor,
        decided_at=timezone.now(),
    )
    return ids
