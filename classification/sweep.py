"""The safety net under re-classification after a catalog change.

Editing or re-importing a product classifies it again through the ``on_product_changed`` and
``on_catalog_imported`` reactions (``ClassificationConfig``), each a task queued on commit. If
one fails, the item would wait for ever; so a schedule (``tasks.SWEEP_SCHEDULE``) looks for
open review items (open, escalated, waiting for information) whose product's facts changed
since their decision, with no newer decision and no job for the product's current facts, and
does what the reaction would have done. Idempotent: what it queues is a job for the current
facts, which takes the item out of its own query. A job that dies shows with the dead jobs.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

import audit
from audit.services import changes
from classification.models import Decision, Job, ReviewState, ReviewStatus
from classification.review import services as review_services
from workbench import hooks

log = logging.getLogger(__name__)

SWEEP_ACTOR = "re-classification sweep"
WAITING_STATUSES = (ReviewStatus.OPEN, ReviewStatus.ESCALATED, ReviewStatus.INFO_REQUESTED)


@dataclass
class SweepReport:
    queued: list[int] = field(default_factory=list)  # product ids
    failed_tenants: list[int] = field(default_factory=list)
    recovered: int = 0


def stale_items(*, tenant_id: int | None = None) -> QuerySet[ReviewState]:
    """Open items whose product's facts changed since their decision (by SHA-256) with neither a
    newer decision of the product nor a job for its current version."""
    newer_decision = Decision.objects.filter(
        tenant_id=OuterRef("tenant_id"),
        product_id=OuterRef("product_id"),
        created_at__gt=OuterRef("decision_created_at"),
    )
    current_job = Job.objects.filter(
        product_id=OuterRef("product_id"), product_version_id=OuterRef("product__current_version")
    )
    items = ReviewState.objects.filter(status__in=WAITING_STATUSES)
    if tenant_id is not None:
        items = items.filter(tenant_id=tenant_id)
    return (
        items.exclude(product__current_version=None)
        .exclude(decision__product_version__sha256=F("product__current_version__sha256"))
        .filter(~Exists(newer_decision), ~Exists(current_job))
        .order_by("tenant_id", "product_id")
    )


def sweep() -> SweepReport:
    """Classify again every stale item's product, one transaction per tenant, then mark the
    classification reactions that failed before this sweep recovered (not for a tenant whose
    sweep failed: the next one retries). Audited under the system actor ``SWEEP_ACTOR``."""
    started = timezone.now()
    report = SweepReport()
    tenant_ids = sorted(set(stale_items().values_list("tenant_id", flat=True)))
    for tenant_id in tenant_ids:
        try:
            with audit.as_system(SWEEP_ACTOR):
                report.queued += _sweep_tenant(tenant_id)
        except Exception:  # one tenant's failure must not stop the others; retried next run
            log.exception("re-classification sweep failed for tenant %s", tenant_id)
            report.failed_tenants.append(tenant_id)
    report.recovered = hooks.failures_recovered(
        app_label="classification", before=started, except_tenant_ids=report.failed_tenants
    )
    return report


@transaction.atomic
def _sweep_tenant(tenant_id: int) -> list[int]:
    items = list(
        stale_items(tenant_id=tenant_id)
        .select_for_update(of=("self",), skip_locked=True)
        .select_related("decision__product_version", "product__current_version")
    )
    queued = []
    for item in items:
        if item.status != ReviewStatus.INFO_REQUESTED:
            continue
        changed = changes(item.decision.product_version.facts, item.product.current_version.facts)
        if set(changed) & set(item.missing_facts):  # other facts changed: it keeps waiting
            review_services.review_info_received(
                actor=None, tenant_id=tenant_id, product_id=item.product_id, changed_facts=changed
            )
            queued.append(item.product_id)
    queued += review_services.review_facts_changed(
        actor=None,
        tenant_id=tenant_id,
        product_ids=[i.product_id for i in items if i.status != ReviewStatus.INFO_REQUESTED],
    )
    return queued
