"""Reads of the review queues: keyset pages, filters and search, open counts, dashboard tiles.

Every queue reads ``ReviewState`` alone (plus its product and decision row, never the evidence
JSON) in the order of one of its indexes, so the first page costs the same with 200 or 200,000
decisions; a page's cursor is the sort key of its last row.
"""

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from classification.engine.types import RETRIEVAL_KINDS
from classification.models import Decision, ReviewQueue, ReviewState, ReviewStatus, Route

PAGE_SIZE = 50


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    help: str = ""


QUEUES = (
    Queue(
        ReviewQueue.CONFIRM, "Confirm", "classified by the engine; a broker confirms with one key"
    ),
    Queue(ReviewQueue.NEEDS_REVIEW, "Needs review", "uncertain, restricted or flagged decisions"),
    Queue(ReviewQueue.BLOCKED, "Blocked", "no candidate, denied goods, no pack or missing facts"),
    *(
        Queue(f"escalated_{route.value}", f"Escalated: {route.label.lower()}", "")
        for route in Route
    ),
    Queue(ReviewQueue.INFO_REQUESTED, "Info requested", "waiting for an analyst to update facts"),
    Queue(
        ReviewQueue.SPOT_CHECK, "Spot check", "finalized on a pack's authority, drawn for checking"
    ),
    Queue("mine", "Assigned to me", "open items you hold"),
    Queue("decided", "Recently decided", "final classifications, newest first"),
)


QUEUE_KEYS = {q.key: q for q in QUEUES}
OPEN_QUEUES = tuple(q.key for q in QUEUES if q.key not in ("mine", "decided"))
# (field, descending) per sort; the decision id last makes every key unique.
SORTS = {
    "risk": (("risk_rank", True), ("decision_created_at", False), ("decision_id", False)),
    "duty": (("duty_sort", True), ("decision_id", False)),
    "confidence": (("confidence", False), ("decision_id", False)),
}


DECIDED_SORT = (("decided_at", True), ("decision_id", False))
SORT_LABELS = {"risk": "Risk, then age", "duty": "Duty exposure", "confidence": "Confidence"}


def _encode(values) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, dt.datetime) else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, sort) -> list | None:
    """Return the cursor's typed values, or None for a cursor that does not fit the sort."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if len(raw) != len(sort):
            return None
        values = []
        for (name, _desc), value in zip(sort, raw, strict=True):
            if name in ("decision_created_at", "decided_at"):
                values.append(dt.datetime.fromisoformat(value))
            elif name == "duty_sort":
                values.append(Decimal(value))
            elif name == "confidence":
                values.append(float(value))
            else:
                values.append(int(value))
        return values
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def _after(sort, values) -> Q:
    """The rows after ``values`` in ``sort`` order: (a > x) or (a = x and b > y) or …"""
    condition = Q(pk__in=[])
    for i, (name, desc) in enumerate(sort):
        step = Q(**{f"{name}__{'lt' if desc else 'gt'}": values[i]})
        for prior, value in zip(sort[:i], values[:i], strict=True):
            step &= Q(**{prior[0]: value})
        condition |= step
    return condition


@dataclass
class QueuePage:
    rows: list
    next_cursor: str
    sort: str
    queue: Queue


def queue_rows(tenant, user) -> QuerySet[ReviewState]:
    """Return the tenant's review states with what a queue row shows (no evidence JSON)."""
    return (
        ReviewState.objects.filter(tenant=tenant)
        .select_related("product", "assignee", "decided_by", "decision")
        .only(
            "decision_id",
            "tenant_id",
            "status",
            "queue",
            "route",
            "version",
            "outcome",
            "risk_rank",
            "confidence",
            "duty_sort",
            "jurisdiction",
            "origin",
            "reasons",
            "suggested_description",
            "decision_created_at",
            "final_code",
            "decided_at",
            "missing_facts",
            "evidence_source",
            "rule_id",
            "product__sku",
            "product__name",
            "assignee__username",
            "decided_by__username",
            "decision__selected_code",
            "decision__risk_band",
            "decision__duty_currency",
        )
    )


