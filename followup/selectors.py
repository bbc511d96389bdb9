"""Reads of follow-up: the Questions inbox, one question with its links, overdue items."""

from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from classification.models import ActionKind, ReviewAction, ReviewState, ReviewStatus
from followup.models import SupplierLink

OVERDUE_STATUSES = (ReviewStatus.OPEN, ReviewStatus.ESCALATED, ReviewStatus.INFO_REQUESTED)


def _asked(field: str):
    return Subquery(
        ReviewAction.objects.filter(decision_id=OuterRef("pk"), kind=ActionKind.REQUEST_INFO)
        .order_by("-version")
        .values(field)[:1]
    )


def questions(tenant, *, limit: int = 200):
    """Return the tenant's items waiting for facts, oldest question first, each with the
    broker's question (``question``), who asked (``asked_by``) and when (``asked_at``)."""
    return (
        ReviewState.objects.filter(tenant=tenant, status=ReviewStatus.INFO_REQUESTED)
        .select_related("product")
        .annotate(
            question=_asked("note"),
            asked_by=_asked("actor__username"),
            asked_at=_asked("created_at"),
        )
        .order_by("asked_at", "pk")[:limit]
    )


def question(tenant, pk: int) -> ReviewState | None:
    """Return the tenant's review item ``pk`` with its question annotated, or None."""
    return (
        ReviewState.objects.filter(tenant=tenant, pk=pk)
        .select_related("product__current_version", "tenant")
        .annotate(
            question=_asked("note"),
            asked_by=_asked("actor__username"),
            asked_at=_asked("created_at"),
        )
        .first()
    )


def links_for(state) -> list[SupplierLink]:
    """Return the supplier links sent for one review item, newest first, with their files."""
    return list(
        SupplierLink.objects.filter(tenant_id=state.tenant_id, state_id=state.pk)
        .select_related("created_by", "answer_version")
        .prefetch_related("files")
    )


def link_by_token_digest(digest: str) -> SupplierLink | None:
    """Return the link stored under ``digest`` with its tenant, item and product, or None."""
    return (
        SupplierLink.objects.select_related("tenant", "state", "product__current_version")
        .filter(token_sha256=digest)
        .first()
    )


def overdue_items(*, tenant_id: int, now=None) -> list[ReviewState]:
    """Return the tenant's review items open longer than ``REVIEW_OVERDUE_DAYS``, oldest first."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REVIEW_OVERDUE_DAYS)
    return list(
        ReviewState.objects.filter(
            tenant_id=tenant_id, status__in=OVERDUE_STATUSES, decision_created_at__lt=cutoff
        )
        .select_related("product", "tenant", "assignee")
        .order_by("decision_created_at", "pk")
    )


def tenants_with_overdue_items(*, now=None) -> list[int]:
    """Return the ids of tenants that have overdue review items."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REVIEW_OVERDUE_DAYS)
    return sorted(
        set(
            ReviewState.objects.filter(
                status__in=OVERDUE_STATUSES, decision_created_at__lt=cutoff
            ).values_list("tenant_id", flat=True)
        )
    )
