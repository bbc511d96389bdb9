"""Bulk confirm of Confirm-queue items, one transaction, one action and event per item."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from classification.models import ActionKind, ReviewState
from classification.review import selectors as review_selectors
from classification.review.services.finalize import _finalize
from metering import counters
from workbench.access import user_has_tenant_perm

BULK_LIMIT = 200


@dataclass
class BulkResult:
    accepted: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # (sku, why)


@transaction.atomic
@counters.batched
def review_bulk_accept(*, actor, tenant, items, note: str) -> BulkResult:
    """Confirm many Confirm-queue items (``bulk_refusal``) in one go, with one shared note.

    ``items`` are ``(decision_id, version)`` pairs. Items that need review, are high risk, have
    no suggested code, a stale version, changed facts or belong to another tenant are refused
    with a reason each; the rest are accepted in this one transaction, each with its own action
    and audit event sharing ``note``. Raises ``ValidationError`` when the note is blank, nothing
    is selected, or more than ``BULK_LIMIT`` items are.
    """
    if not (note or "").strip():
        raise ValidationError({"note": "Write the note shared by the accepted items."})
    versions = {int(pk): int(v) for pk, v in items}
    if not versions:
        raise ValidationError({"items": "Select the items to confirm."})
    if len(versions) > BULK_LIMIT:
        raise ValidationError({"items": f"Select at most {BULK_LIMIT} items at once."})
    if not user_has_tenant_perm(actor, tenant, "review_decisions"):
        raise ValidationError({"__all__": "Your role does not allow review actions."})
    states = list(
        ReviewState.objects.select_for_update(of=("self",))
        .select_related("decision", "product", "tenant")
        .filter(tenant=tenant, pk__in=versions)
        .order_by("pk")
    )
    result = BulkResult()
    missing = len(versions) - len(states)
    if missing:
        result.refused += [("", "it is not in this tenant's queues")] * missing
    for state in states:
        why = review_selectors.bulk_refusal(state) or review_selectors.stale_facts(state)
        if why is None and state.version != versions[state.pk]:
            why = review_selectors.conflict_message(
                state, review_selectors.last_action(state)
            ).split(";")[0]
        if why:
            result.refused.append((state.product.sku, why))
            continue
        _finalize(
            state,
            actor=actor,
            kind=ActionKind.ACCEPT,
            code=state.decision.selected_code,
            note=note.strip(),
            data={"bulk": True},
        )
        result.accepted.append(state)
    return result