def queue_page(tenant, user, *, queue: str, filters: dict, sort: str, cursor: str = ""):
    """Return one keyset page (50 rows) of a queue, filtered, in the chosen order.

    ``filters`` are the cleaned filter form's values; unknown sorts fall back to risk then age.
    The decided queue is always newest first. Constant number of queries.
    """
    rows = queue_rows(tenant, user)
    if queue == "mine":
        rows = rows.filter(
            assignee=user, status__in=[s for s in ReviewStatus if s != ReviewStatus.FINAL]
        )
        rows = rows.exclude(queue=ReviewQueue.CLOSED)
    elif queue == "decided":
        rows = rows.filter(queue=ReviewQueue.FINAL)
    else:
        rows = rows.filter(queue=queue)
    rows = apply_filters(rows, filters, user)
    order = DECIDED_SORT if queue == "decided" else SORTS.get(sort, SORTS["risk"])
    values = _decode(cursor, order) if cursor else None
    if values is not None:
        rows = rows.filter(_after(order, values))
    rows = list(rows.order_by(*[("-" if d else "") + n for n, d in order])[: PAGE_SIZE + 1])
    next_cursor = ""
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = rows[-1]
        next_cursor = _encode([getattr(last, name) for name, _ in order])
    return QueuePage(rows, next_cursor, sort if sort in SORTS else "risk", QUEUE_KEYS[queue])


# Where the winning evidence came from: the filter's choice → ``ReviewState.evidence_source``.
SOURCES = {
    "rule": ("rule",),
    "precedent": ("precedent",),
    "search": RETRIEVAL_KINDS,
}


# A search matches at most this many products: a plain ILIKE scan of the tenant's catalog
# (core PostgreSQL has no trigram index), and a bounded list of ids for the queue's index scan.
SEARCH_CAP = 2000
SEARCH_WORDS = 6


@dataclass(frozen=True)
class Search:
    """The products a queue search matched: their ids, and whether the cap cut the list."""

    text: str
    product_ids: list
    capped: bool


def search_products(tenant, text: str) -> Search:
    """Return the tenant's products whose SKU, name or description contain every word of
    ``text`` (case-insensitive), at most ``SEARCH_CAP`` of them (one query)."""
    from catalog.models import Product

    words = text.split()[:SEARCH_WORDS]
    products = Product.objects.filter(tenant=tenant)
    for word in words:
        products = products.filter(
            Q(sku__icontains=word) | Q(name__icontains=word) | Q(description__icontains=word)
        )
    ids = list(products.order_by().values_list("pk", flat=True)[: SEARCH_CAP + 1])
    return Search(text=" ".join(words), product_ids=ids[:SEARCH_CAP], capped=len(ids) > SEARCH_CAP)


def precedent_sources(decision_ids) -> dict:
    """Return, per decision, the strongest precedent behind its best candidate (the precedent's
    decision, broker and date), for queue rows whose winning evidence is a precedent. One query
    reading only that path of the evidence JSON."""
    found = {}
    rows = Decision.objects.filter(pk__in=list(decision_ids)).values_list(
        "pk", "evidence__candidates__0__sources"
    )
    for pk, sources in rows:
        best = max(
            (s for s in sources or [] if isinstance(s, dict) and s.get("kind") == "precedent"),
            key=lambda s: float(s.get("weight") or 0),
            default=None,
        )
        if best is not None:
            detail = best.get("detail") or {}
            found[pk] = {
                "ref": best.get("ref", ""),
                "broker": detail.get("broker", ""),
                "date": str(detail.get("decided_at") or "")[:10],
            }
    return found


def apply_filters(rows: QuerySet, filters: dict, user) -> QuerySet:
    """Narrow queue rows by search, reason, risk, jurisdiction, rule pack version or rule,
    source of the winning evidence, origin, assignee, age.

    ``filters["search"]`` is a ``Search`` (resolved once per page by ``search_products``).
    """
    if filters.get("search") is not None:
        rows = rows.filter(product_id__in=filters["search"].product_ids)
    if filters.get("source"):
        rows = rows.filter(evidence_source__in=SOURCES[filters["source"]])
    if filters.get("reason"):
        rows = rows.filter(reasons__contains=[filters["reason"]])
    if filters.get("risk"):
        rows = rows.filter(risk_rank={"low": 1, "medium": 2, "high": 3}[filters["risk"]])
    if filters.get("jurisdiction"):
        rows = rows.filter(jurisdiction=filters["jurisdiction"])
    if filters.get("pack"):
        rows = rows.filter(rule_pack_version=filters["pack"])
    if filters.get("rule"):
        rows = rows.filter(rule_id=filters["rule"])
    if filters.get("origin"):
        rows = rows.filter(origin=filters["origin"].upper())
    assignee = filters.get("assignee")
    if assignee == "me":
        rows = rows.filter(assignee=user)
    elif assignee == "none":
        rows = rows.filter(assignee__isnull=True)
    elif assignee:
        rows = rows.filter(assignee__username=assignee)
    if filters.get("age"):
        rows = rows.filter(
            decision_created_at__lte=timezone.now() - dt.timedelta(days=int(filters["age"]))
        )
    return rows


