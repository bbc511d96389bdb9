"""What a review action reads before it writes: who may decide, blocked goods and sign-offs,
stale facts, bulk eligibility, the conflict message, the spot-check draw."""

import hashlib

from django.utils import timezone

from catalog.models import Product
from classification import selectors as classification_selectors
from classification.models import (
    FINALIZING_KINDS,
    ActionKind,
    Outcome,
    ReviewAction,
    ReviewQueue,
    ReviewState,
    ReviewStatus,
)
from rulepacks import routing
from tariffs import codes
from workbench.access import user_has_tenant_perm


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
    if decision.outcome != Outcome.BLOCKED:
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
    if state.status == ReviewStatus.OPEN and state.queue == ReviewQueue.CONFIRM:
        if state.risk_rank > 2:
            return "it is high risk: confirm it on its own"
        if not state.decision.selected_code:
            return "the engine suggested no code"
        return None
    if state.status == ReviewStatus.OPEN and state.outcome == Outcome.NEEDS_REVIEW:
        labels = ", ".join(routing.REASON_LABELS.get(r, r).lower() for r in state.reasons)
        return f"it needs review ({labels}): decide it on its own"
    return f"it is {state.get_status_display().lower()}, not waiting in the Confirm queue"
