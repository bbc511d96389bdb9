"""Reads of the integrations app: API lists with keyset cursors, the feed, delivery logs.

Every selector takes the tenant and filters by it; an id of another tenant is simply absent.
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from catalog.models import Product
from classification.models import ActionKind, ClassificationRequest, Decision, ReviewAction
from integrations.models import (
    OPEN_DELIVERY_STATUSES,
    ApiToken,
    DeliveryStatus,
    FeedEntry,
    WebhookDelivery,
    WebhookEndpoint,
)

MAX_PAGE = 500


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None
    has_more: bool


def parse_cursor(cursor: str | None) -> int:
    """Return the position a cursor stands for (0 = from the start); ``ValueError`` if bad."""
    if cursor in (None, ""):
        return 0
    value = int(cursor)
    if value < 0:
        raise ValueError(cursor)
    return value


def _page(queryset: QuerySet, *, after: int, limit: int, key: str = "id") -> Page:
    """Return up to ``limit`` rows with ``key`` > ``after`` in ascending order, and the cursor."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(queryset.filter(**{f"{key}__gt": after}).order_by(key)[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = getattr(rows[-1], key) if rows else after
    return Page(items=rows, next_cursor=str(last) if last else None, has_more=has_more)


def products_page(*, tenant, after: int, limit: int, filters: dict) -> Page:
    """Return a page of the tenant's products (oldest id first) with their current version."""
    qs = Product.objects.filter(tenant=tenant).select_related("current_version")
    if filters.get("sku"):
        qs = qs.filter(sku=filters["sku"])
    if filters.get("status"):
        qs = qs.filter(classification_status=filters["status"])
    if filters.get("destination"):
        qs = qs.filter(destination=filters["destination"].upper())
    if filters.get("updated_since"):
        qs = qs.filter(updated_at__gte=filters["updated_since"])
    return _page(qs, after=after, limit=limit)


def product_detail(*, tenant, pk: int) -> Product:
    """Return one product of ``tenant`` with its current version, or raise 404."""
    return get_object_or_404(
        Product.objects.select_related("current_version"), tenant=tenant, pk=pk
    )


def request_detail(*, tenant, pk: int) -> ClassificationRequest:
    """Return one classification request of ``tenant``, or raise 404."""
    return get_object_or_404(ClassificationRequest, tenant=tenant, pk=pk)


def _with_finalization(qs: QuerySet[Decision]) -> QuerySet[Decision]:
    latest = FeedEntry.objects.filter(
        tenant_id=OuterRef("tenant_id"), decision_id=OuterRef("pk")
    ).order_by("-id")
    return qs.annotate(
        final_code=Subquery(latest.values("final_code")[:1]),
        finalized_at=Subquery(latest.values("finalized_at")[:1]),
        finalized_by=Subquery(latest.values("finalized_by")[:1]),
        feed_position=Subquery(latest.values("id")[:1]),
    ).annotate(
        # A broker reopened the decision after its last finalization: no code is final now.
        reopened=Exists(
            ReviewAction.objects.filter(
                decision_id=OuterRef("pk"),
                kind=ActionKind.REOPEN,
                created_at__gt=OuterRef("finalized_at"),
            )
        )
    )


def decisions_page(*, tenant, after: int, limit: int, filters: dict) -> Page:
    """Return a page of the tenant's decisions (oldest id first) with their finalization.

    ``final`` keeps decisions a broker finalized (true) or not yet (false); ``updated_since``
    keeps decisions created or finalized at or after that time.
    """
    qs = _with_finalization(
        Decision.objects.filter(tenant=tenant).select_related("product", "product_version")
    )
    if filters.get("outcome"):
        qs = qs.filter(outcome=filters["outcome"])
    if filters.get("final") is not None:
        final = Q(feed_position__isnull=False, reopened=False)
        qs = qs.filter(final) if filters["final"] else qs.exclude(final)
    if filters.get("product_id"):
        qs = qs.filter(product_id=filters["product_id"])
    since = filters.get("updated_since")
    if since:
        qs = qs.filter(Q(created_at__gte=since) | Q(finalized_at__gte=since))
    return _page(qs, after=after, limit=limit)


def decision_detail(*, tenant, pk: int) -> Decision:
    """Return one decision of ``tenant`` with its finalization and evidence, or raise 404."""
    qs = _with_finalization(
        Decision.objects.filter(tenant=tenant).select_related("product", "product_version")
    )
    return get_object_or_404(qs, pk=pk)


def feed_page(*, tenant, after: int, limit: int) -> Page:
    """Return the finalizations after position ``after``, in position order.

    Positions become visible in increasing order (see ``FeedEntry``), so asking again with the
    returned cursor never skips or repeats an entry. An empty page returns the same cursor.
    """
    page = _page(FeedEntry.objects.filter(tenant=tenant), after=after, limit=limit)
    if page.next_cursor is None:
        return Page(items=[], next_cursor=str(after), has_more=False)
    return page


# --- Pages ---------------------------------------------------------------------------------


def tokens_for(tenant) -> QuerySet[ApiToken]:
    """Return the tenant's API tokens, newest first, with who made and revoked them."""
    return ApiToken.objects.filter(tenant=tenant).select_related("created_by", "revoked_by")


def endpoints_for(tenant) -> QuerySet[WebhookEndpoint]:
    """Return the tenant's webhook endpoints, oldest first."""
    return WebhookEndpoint.objects.filter(tenant=tenant)


def deliveries_for(endpoint: WebhookEndpoint, *, status: str | None = None, limit: int = 50):
    """Return the endpoint's latest deliveries (newest first), optionally of one status."""
    qs = WebhookDelivery.objects.filter(tenant_id=endpoint.tenant_id, endpoint=endpoint)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")[:limit]


def endpoints_with_counts(tenant) -> list[WebhookEndpoint]:
    """Return the tenant's endpoints, each with ``open_count`` and ``dead_count`` deliveries."""
    counts = {
        (row["endpoint_id"], row["status"]): row["n"]
        for row in WebhookDelivery.objects.filter(tenant=tenant)
        .values("endpoint_id", "status")
        .annotate(n=Count("id"))
    }
    endpoints = list(endpoints_for(tenant))
    for endpoint in endpoints:
        endpoint.dead_count = counts.get((endpoint.pk, DeliveryStatus.DEAD), 0)
        endpoint.open_count = sum(counts.get((endpoint.pk, s), 0) for s in OPEN_DELIVERY_STATUSES)
    return endpoints