COUNT_CAP = 999


def open_counts(tenant, user, request=None) -> dict:
    """Return the number of items in each open queue and assigned to ``user``, in one query.

    Each count stops at ``COUNT_CAP`` + 1 (a bounded index scan per queue, so the navigation
    costs the same with 200,000 open items as with 20); ``capped`` names the queues that reached
    it, shown as "999+". With ``request``, the counts are cached on it (navigation and page
    share them).
    """
    if request is not None:
        cache = request.__dict__.setdefault("_review_counts", {})
        if "counts" not in cache:
            cache["counts"] = open_counts(tenant, user)
        return cache["counts"]
    limit = COUNT_CAP + 1
    table = ReviewState._meta.db_table
    parts, params = [], []
    for queue in OPEN_QUEUES:
        parts.append(
            f"(SELECT %s AS q FROM {table} WHERE tenant_id = %s AND queue = %s LIMIT {limit})"
        )
        params += [queue, tenant.pk, queue]
    parts.append(
        f"(SELECT 'mine' AS q FROM {table} WHERE tenant_id = %s AND assignee_id = %s"
        f" AND queue NOT IN ('final', 'closed') LIMIT {limit})"
    )
    params += [tenant.pk, getattr(user, "pk", None)]
    sql = f"SELECT q, count(*) FROM ({' UNION ALL '.join(parts)}) counted GROUP BY q"
    counts = dict.fromkeys((*OPEN_QUEUES, "mine"), 0)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts.update(dict(cursor.fetchall()))
    return _capped(counts)


def filtered_counts(tenant, user, filters: dict) -> dict:
    """Return ``open_counts`` narrowed by ``filters`` (search, reason, risk…), in one query.

    Each queue's count is a bounded scan (``COUNT_CAP`` + 1) of its index with the filters
    applied, composed from the ORM's own SQL, so a filter means the same here as in the list.
    """
    limit = COUNT_CAP + 1
    base = apply_filters(ReviewState.objects.filter(tenant=tenant), filters, user).order_by()
    parts, params = [], []
    for key in (*OPEN_QUEUES, "mine"):
        if key == "mine":
            rows = base.filter(assignee=user).exclude(
                queue__in=(ReviewQueue.FINAL, ReviewQueue.CLOSED)
            )
        else:
            rows = base.filter(queue=key)
        try:
            sql, part_params = rows.values("pk")[:limit].query.sql_with_params()
        except EmptyResultSet:  # a search that matched no product: nothing to count
            continue
        parts.append(f"(SELECT %s AS q FROM ({sql}) part)")
        params += [key, *part_params]
    counts = dict.fromkeys((*OPEN_QUEUES, "mine"), 0)
    if parts:
        sql = f"SELECT q, count(*) FROM ({' UNION ALL '.join(parts)}) counted GROUP BY q"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            counts.update(dict(cursor.fetchall()))
    return _capped(counts)


def _capped(counts: dict) -> dict:
    capped = {q for q, n in counts.items() if n > COUNT_CAP}
    for q in capped:
        counts[q] = COUNT_CAP
    counts["open"] = sum(counts[q] for q in OPEN_QUEUES)
    counts["capped"] = capped
    counts["open_capped"] = bool(capped - {"mine"})
    return counts


def tenant_open_counts(tenant) -> dict:
    """Return the tenant's open counts without a user, cached on this tenant instance.

    The middleware gives each request its own tenant instance, so the dashboard's tiles and the
    navigation share one query per request.
    """
    cached = tenant.__dict__.get("_review_open_counts")
    if cached is None:
        cached = tenant._review_open_counts = open_counts(tenant, None)
    return cached


def review_tiles(tenant, base: str) -> list:
    """Return dashboard tiles for escalated items and requests for information (if any)."""
    from workbench.dashboard import Tile

    counts = tenant_open_counts(tenant)
    escalated = sum(counts[f"escalated_{route}"] for route in Route.values)
    tiles = []
    if escalated:
        routes = [r for r in Route.values if counts[f"escalated_{r}"]]
        first = routes[0]
        tiles.append(
            Tile(
                "Escalated",
                f"{escalated}+"
                if counts["capped"] & {f"escalated_{r}" for r in routes}
                else escalated,
                f"{base}?queue=escalated_{first}",
                "waiting for " + ", ".join(Route(r).label.lower() for r in routes),
            )
        )
    if counts["info_requested"]:
        tiles.append(
            Tile(
                "Info requested",
                counts["info_requested"],
                f"{base}?queue=info_requested",
                "waiting for analysts to update facts",
            )
        )
    return tiles
