"""Reads of the review workbench: queues with keyset pages, open counts, the decision panel.

Every queue reads ``ReviewState`` alone (plus its product and decision row, never the evidence
JSON) in the order of one of its indexes, so the first page costs the same with 200 or 200,000
decisions; a page's cursor is the sort key of its last row.
"""

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from catalog.models import Product
from classification import precedents as classification_precedents
from classification import selectors as classification_selectors
from classification.models import (
    FINALIZING_KINDS,
    ActionKind,
    Decision,
    ReviewAction,
    ReviewState,
    ReviewStatus,
    Route,
)
from rulepacks import routing
from tariffs import codes
from workbench.access import user_has_tenant_perm

PAGE_SIZE = 50
# How long a broker may take back an accept, override or spot-check confirmation: their
# decision.finalized event is held from delivery for as long (``outbox.emit(hold=…)``).
UNDO_SECONDS = 10
UNDOABLE_KINDS = ("accept", "override", "spot_check")


def products_versioned_by_import(*, tenant_id: int, batch_id: int) -> QuerySet:
    """The ids of the tenant's existing products an import gave a new version (a subquery)."""
    from catalog.models import ProductVersion

    return ProductVersion.objects.filter(
        import_batch_id=batch_id, product__tenant_id=tenant_id, n__gt=1
    ).values("product_id")


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    help: str = ""


