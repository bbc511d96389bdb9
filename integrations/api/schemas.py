"""Request and response shapes of the JSON API; the OpenAPI document is generated from them."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

MAX_UPSERT_ROWS = 500


class FieldError(Schema):
    path: str = Field(description="Where: `rows[2].country_of_origin`, `skus[0]`, `limit`.")
    message: str


class ErrorBody(Schema):
    code: str = Field(description="Stable machine-readable code, e.g. `token_expired`.")
    message: str
    fields: list[FieldError]


class ErrorOut(Schema):
    error: ErrorBody


class Links(Schema):
    html: str | None = None
    api: str | None = None


# --- Products ------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    destination: str
    country_of_origin: str
    classification_status: str
    final_code: str | None
    version: int | None = Field(description="Number of the current facts version.")
    updated_at: datetime
    links: Links


class ProductDetailOut(ProductOut):
    facts: dict[str, Any] | None


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None
    has_more: bool


class ProductUpsertIn(Schema):
    rows: list[dict[str, Any]] = Field(
        ...,
        min_length=1,
        max_length=MAX_UPSERT_ROWS,
        description="Product facts keyed like the import template (`sku`, `name`, "
        "`description`, `country_of_origin`, `materials` (list or `;`-separated), "
        "`intended_use`, `product_type`, `destination`, optional `customs_value`, `currency`, "
        "`quantity`, `quantity_unit`, `net_weight_kg`, `supplier`, `declared_code`, `notes`).",
    )


class RowResult(Schema):
    index: int
    sku: str | None
    status: Literal["created", "updated", "unchanged", "refused"]
    product_id: int | None
    version: int | None
    errors: list[FieldError]


class ProductUpsertOut(Schema):
    created: int
    updated: int
    unchanged: int
    refused: int
    ignored_fields: list[str] = Field(description="Keys that are not product facts (not stored).")
    results: list[RowResult]


# --- Classification requests ---------------------------------------------------------------


class ClassificationRequestIn(Schema):
    product_ids: list[int] = Field(default_factory=list, max_length=100)
    skus: list[str] = Field(default_factory=list, max_length=100)


class ProgressOut(Schema):
    total: int
    queued: int
    running: int
    done: int
    dead: int
    finished: bool
    outcomes: dict[str, int]


class ClassificationRequestOut(Schema):
    id: int
    source: str
    product_count: int
    created_at: datetime
    progress: ProgressOut
    links: Links


# --- Decisions and the feed ----------------------------------------------------------------


class DecisionProduct(Schema):
    id: int
    sku: str
    name: str
    version: int


class Finalization(Schema):
    final_code: str
    finalized_at: datetime
    finalized_by: str
    feed_position: int


class DecisionOut(Schema):
    id: int
    product: DecisionProduct
    jurisdiction: str
    outcome: Literal["classified", "needs_review", "blocked"]
    selected_code: str | None = Field(description="The engine's suggestion (advice).")
    confidence: float
    risk_band: str
    reasons: list[str]
    rule_pack_version: str
    schedule_revision: str
    engine_version: str
    created_at: datetime
    final: Finalization | None = Field(
        description="The final classification, if any (none while a final code is reopened)."
    )
    links: Links


class DecisionDetailOut(DecisionOut):
    duty_total: str | None
    duty_currency: str | None
    evidence: dict[str, Any] = Field(description="The engine's full evidence record.")


class DecisionPage(Schema):
    items: list[DecisionOut]
    next_cursor: str | None
    has_more: bool


class Supersedes(Schema):
    decision: int
    code: str


class Authority(Schema):
    pack: int
    name: str
    version: str
    sha256: str


class FeedItem(Schema):
    position: int = Field(description="Strictly increasing; the next cursor is the last one.")
    decision_id: int
    product_id: int
    sku: str
    final_code: str
    finalized_at: datetime
    finalized_by: str = Field(description='A username, or "system" under a pack\'s auto_finalize.')
    authority: Authority | None = Field(
        None, description="The rule pack on whose authority the system finalized the code."
    )
    supersedes: Supersedes | None = Field(
        None, description="The earlier final code this one replaces: correct it in your system."
    )
    ruling_reference: str | None = Field(
        None,
        description="The binding ruling a broker cited for an override (NY N301511, an EU BTI, "
        "a UK ATaR number), if any.",
    )
    links: Links


class FeedPage(Schema):
    items: list[FeedItem]
    next_cursor: str = Field(description="Send it back as `after` on the next poll.")
    has_more: bool
