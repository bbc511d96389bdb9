"""API operations: thin — authenticate (the router's auth), parse, one service or selector, shape.

The tenant is always ``request.auth.tenant``; writes act as ``request.auth.actor``, the token's
own user, so the audit events other apps record name the token.
"""

from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from ninja import Query, Router, Schema, Status

from catalog import facts as F
from catalog import services as catalog_services
from catalog.models import Product
from classification import selectors as classification_selectors
from classification import services as classification_services
from classification.models import ClassificationRequest, RequestSource
from integrations import conf, selectors
from integrations.api import auth
from integrations.api import schemas as S
from integrations.api.errors import ApiError, validation_fields
from workbench import paths

router = Router()

ERRORS = {
    400: S.ErrorOut,
    401: S.ErrorOut,
    404: S.ErrorOut,
    422: S.ErrorOut,
    429: S.ErrorOut,
    500: S.ErrorOut,
}
WRITE_ERRORS = {**ERRORS, 403: S.ErrorOut}


def _after(cursor: str | None) -> int:
    try:
        return selectors.parse_cursor(cursor)
    except ValueError:
        raise ApiError(
            422,
            "invalid_cursor",
            "The cursor is not one this API returned.",
            fields=[{"path": "after", "message": f"{cursor!r} is not a cursor"}],
        ) from None


def _links(tenant, page: str, operation: str, pk: int) -> dict:
    """Absolute links to object ``pk``'s tenant page (URL name) and its API operation."""
    return {
        "html": conf.absolute(paths.tenant_path(tenant, page, pk=pk)),
        "api": conf.absolute(paths.site_path(f"api-v1:{operation}", pk)),
    }


def _listing(request, selector, filters, shape) -> dict:
    """Run a cursor-paged selector for the token's tenant and shape its rows."""
    tenant = request.auth.tenant
    page = selector(
        tenant=tenant, after=_after(filters.after), limit=filters.limit, filters=filters.dict()
    )
    return {
        "items": [shape(row, tenant) for row in page.items],
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
    }


# --- Products ------------------------------------------------------------------------------


class ProductFilters(Schema):
    after: str | None = None
    limit: int = 100
    sku: str | None = None
    status: str | None = None
    destination: str | None = None
    updated_since: datetime | None = None


def _product(product: Product, tenant, *, detail: bool = False) -> dict:
    version = product.current_version
    out = {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "destination": product.destination,
        "country_of_origin": product.country_of_origin,
        "classification_status": product.classification_status,
        "final_code": product.final_code or None,
        "version": version.n if version else None,
        "updated_at": product.updated_at,
        "links": _links(tenant, "catalog:product_detail", "get_product", product.pk),
    }
    if detail:
        out["facts"] = version.facts if version else None
    return out


@router.get("/products", response={200: S.ProductPage, **ERRORS}, tags=["products"])
def list_products(request, filters: Query[ProductFilters]):
    """List the tenant's products, oldest first, with a cursor (`after`)."""
    return _listing(request, selectors.products_page, filters, _product)


@router.get(
    "/products/{product_id}", response={200: S.ProductDetailOut, **ERRORS}, tags=["products"]
)
def get_product(request, product_id: int):
    """Return one product with its current facts."""
    tenant = request.auth.tenant
    return _product(selectors.product_detail(tenant=tenant, pk=product_id), tenant, detail=True)


def _raw_row(row: dict) -> dict:
    raw = {k: v for k, v in row.items() if k in F.FACT_KEYS}
    if isinstance(raw.get("materials"), list):
        raw["materials"] = "; ".join(str(m) for m in raw["materials"])
    return raw


def _upsert_one(request, index: int, row: dict, seen: dict) -> dict:
    raw = _raw_row(row)
    sku = str(raw.get("sku") or "").strip() or None
    result = {"index": index, "sku": sku, "product_id": None, "version": None, "errors": []}
    if sku in seen:
        message = f"appears also in rows[{seen[sku]}]; send each SKU once per request"
        return {
            **result,
            "status": "refused",
            "errors": [{"path": f"rows[{index}].sku", "message": message}],
        }
    if sku:
        seen[sku] = index
    try:
        product, status = catalog_services.product_upsert(
            actor=request.auth.actor, tenant=request.auth.tenant, raw=raw
        )
    except ValidationError as err:
        return {**result, "status": "refused", "errors": validation_fields(err, f"rows[{index}]")}
    return {
        **result,
        "sku": product.sku,
        "status": status,
        "product_id": product.pk,
        "version": product.current_version.n,
    }


@router.post(
    "/products",
    response={200: S.ProductUpsertOut, **WRITE_ERRORS},
    auth=auth.write,
    tags=["products"],
)
def upsert_products(request, payload: S.ProductUpsertIn):
    """Create or update products by SKU with the spreadsheet import's validation.

    Valid rows are written, invalid rows are refused with field paths (`rows[2].currency`);
    all in one transaction. A row whose facts are unchanged writes nothing.
    """
    seen: dict[str, int] = {}
    with transaction.atomic():
        results = [_upsert_one(request, i, row, seen) for i, row in enumerate(payload.rows)]
    counts = {
        k: sum(r["status"] == k for r in results)
        for k in ("created", "updated", "unchanged", "refused")
    }
    ignored = sorted({k for row in payload.rows for k in row} - set(F.FACT_KEYS))
    return {**counts, "ignored_fields": ignored, "results": results}


# --- Classification requests ---------------------------------------------------------------


