"""Requests for facts, and classifying again when the facts they asked for (or others) change."""

from django.core.exceptions import ValidationError
from django.db import transaction

import audit
from audit import services as audit_services
from catalog import facts as catalog_facts
from catalog.models import ProductVersion
from classification import selectors as classification_selectors
from classification import services as classification_services
from classification.models import (
    MAX_PRODUCTS_PER_REQUEST,
    ActionKind,
    RequestSource,
    ReviewAction,
    ReviewQueue,
    ReviewState,
    ReviewStatus,
)
from classification.review import notices
from classification.review import selectors as review_selectors
from classification.review.services._base import (
    _announce,
    _append,
    _lock,
    _require_decider,
    _require_status,
)
from metering import counters


@transaction.atomic
@counters.batched
def review_request_info(
    *, actor, state: ReviewState, version: int, missing_facts, message: str
) -> ReviewAction:
    """Ask an analyst for missing or doubtful facts; flag the item until they are updated.

    Guarantees: at least one known fact is named and the message is not blank (else
    ``ValidationError``); when an analyst later updates one of those facts the product is
    classified again (``review_info_received``). Audited as
    ``classification.review.info_requested``.
    """
    state = _lock(state, version)
    _require_status(state, (ReviewStatus.OPEN, ReviewStatus.ESCALATED), "sent back for facts")
    _require_decider(actor, state)
    named = [f for f in dict.fromkeys(missing_facts or []) if f]
    errors = {}
    unknown = [f for f in named if f not in catalog_facts.FACT_KEYS or f == "sku"]
    if not named:
        errors["missing_facts"] = "Name at least one fact that is missing or doubtful."
    elif unknown:
        errors["missing_facts"] = "Unknown facts: " + ", ".join(unknown) + "."
    if not (message or "").strip():
        errors["message"] = "Write what the analyst should check or supply."
    if errors:
        raise ValidationError(errors)
    state.status = ReviewStatus.INFO_REQUESTED
    state.queue = ReviewQueue.INFO_REQUESTED
    state.missing_facts = named
    action = _append(
        state,
        actor=actor,
        kind=ActionKind.REQUEST_INFO,
        note=message.strip(),
        data={"missing_facts": named},
    )
    audit.record(
        actor=actor,
        verb="classification.review.info_requested",
        target=state.decision,
        tenant=state.tenant,
        data={"sku": state.product.sku, "missing_facts": named, "message": message.strip()},
    )
    _announce("decision.info_requested", state, missing_facts=named, message=message.strip())
    notices.info_requested(state, actor=actor, facts=named, message=message.strip())
    return action


@transaction.atomic
def review_info_received(
    *, actor, tenant_id: int, product_id: int, changed_facts
) -> list[ReviewAction]:
    """Classify a product again when an analyst updated a fact a broker asked for.

    Runs after the catalog's update committed (``on_product_changed``). Items waiting for other
    facts stay waiting. Each answered item gets an ``info_received`` action and is closed; one
    classification request of source ``info_update`` is queued. Audited per item.
    """
    changed = set(changed_facts or [])
    states = list(
        ReviewState.objects.select_for_update(of=("self",))
        .select_related("decision", "product", "tenant")
        .filter(tenant_id=tenant_id, product_id=product_id, status=ReviewStatus.INFO_REQUESTED)
    )
    answered = [s for s in states if changed & set(s.missing_facts)]
    actions = []
    for state in answered:
        state.status = ReviewStatus.SUPERSEDED
        state.queue = ReviewQueue.CLOSED
        actions.append(
            _append(
                state,
                actor=actor,
                kind=ActionKind.INFO_RECEIVED,
                data={"updated_facts": sorted(changed & set(state.missing_facts))},
            )
        )
        audit.record(
            actor=actor,
            verb="classification.review.info_received",
            target=state.decision,
            tenant=state.tenant,
            data={"sku": state.product.sku, "updated_facts": sorted(changed)},
        )
        notices.info_received(state, actor=actor, facts=sorted(changed & set(state.missing_facts)))
    if answered:
        classification_services.request_create(
            actor=actor,
            tenant=answered[0].tenant,
            product_ids=[product_id],
            source=RequestSource.INFO_UPDATE,
        )
    return actions


@transaction.atomic
def review_facts_changed(*, actor, tenant_id: int, product_ids) -> list[int]:
    """Classify again the products whose facts changed while their decision awaited review.

    Runs after the catalog's change committed. An open or escalated item whose decision
    classified other facts can no longer become final (``stale_facts``), so its product is
    queued for a new decision (source ``facts_changed``), which supersedes the item when it
    lands. Items waiting for information are ``review_info_received``'s. ``product_ids`` may be
    a subquery (an import's products). Returns the product ids queued; each request is audited
    by ``request_create``.
    """
    states = (
        ReviewState.objects.filter(
            tenant_id=tenant_id,
            product_id__in=product_ids,
            status__in=(ReviewStatus.OPEN, ReviewStatus.ESCALATED),
        )
        .select_related("decision", "product", "tenant")
        .order_by("product_id")
    )
    stale = [s for s in states if classification_selectors.facts_changed(s.decision)]
    queued = [s.product_id for s in stale]
    for start in range(0, len(queued), MAX_PRODUCTS_PER_REQUEST):
        classification_services.request_create(
            actor=actor,
            tenant=stale[0].tenant,
            product_ids=queued[start : start + MAX_PRODUCTS_PER_REQUEST],
            source=RequestSource.FACTS_CHANGED,
        )
    return queued


def review_info_received_from_import(*, actor, tenant_id: int, batch_id: int) -> list:
    """Pass an import's new facts to the review items that asked for them.

    Runs after the import committed (``on_catalog_imported``): for each product of the tenant
    that the batch gave a new version and that has an item waiting for information, the facts
    that differ from its previous version go to ``review_info_received`` (which audits). Reads
    only the few waiting items, however large the import.
    """
    waiting = ReviewState.objects.filter(
        tenant_id=tenant_id, status=ReviewStatus.INFO_REQUESTED
    ).values("product_id")
    versioned = review_selectors.products_versioned_by_import(
        tenant_id=tenant_id, batch_id=batch_id
    )
    versions = ProductVersion.objects.filter(
        import_batch_id=batch_id, n__gt=1, product_id__in=versioned.filter(product_id__in=waiting)
    )
    actions = []
    for version in versions:
        previous = ProductVersion.objects.get(product_id=version.product_id, n=version.n - 1)
        changed = audit_services.changes(previous.facts, version.facts)
        actions += review_info_received(
            actor=actor, tenant_id=tenant_id, product_id=version.product_id, changed_facts=changed
        )
    return actions
