"""The steps every review action shares: lock and version check, refusals, the appended
action, the outbox announcement."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from audit import outbox
from classification.models import ActionKind, ReviewAction, ReviewState, ReviewStatus
from classification.review import selectors as review_selectors
from classification.review import tallies
from metering import counters

UNDO_SECONDS = review_selectors.UNDO_SECONDS
UNDOABLE_KINDS = review_selectors.UNDOABLE_KINDS
OPEN_STATUSES = (ReviewStatus.OPEN, ReviewStatus.ESCALATED, ReviewStatus.INFO_REQUESTED)


class StaleAction(Exception):
    """Someone acted on the decision after the reviewer loaded it; nothing was written."""

    def __init__(self, state: ReviewState, last: ReviewAction | None):
        self.state = state
        self.last = last
        super().__init__(review_selectors.conflict_message(state, last))


def _lock(state: ReviewState, version: int | None) -> ReviewState:
    fresh = (
        ReviewState.objects.select_for_update(of=("self",))
        .select_related("decision", "product", "tenant")
        .get(pk=state.pk)
    )
    if version is not None and fresh.version != int(version):
        raise StaleAction(fresh, review_selectors.last_action(fresh))
    return fresh


def _require(condition: bool, field_name: str, message: str) -> None:
    if not condition:
        raise ValidationError({field_name: message})


def _require_status(state: ReviewState, allowed, verb: str) -> None:
    _require(
        state.status in allowed,
        "__all__",
        f"This decision is {state.get_status_display().lower()}; it cannot be {verb}.",
    )


def _require_current_facts(state: ReviewState) -> None:
    message = review_selectors.stale_facts(state)
    _require(message is None, "__all__", message or "")


def _require_decider(actor, state: ReviewState) -> None:
    if not review_selectors.may_decide(actor, state):
        raise ValidationError(
            {
                "__all__": "Escalated items are decided by a compliance lead or by the person "
                "granted this item."
                if state.status == ReviewStatus.ESCALATED
                else "Your role does not allow review actions."
            }
        )


_STATE_FKS = ["decision", "tenant", "product", "assignee", "decided_by"]
_ACTION_FKS = ["decision", "tenant", "actor"]
# Actions written as the consequence of another (metered once, as that other action).
_CONSEQUENCES = (ActionKind.SUPERSEDED, ActionKind.INFO_RECEIVED)


def _append(state: ReviewState, *, actor, kind: str, **fields) -> ReviewAction:
    now = timezone.now()
    state.version += 1
    state.updated_at = now
    # Foreign keys and uniqueness are the database's to enforce; skip their per-field queries.
    state.full_clean(exclude=_STATE_FKS, validate_unique=False, validate_constraints=False)
    tallies.tally_changed(state)
    state.save()
    action = ReviewAction(
        tenant_id=state.tenant_id,
        decision_id=state.pk,
        actor=actor,
        kind=kind,
        version=state.version,
        **fields,
    )
    action.full_clean(exclude=_ACTION_FKS, validate_unique=False, validate_constraints=False)
    action.save()
    tallies.tally_action(action, state)  # insights: a person's actions per day
    if actor is not None and kind not in _CONSEQUENCES:
        counters.add(tenant_id=state.tenant_id, metric=counters.REVIEW_ACTIONS)
    return action


def _announce(event_type: str, state: ReviewState, hold=None, **payload) -> None:
    """Queue an outbox event for other systems in the caller's transaction.

    The single place review actions announce themselves (``decision.finalized``,
    ``decision.escalated``, ``decision.info_requested``); ``hold`` delays delivery (undo).
    """
    outbox.emit(
        hold=hold,
        tenant=state.tenant,
        type=event_type,
        payload={
            "decision_id": state.pk,
            "product_id": state.product_id,
            "sku": state.product.sku,
            "link": outbox.link(state.tenant, "classification:review_panel", pk=state.pk),
            **payload,
        },
        target=state.decision,
    )