def _request(request_obj: ClassificationRequest, tenant) -> dict:
    progress = classification_selectors.progress(
        ClassificationRequest.objects.filter(pk=request_obj.pk)
    )
    return {
        "id": request_obj.pk,
        "source": request_obj.source,
        "product_count": request_obj.product_count,
        "created_at": request_obj.created_at,
        "progress": {
            "total": progress.total,
            "queued": progress.queued,
            "running": progress.running,
            "done": progress.done,
            "dead": progress.dead,
            "finished": progress.finished,
            "outcomes": progress.outcomes,
        },
        "links": _links(
            tenant,
            "classification:request",
            "get_classification_request",
            request_obj.pk,
        ),
    }


def _product_ids_for_skus(tenant, skus: list[str]) -> list[int]:
    found = dict(Product.objects.filter(tenant=tenant, sku__in=skus).values_list("sku", "pk"))
    missing = [
        {"path": f"skus[{i}]", "message": f"{sku!r} is not a product of this catalog"}
        for i, sku in enumerate(skus)
        if sku not in found
    ]
    if missing:
        raise ApiError(422, "unknown_sku", "Some SKUs are not in this catalog.", fields=missing)
    return [found[s] for s in skus]


@router.post(
    "/classification-requests",
    response={201: S.ClassificationRequestOut, **WRITE_ERRORS},
    auth=auth.write,
    tags=["classification"],
)
def create_classification_request(request, payload: S.ClassificationRequestIn):
    """Queue classification of at most 100 products, by id or SKU (same rules as the web UI)."""
    tenant = request.auth.tenant
    ids = list(payload.product_ids) + _product_ids_for_skus(tenant, list(payload.skus))
    request_obj = classification_services.request_create(
        actor=request.auth.actor, tenant=tenant, product_ids=ids, source=RequestSource.API
    )
    return Status(201, _request(request_obj, tenant))


@router.get(
    "/classification-requests/{request_id}",
    response={200: S.ClassificationRequestOut, **ERRORS},
    tags=["classification"],
)
def get_classification_request(request, request_id: int):
    """Return a request's progress: jobs by status and decisions by outcome."""
    tenant = request.auth.tenant
    return _request(selectors.request_detail(tenant=tenant, pk=request_id), tenant)


# --- Decisions -----------------------------------------------------------------------------


class DecisionFilters(Schema):
    after: str | None = None
    limit: int = 100
    outcome: Literal["classified", "needs_review", "blocked"] | None = None
    final: bool | None = None
    product_id: int | None = None
    updated_since: datetime | None = None


def _decision(decision, tenant, *, detail: bool = False) -> dict:
    final = None
    if decision.feed_position is not None and not decision.reopened:
        final = {
            "final_code": decision.final_code,
            "finalized_at": decision.finalized_at,
            "finalized_by": decision.finalized_by,
            "feed_position": decision.feed_position,
        }
    out = {
        "id": decision.pk,
        "product": {
            "id": decision.product_id,
            "sku": decision.product.sku,
            "name": decision.product.name,
            "version": decision.product_version.n,
        },
        "jurisdiction": decision.jurisdiction,
        "outcome": decision.outcome,
        "selected_code": decision.selected_code or None,
        "confidence": decision.confidence,
        "risk_band": decision.risk_band,
        "reasons": list(decision.reasons),
        "rule_pack_version": decision.rule_pack_version,
        "schedule_revision": decision.schedule_revision,
        "engine_version": decision.engine_version,
        "created_at": decision.created_at,
        "final": final,
        "links": _links(tenant, "classification:decision", "get_decision", decision.pk),
    }
    if detail:
        out["duty_total"] = None if decision.duty_total is None else str(decision.duty_total)
        out["duty_currency"] = decision.duty_currency or None
        out["evidence"] = decision.evidence
    return out


@router.get("/decisions", response={200: S.DecisionPage, **ERRORS}, tags=["decisions"])
def list_decisions(request, filters: Query[DecisionFilters]):
    """List decisions, oldest first, filtered by outcome, finality and update time."""
    return _listing(request, selectors.decisions_page, filters, _decision)


@router.get(
    "/decisions/{decision_id}", response={200: S.DecisionDetailOut, **ERRORS}, tags=["decisions"]
)
def get_decision(request, decision_id: int):
    """Return one decision with its full evidence and its final classification, if any."""
    tenant = request.auth.tenant
    return _decision(selectors.decision_detail(tenant=tenant, pk=decision_id), tenant, detail=True)


# --- Final classifications feed ------------------------------------------------------------


@router.get("/final-classifications", response={200: S.FeedPage, **ERRORS}, tags=["feed"])
def final_classifications(request, after: str | None = None, limit: int = 100):
    """Everything finalized after the cursor, in order: poll with the last `next_cursor`.

    Each finalization appears exactly once; a decision finalized again (a later override)
    appears again with its new code. Store `next_cursor` only after processing the page.
    """
    tenant = request.auth.tenant
    page = selectors.feed_page(tenant=tenant, after=_after(after), limit=limit)
    items = [
        {
            "position": e.pk,
            "decision_id": e.decision_id,
            "product_id": e.product_id,
            "sku": e.sku,
            "final_code": e.final_code,
            "finalized_at": e.finalized_at,
            "finalized_by": e.finalized_by,
            "authority": e.data.get("authority"),
            "supersedes": e.data.get("supersedes"),
            "ruling_reference": e.data.get("ruling_reference") or None,
            "links": _links(tenant, "classification:decision", "get_decision", e.decision_id),
        }
        for e in page.items
    ]
    return {"items": items, "next_cursor": page.next_cursor, "has_more": page.has_more}
