"""Writes for classification: requests (≤ 100 products), catalog-wide runs, dead-job retries."""

import math
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from catalog import services as catalog_services
from catalog.models import ClassificationStatus, Product
from classification import tasks
from classification.models import (
    MAX_PRODUCTS_PER_REQUEST,
    ClassificationRequest,
    Job,
    JobStatus,
    RequestSource,
)
from workbench import keychecks


def _wake_workers(job_count: int) -> None:
    """After commit, queue enough drain tasks to keep every worker process busy."""
    workers = int(settings.Q_CLUSTER.get("workers", 1))
    wakeups = max(1, min(workers, math.ceil(job_count / 25)))
    transaction.on_commit(lambda: tasks.wake(wakeups))


def _create(*, actor, tenant, products: list[Product], source: str, group) -> ClassificationRequest:
    request = ClassificationRequest.objects.create(
        tenant=tenant,
        requested_by=actor if actor else None,
        group=group,
        source=source,
        product_count=len(products),
    )
    Job.objects.bulk_create(
        Job(request=request, tenant=tenant, product=p, product_version_id=p.current_version_id)
        for p in products
    )
    catalog_services.products_set_classification(
        product_ids=[p.pk for p in products], status=ClassificationStatus.QUEUED
    )
    skus = [p.sku for p in products]
    audit.record(
        actor=actor,
        verb="classification.request.created",
        target=request,
        tenant=tenant,
        data={
            "products": len(products),
            "skus": skus[:MAX_PRODUCTS_PER_REQUEST],
            "source": source,
            "group": str(group),
        },
    )
    return request


@transaction.atomic
def request_create(
    *, actor, tenant, product_ids, source: str = RequestSource.UI, group: uuid.UUID | None = None
) -> ClassificationRequest:
    """Queue one job per product (at most 100, all of ``tenant``) and wake the workers.

    Raises ``ValidationError({"products": …})`` when nothing, more than 100, or a product that is
    not the tenant's is selected (without saying whether such a product exists elsewhere).
    Audited as ``classification.request.created``; workers are woken after commit.
    """
    ids = sorted({int(pk) for pk in product_ids})
    if not ids:
        raise ValidationError({"products": "Select at least one product to classify."})
    if len(ids) > MAX_PRODUCTS_PER_REQUEST:
        raise ValidationError(
            {
                "products": (
                    f"{len(ids)} products were selected; one request classifies at most "
                    f"{MAX_PRODUCTS_PER_REQUEST}. Select fewer, or use “Classify catalog”, "
                    f"which splits the work into requests of {MAX_PRODUCTS_PER_REQUEST}."
                )
            }
        )
    products = list(
        Product.objects.filter(tenant=tenant, pk__in=ids, current_version__isnull=False).order_by(
            "pk"
        )
    )
    if len(products) != len(ids):
        raise ValidationError(
            {
                "products": (
                    f"{len(ids) - len(products)} of the selected products are not in this catalog. "
                    "Reload the catalog and select again."
                )
            }
        )
    request = _create(
        actor=actor, tenant=tenant, products=products, source=source, group=group or uuid.uuid4()
    )
    _wake_workers(len(products))
    return request


@transaction.atomic
def catalog_classify(
    *, actor, tenant, jurisdiction: str | None = None, only_unclassified: bool = True
) -> list[ClassificationRequest]:
    """Classify the catalog in requests of at most 100 products that share one group.

    ``only_unclassified`` takes products never classified; otherwise every product of
    ``jurisdiction`` (for example after a new rule pack is activated). Products already queued
    are left out so nothing is classified twice at once. Returns the requests (none when nothing
    is left to classify).
    """
    products = Product.objects.filter(tenant=tenant, current_version__isnull=False).exclude(
        classification_status=ClassificationStatus.QUEUED
    )
    if only_unclassified:
        products = products.filter(classification_status=ClassificationStatus.UNCLASSIFIED)
    if jurisdiction:
        products = products.filter(destination=jurisdiction)
    products = list(products.order_by("pk"))
    group = uuid.uuid4()
    source = RequestSource.CATALOG
    # Up to four key checks per job, for as many jobs as the catalog has products.
    with keychecks.by_index():
        requests = [
            _create(
                actor=actor,
                tenant=tenant,
                products=products[i : i + MAX_PRODUCTS_PER_REQUEST],
                source=source,
                group=group,
            )
            for i in range(0, len(products), MAX_PRODUCTS_PER_REQUEST)
        ]
    if requests:
        _wake_workers(len(products))
    return requests


@transaction.atomic
def job_retry(*, actor, job: Job) -> Job:
    """Give a dead job a fresh set of attempts and wake the workers; audited.

    Raises ``ValidationError`` when the job is not dead (it is running, queued or done).
    """
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status != JobStatus.DEAD:
        raise ValidationError(
            {
                "job": f"Job #{job.pk} is {job.get_status_display().lower()}, "
                "not dead; only dead jobs can be retried."
            }
        )
    previous_error = job.last_error.splitlines()[0][:300] if job.last_error else ""
    job.status = JobStatus.QUEUED
    job.max_attempts = job.attempts + Job._meta.get_field("max_attempts").default
    job.finished_at = None
    job.save(update_fields=["status", "max_attempts", "finished_at"])
    catalog_services.products_set_classification(
        product_ids=[job.product_id], status=ClassificationStatus.QUEUED
    )
    audit.record(
        actor=actor,
        verb="classification.job.retried",
        target=job,
        tenant=job.tenant,
        data={"previous_error": previous_error, "attempts": job.attempts, "at": timezone.now()},
    )
    _wake_workers(1)
    return job