QUEUES = (
    Queue("confirm", "Confirm", "classified by the engine; a broker confirms with one key"),
    Queue("needs_review", "Needs review", "uncertain, restricted or flagged decisions"),
    Queue("blocked", "Blocked", "no candidate, denied goods, no pack or missing facts"),
    *(
        Queue(f"escalated_{route.value}", f"Escalated: {route.label.lower()}", "")
        for route in Route
    ),
    Queue("info_requested", "Info requested", "waiting for an analyst to update facts"),
    Queue("spot_check", "Spot check", "finalized on a pack's authority, drawn for checking"),
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
        rows = rows.filter(assignee=user, status__in=[s for s in ReviewStatus if s != "final"])
        rows = rows.exclude(queue="closed")
    elif queue == "decided":
        rows = rows.filter(queue="final")
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
    "search": ("search", "semantic", "lexicon"),
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
            rows = base.filter(assignee=user).exclude(queue__in=("final", "closed"))
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


def state_for_panel(tenant, pk: int) -> ReviewState:
    """Return one state of ``tenant`` with its decision, product, version and people loaded.

    Raises ``ReviewState.DoesNotExist`` for a miss (or another tenant's decision).
    """
    return ReviewState.objects.select_related(
        "decision",
        "decision__product_version",
        "decision__job",
        "product",
        "tenant",
        "assignee",
        "decided_by",
    ).get(tenant=tenant, pk=pk)


def actions_for(state: ReviewState) -> list[ReviewAction]:
    """Return the decision's actions, oldest first, with actors and evidence files."""
    return list(
        ReviewAction.objects.filter(decision_id=state.pk)
        .select_related("actor")
        .prefetch_related(Prefetch("files"))
        .order_by("version")
    )


def finalizing_action(state: ReviewState) -> ReviewAction | None:
    """Return the action that made the decision's current code final (who, authority, what it
    superseded), or None."""
    return (
        ReviewAction.objects.filter(decision_id=state.pk, kind__in=FINALIZING_KINDS)
        .select_related("actor")
        .order_by("-version")
        .first()
    )


@dataclass(frozen=True)
class SpotChecks:
    """Spot checks of decisions finalized on a pack's authority: the measured precision."""

    pending: int
    confirmed: int
    corrected: int

    @property
    def checked(self) -> int:
        return self.confirmed + self.corrected

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.checked if self.checked else None


def spot_checks(tenant) -> SpotChecks:
    """Count the tenant's spot checks by result (one query)."""
    counts = dict(
        ReviewState.objects.filter(tenant=tenant)
        .exclude(spot_check="")
        .values_list("spot_check")
        .annotate(n=Count("pk"))
    )
    return SpotChecks(
        pending=counts.get("pending", 0),
        confirmed=counts.get("confirmed", 0),
        corrected=counts.get("corrected", 0),
    )


def product_history(state: ReviewState, limit: int = 20) -> list[ReviewState]:
    """Return the product's other decisions, newest first, with their review outcome."""
    return list(
        ReviewState.objects.filter(tenant_id=state.tenant_id, product_id=state.product_id)
        .exclude(pk=state.pk)
        .select_related("decision", "decided_by")
        .defer("decision__evidence")
        .order_by("-decision_created_at")[:limit]
    )


def duty_comparison(decision: Decision) -> list[dict]:
    """Return each candidate's duty next to the suggested code's, with the difference."""
    rows = []
    base = None
    for candidate in decision.candidates:
        duty = candidate.get("duty") or {}
        total = duty.get("total")
        amount = Decimal(total) if total not in (None, "") else None
        if base is None and candidate.get("code") == decision.selected_code:
            base = amount
        rows.append(
            {
                "code": candidate.get("code"),
                "score": candidate.get("score"),
                "total": amount,
                "currency": duty.get("currency") or decision.duty_currency,
                "computable": amount is not None,
            }
        )
    for row in rows:
        row["delta"] = (
            row["total"] - base if base is not None and row["total"] is not None else None
        )
    return rows


def product_review(product) -> dict | None:
    """Return the review of the product's latest decision for the product page, or None.

    Says whether a broker asked for facts (and which, and why), or who made it final.
    """
    state = (
        ReviewState.objects.filter(tenant_id=product.tenant_id, product_id=product.pk)
        .exclude(status=ReviewStatus.SUPERSEDED)
        .select_related("decided_by", "assignee")
        .order_by("-decision_created_at")
        .first()
    )
    if state is None:
        return None
    request = None
    if state.status == ReviewStatus.INFO_REQUESTED:
        request = (
            ReviewAction.objects.filter(decision_id=state.pk, kind="request_info")
            .select_related("actor")
            .order_by("-version")
            .first()
        )
    return {"review": state, "info_request": request}


@dataclass(frozen=True)
class DecisionReview:
    """Where a decision stands with its brokers, for its evidence page."""

    state: ReviewState
    actions: list
    finalized: ReviewAction | None  # the action behind the current final code
    final_description: str


def decision_review(decision: Decision) -> DecisionReview | None:
    """Return the review of ``decision``: its state, its actions (with ruling references and
    evidence files) and, when final, the finalizing action and the final code's text."""
    from classification import selectors as classification_selectors

    state = (
        ReviewState.objects.filter(pk=decision.pk).select_related("decided_by", "assignee").first()
    )
    if state is None:
        return None
    actions = actions_for(state)
    finalized = None
    if state.status == ReviewStatus.FINAL:
        finalized = next((a for a in reversed(actions) if a.kind in FINALIZING_KINDS), None)
    return DecisionReview(
        state=state,
        actions=actions,
        finalized=finalized,
        final_description=classification_selectors.code_description(decision, state.final_code),
    )


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


DECISION_CASES_LIMIT = 5000


def final_decision_cases(tenant_id: int, jurisdiction: str) -> list:
    """Return the tenant's final decisions as backtest cases, newest per product first.

    One case per product (its latest final decision), at most ``DECISION_CASES_LIMIT``: facts
    of the product version the broker decided on, expected code = the broker's final code.
    """
    from types import MappingProxyType

    from rulepacks.backtest import Case

    rows = (
        ReviewState.objects.filter(
            classification_precedents.PERSON_FINAL, tenant_id=tenant_id, jurisdiction=jurisdiction
        )
        .order_by("product_id", "-decided_at")
        .distinct("product_id")
        .values_list(
            "decision_id",
            "decision__product_version__facts",
            "final_code",
            "decided_by__username",
            "decided_at",
        )
    )
    rows = sorted(rows, key=lambda row: row[4], reverse=True)[:DECISION_CASES_LIMIT]
    return [
        Case(
            id=f"decision-{pk}",
            source="decision",
            facts=MappingProxyType(dict(facts)),
            expect_code=code,
            where=f"decision #{pk}, {broker or 'system'} {decided_at:%Y-%m-%d}",
            decision_id=pk,
        )
        for pk, facts, code, broker, decided_at in rows
    ]


def _last_action(state: ReviewState) -> ReviewAction | None:
    return ReviewAction.objects.filter(decision_id=state.pk).order_by("-version").first()


def undo_offer(state: ReviewState, actor, last: ReviewAction | None = None):
    """Return ``actor``'s action that ``review_undo`` could still take back, or None: the
    newest action on the decision (``last`` when the caller has it), an accept, override or
    spot-check confirmation by ``actor``, younger than ``UNDO_SECONDS``. Whether its event
    was delivered is checked on undo."""
    last = last if last is not None else _last_action(state)
    if (
        last is None
        or last.kind not in UNDOABLE_KINDS
        or last.version != state.version
        or "before" not in (last.data or {})
        or actor is None
        or last.actor_id != actor.pk
        or timezone.now() - last.created_at > dt.timedelta(seconds=UNDO_SECONDS)
    ):
        return None
    return last


# --- What a review action reads before it writes -----------------------------------------


def last_action(state: ReviewState) -> ReviewAction | None:
    """Return the newest action on the state's decision, with its actor."""
    return (
        ReviewAction.objects.filter(decision_id=state.pk)
        .select_related("actor")
        .order_by("-version")
        .first()
    )


def conflict_message(state: ReviewState, last: ReviewAction | None) -> str:
    """Say who did what and when, so the reviewer knows why their action was not applied."""
    if state.status == ReviewStatus.SUPERSEDED and (last is None or last.version < state.version):
        return (
            "This decision was replaced by a newer classification of the product; "
            "your action was not applied. Open the newer decision."
        )
    if last is None:
        return "This decision changed since you opened it; your action was not applied."
    who = last.actor.get_username() if last.actor else "the system"
    when = timezone.localtime(last.created_at).strftime("%Y-%m-%d %H:%M:%S %Z")
    what = last.get_kind_display().lower()
    if last.code:
        what += f" {codes.fmt(last.code)}"
    if last.route:
        what += f" to {last.get_route_display().lower()}"
    return (
        f"{who} {what} at {when}, after you opened this decision; your action was not applied. "
        "The panel now shows the current state; what you typed is kept below."
    )


def may_decide(actor, state: ReviewState) -> bool:
    """Return whether ``actor`` may accept or override ``state`` as it stands.

    Brokers decide open items; escalated items need the tenant's ``resolve_escalations`` right
    or a per-object grant on this state (django-guardian). Callers check tenancy first.
    """
    if state.status == ReviewStatus.ESCALATED:
        return user_has_tenant_perm(actor, state.tenant, "resolve_escalations") or bool(
            actor and actor.has_perm("classification.decide_escalated", state)
        )
    return user_has_tenant_perm(actor, state.tenant, "review_decisions")


def stale_facts(state: ReviewState) -> str | None:
    """Say why the item's decision may not become final because the product's facts changed
    after it, or None. Locks the product row, so an edit cannot slip in before the commit."""
    current = (
        Product.objects.select_for_update()
        .filter(pk=state.product_id)
        .values_list("current_version_id", flat=True)
        .first()
    )
    changed = classification_selectors.facts_changed(state.decision, current_version_id=current)
    return changed.message if changed else None


def blocked_goods(decision) -> list[dict]:
    """Return the denied-goods and blocking-restriction entries that blocked ``decision``.

    Such goods are not a broker's to release: a compliance lead decides, with a written
    justification (and a second lead when the pack says ``four_eyes``).
    """
    if decision.outcome != "blocked":
        return []
    entries, reasons = [], set()
    for reason in decision.reason_details:
        if reason.get("code") in (routing.DENIED_GOODS, routing.RESTRICTED_GOODS):
            detail = reason.get("detail") or {}
            for entry in detail.get("entries", []):
                # Several entries (dog fur, cat fur) may give one reason: list it once.
                if entry.get("action") == "block" and entry.get("reason") not in reasons:
                    reasons.add(entry.get("reason"))
                    entries.append(entry)
    return entries


def four_eyes(decision) -> bool:
    """Return whether the decision's pack needs two compliance leads to release blocked goods."""
    from rulepacks import selectors as pack_selectors

    if decision.rule_pack_id is None:
        return False
    return pack_selectors.compiled(decision.rule_pack).four_eyes


def pending_sign_off(state: ReviewState) -> ReviewAction | None:
    """Return the first compliance lead's sign-off waiting for a second one, or None.

    A sign-off counts until the item is finalized or reopened after it.
    """
    last = (
        ReviewAction.objects.filter(
            decision_id=state.pk,
            kind__in=(ActionKind.SIGN_OFF, ActionKind.REOPEN, *FINALIZING_KINDS),
        )
        .select_related("actor")
        .order_by("-version")
        .first()
    )
    return last if last is not None and last.kind == ActionKind.SIGN_OFF else None


def spot_check_sampled(decision_id: int, pack_sha256: str, share: float) -> bool:
    """Return whether an auto-finalized decision goes to a broker's spot check.

    A fixed draw from the decision and the pack's SHA-256: the same decision is always in or
    out of the sample, and about ``share`` of all decisions are in.
    """
    if share <= 0:
        return False
    digest = hashlib.sha256(f"{pack_sha256}:{decision_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


# What a row of the Confirm queue needs to be confirmed with others (shown beside the selection).
BULK_ELIGIBLE = (
    "classified by the engine (its confidence meets the pack's minimum and nothing routed it to "
    "review), waiting in the Confirm queue, not high risk"
)


def bulk_refusal(state: ReviewState) -> str | None:
    """Say why an item may not be confirmed in bulk, or None when it may.

    Only Confirm-queue items are: the engine classified them and the pack asks a person only to
    confirm. Items that need review are decided one at a time, whatever their risk band: routing
    makes every one of them at least medium risk, and a low confidence is, by the pack's own
    calibrated minimum, a code that is wrong too often to file unseen; a tie or a flag is a
    question the pack sent to a person. High-risk items are confirmed on their own.
    """
    if state.status == ReviewStatus.OPEN and state.queue == "confirm":
        if state.risk_rank > 2:
            return "it is high risk: confirm it on its own"
        if not state.decision.selected_code:
            return "the engine suggested no code"
        return None
    if state.status == ReviewStatus.OPEN and state.outcome == "needs_review":
        labels = ", ".join(routing.REASON_LABELS.get(r, r).lower() for r in state.reasons)
        return f"it needs review ({labels}): decide it on its own"
    return f"it is {state.get_status_display().lower()}, not waiting in the Confirm queue"
