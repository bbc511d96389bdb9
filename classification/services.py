"""Writes for classification: requests (≤ 100 products), catalog-wide runs, dead-job retries,
and the tenant's calibration fits."""

import dataclasses
import math
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

import audit
from catalog import services as catalog_services
from catalog.models import ClassificationStatus, Product
from classification import calibrations, engine, tasks
from classification.engine import calibration
from classification.models import (
    MAX_PRODUCTS_PER_REQUEST,
    CalibrationFit,
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
def products_classify(
    *, actor, tenant, product_ids, source: str = RequestSource.CATALOG
) -> list[ClassificationRequest]:
    """Classify any number of the tenant's products in requests of at most 100 sharing a group.

    Each request is ``request_create``'s (validated, audited, workers woken after commit), all
    in this one transaction. Returns the requests (none for no products).
    """
    ids = sorted({int(pk) for pk in product_ids})
    group = uuid.uuid4()
    return [
        request_create(
            actor=actor,
            tenant=tenant,
            product_ids=ids[i : i + MAX_PRODUCTS_PER_REQUEST],
            source=source,
            group=group,
        )
        for i in range(0, len(ids), MAX_PRODUCTS_PER_REQUEST)
    ]


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


# --- Calibration per tenant -----------------------------------------------------------------

CALIBRATION_LOCK_NAMESPACE = 0x43414C49  # "CALI"
ECE_BINS = 10  # as classification_eval reports it


@dataclasses.dataclass(frozen=True)
class CalibrationRefit:
    """What a refit did: the fit it stored, or (``fit`` None) why the one in use stays."""

    fit: CalibrationFit | None
    cases: int
    right: int
    message: str


def _ece(fitted: calibration.Calibration, rows) -> float:
    """The expected calibration error of ``fitted`` on ``rows`` (in-sample: the fit's own)."""
    bins: dict[int, list] = {}
    for x, right in rows:
        p = fitted.probability(x)
        bins.setdefault(min(int(p * ECE_BINS), ECE_BINS - 1), []).append((p, right))
    return sum(
        len(b) / len(rows) * abs(sum(p for p, _ in b) / len(b) - sum(y for _, y in b) / len(b))
        for b in bins.values()
    )


def _in_use(tenant, jurisdiction: str) -> str:
    current = calibrations.current_calibration(tenant.pk, jurisdiction)
    return f"tenant fit {current.version}" if current else "the engine's default fit"


def calibration_refit(*, actor, tenant, jurisdiction: str) -> CalibrationRefit:
    """Fit the tenant's calibrated confidence for ``jurisdiction`` and make it current.

    Reads the labelled cases (``calibrations.calibration_cases``: finalized decisions and the
    active pack's backtest cases). With fewer than ``TENANT_MIN_CASES``, or without cases both
    right and wrong, writes nothing and says why. Otherwise stores a new, immutable
    ``CalibrationFit`` (version ``t<tenant id>-<jurisdiction>-<n>``) and audits
    ``classification.calibration.fitted`` in one transaction; concurrent refits of a tenant are
    serialised by an advisory lock, so two never take the same number. The cases are read and
    the fit computed before that transaction: running the backtest cases through the engine
    takes seconds, and nothing it reads needs to be locked. ``ValidationError`` for an unknown
    jurisdiction.
    """
    jurisdiction = (jurisdiction or "").upper()
    if jurisdiction not in settings.JURISDICTIONS:
        raise ValidationError(
            {"jurisdiction": f"{jurisdiction or 'none'} is not one of {settings.JURISDICTIONS}."}
        )
    cases = calibrations.calibration_cases(tenant.pk, jurisdiction)
    n, right = len(cases.rows), cases.right
    refused = _refit_refusal(n, right)
    if refused:
        in_use = _in_use(tenant, jurisdiction)
        return CalibrationRefit(None, n, right, f"{refused}: {in_use} stays in use")
    fitted = calibration.fit(
        cases.rows, version="", fitted_on=f"{cases.summary}; engine {engine.ENGINE_VERSION}"
    )
    ece = round(_ece(fitted, cases.rows), 4)
    with transaction.atomic():
        stored = _store_fit(actor=actor, tenant=tenant, fitted=fitted, cases=cases, ece=ece)
    return CalibrationRefit(
        stored,
        n,
        right,
        f"Fitted {stored.version} on {n} labelled cases ({cases.summary}), {right} right at 6 "
        f"digits; in-sample expected calibration error {ece:.3f}",
    )


def _refit_refusal(n: int, right: int) -> str:
    """Why ``n`` labelled cases, ``right`` of them right, cannot be fitted; "" when they can."""
    if n < calibration.TENANT_MIN_CASES:
        return f"{n} labelled cases, {calibration.TENANT_MIN_CASES} needed"
    if right in (0, n):
        kind = "right" if right else "wrong"
        return f"{n} labelled cases, all {kind} at 6 digits, a fit needs both"
    return ""


def _store_fit(*, actor, tenant, fitted, cases, ece) -> CalibrationFit:
    jurisdiction = cases.jurisdiction
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [CALIBRATION_LOCK_NAMESPACE, tenant.pk]
        )
    last = CalibrationFit.objects.filter(tenant=tenant, jurisdiction=jurisdiction).aggregate(
        n=Max("n")
    )["n"]
    number = (last or 0) + 1
    fitted = dataclasses.replace(fitted, version=f"t{tenant.pk}-{jurisdiction}-{number}")
    row = CalibrationFit(
        tenant=tenant,
        jurisdiction=jurisdiction,
        n=number,
        version=fitted.version,
        fit=fitted.to_json(),
        cases=fitted.cases,
        right=cases.right,
        ece=ece,
        source=cases.summary[:300],
        fitted_by=actor if actor else None,
    )
    row.full_clean()
    row.save()
    audit.record(
        actor=actor,
        actor_label=None if actor else "calibration refit (system)",
        verb="classification.calibration.fitted",
        target=row,
        tenant=tenant,
        data={
            "version": row.version,
            "jurisdiction": jurisdiction,
            "cases": row.cases,
            "right": row.right,
            "ece": ece,
            "decisions": cases.decisions,
            "backtest_cases": cases.backtest,
            "skipped_without_features": cases.without_features,
        },
    )
    return row
