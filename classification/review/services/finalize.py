"""Making a code final: the one path of accept, override, bulk confirm and the system's
auto-finalize, with the release of blocked goods and the second lead's sign-off."""

import datetime as dt

from django.utils import timezone

import audit
from catalog import services as catalog_services
from catalog.models import ClassificationStatus
from classification.models import (
    ActionKind,
    Outcome,
    ReviewAction,
    ReviewQueue,
    ReviewState,
    ReviewStatus,
    SpotCheck,
)
from classification.review import selectors as review_selectors
from classification.review.services._base import UNDO_SECONDS, _announce, _append, _require
from metering import counters
from tariffs import codes
from workbench.access import user_has_tenant_perm


def _previous_final(state: ReviewState) -> dict | None:
    """Return ``{"decision", "code"}`` of the final code a new finalization replaces, or None:
    this decision's own (final now, or reopened), else the product's final decision."""
    if state.status == ReviewStatus.FINAL and state.final_code:
        return {"decision": state.pk, "code": state.final_code}
    reopened = (
        ReviewAction.objects.filter(decision_id=state.pk, kind=ActionKind.REOPEN)
        .order_by("-version")
        .values_list("code", flat=True)
        .first()
    )
    if reopened:
        return {"decision": state.pk, "code": reopened}
    other = (
        ReviewState.objects.filter(
            tenant_id=state.tenant_id, product_id=state.product_id, status=ReviewStatus.FINAL
        )
        .exclude(pk=state.pk)
        .order_by("-decided_at", "-pk")
        .values_list("pk", "final_code")
        .first()
    )
    return {"decision": other[0], "code": other[1]} if other else None


def _supersede_finals(state: ReviewState, *, actor) -> None:
    """Close the product's other final decisions: ``state`` now holds its final code."""
    older = (
        ReviewState.objects.select_for_update(of=("self",))
        .select_related("decision", "tenant")
        .filter(tenant_id=state.tenant_id, product_id=state.product_id, status=ReviewStatus.FINAL)
        .exclude(pk=state.pk)
        .order_by("pk")
    )
    for other in older:
        code = other.final_code
        other.status = ReviewStatus.SUPERSEDED
        other.queue = ReviewQueue.CLOSED
        _append(other, actor=actor, kind=ActionKind.SUPERSEDED, code=code, data={"by": state.pk})
        audit.record(
            actor=actor,
            actor_label=None if actor else "classification worker",
            verb="classification.review.superseded",
            target=other.decision,
            tenant=other.tenant,
            data={"code": code, "by_decision": state.pk},
        )


def _before(state: ReviewState) -> dict:
    """What an undo restores: the state's queue and final code, the product's classification,
    and the product's other final decisions this action is about to close."""
    product = state.product
    closed = (
        ReviewState.objects.filter(
            tenant_id=state.tenant_id, product_id=state.product_id, status=ReviewStatus.FINAL
        )
        .exclude(pk=state.pk)
        .values_list("pk", "queue")
    )
    return {
        "status": state.status,
        "queue": state.queue,
        "route": state.route,
        "assignee": state.assignee_id,
        "final_code": state.final_code,
        "decided_by": state.decided_by_id,
        "decided_at": state.decided_at.isoformat() if state.decided_at else None,
        "missing_facts": list(state.missing_facts or []),
        "spot_check": state.spot_check,
        "product": {
            "status": product.classification_status,
            "final_code": product.final_code,
            "final_facts_sha256": product.final_facts_sha256,
        },
        "closed": [{"decision": pk, "queue": queue} for pk, queue in closed],
    }


def _finalize(
    state: ReviewState,
    *,
    actor,
    kind: str,
    code: str,
    authority: dict | None = None,
    queue: str = ReviewQueue.FINAL,
    undoable: bool = False,
    **fields,
) -> ReviewAction:
    """Make ``code`` the decision's final code: action, product, older finals, audit, outbox.

    ``actor`` None with ``authority`` (pack, version, sha256) is the system finalizing on a
    pack's authority. A final code that replaces another names it (``supersedes``) in the
    action, the audit event and the ``decision.finalized`` event, so an ERP can correct itself.
    ``undoable`` keeps what an undo restores on the action (``before``) and holds the event
    from delivery for ``UNDO_SECONDS``.
    """
    before = _before(state) if undoable else None
    was = state.status
    supersedes = _previous_final(state)
    if supersedes and supersedes["code"] == code and supersedes["decision"] == state.pk:
        supersedes = None  # the same code confirmed again: nothing to correct downstream
    now = timezone.now()
    extra = dict(fields.pop("data", None) or {})
    if supersedes:
        extra["supersedes"] = supersedes
    if authority:
        extra["authority"] = authority
    if state.spot_check == SpotCheck.PENDING and actor is not None:
        system_code = state.final_code or (supersedes or {}).get("code", "")
        confirmed = code == (system_code or state.decision.selected_code)
        state.spot_check = SpotCheck.CONFIRMED if confirmed else SpotCheck.CORRECTED
        extra["spot_check"] = state.spot_check
    state.status = ReviewStatus.FINAL
    state.queue = queue
    state.final_code = code
    state.decided_by = actor
    state.decided_at = now
    state.assignee = None
    state.missing_facts = []
    recorded = {**extra, "before": before} if before else extra
    action = _append(state, actor=actor, kind=kind, code=code, data=recorded, **fields)
    catalog_services.product_set_classification(
        product=state.product,
        status=ClassificationStatus.FINAL,
        final_code=code,
        final_facts_sha256=state.decision.product_version.sha256,
    )
    _supersede_finals(state, actor=actor)
    data = {
        "sku": state.product.sku,
        "final_code": code,
        "suggested_code": state.decision.selected_code,
        "version": state.version,
        "resolved_escalation": was == ReviewStatus.ESCALATED,
    }
    data.update({k: v for k, v in fields.items() if k in ("reason_code", "note") and v})
    if fields.get("ruling_reference"):
        data["ruling_reference"] = fields["ruling_reference"]
    data.update(extra)
    verb = {
        ActionKind.ACCEPT: "accepted",
        ActionKind.OVERRIDE: "overridden",
        ActionKind.SYSTEM_FINALIZE: "finalized",
    }[kind]
    audit.record(
        actor=actor,
        actor_label=None if actor else _authority_label(authority),
        verb=f"classification.review.{verb}",
        target=state.decision,
        tenant=state.tenant,
        data=data,
    )
    payload = {
        "final_code": code,
        "suggested_code": state.decision.selected_code,
        "decided_by": actor.get_username() if actor else "",
        "finalized_by": actor.get_username() if actor else "system",
        "decided_at": now.isoformat(),
    }
    if fields.get("ruling_reference"):
        payload["ruling_reference"] = fields["ruling_reference"]
    if authority:
        payload["authority"] = authority
    if supersedes:
        payload["supersedes"] = supersedes
    hold = dt.timedelta(seconds=UNDO_SECONDS) if undoable else None
    _announce("decision.finalized", state, hold=hold, **payload)
    return action


def _authority_label(authority: dict | None) -> str:
    if not authority:
        return "classification worker"
    return f"rule pack {authority['name']} {authority['version']} (auto-finalize)"


@counters.batched
def review_system_finalize(*, decisions, pack) -> list[ReviewAction]:
    """Finalize ``classified`` decisions on the authority of ``pack`` (``auto_finalize``).

    Runs in the caller's transaction (the worker's batch commit). Each decision gets a
    ``system_finalize`` action naming the pack's id, version and SHA-256, its product's final
    code, an audit event under the pack's name and a ``decision.finalized`` event with
    ``finalized_by: "system"`` and the authority. ``pack.spot_check`` of them stay in the
    Spot check queue until a broker confirms or corrects them.
    """
    ids = [d.pk for d in decisions if d.outcome == Outcome.CLASSIFIED and d.selected_code]
    states = (
        ReviewState.objects.select_for_update(of=("self",))
        .select_related("decision", "product", "tenant")
        .filter(pk__in=ids, status=ReviewStatus.OPEN, queue=ReviewQueue.CONFIRM)
        .order_by("pk")
    )
    actions = []
    for state in states:
        decision = state.decision
        authority = {
            "pack": decision.rule_pack_id,
            "name": pack.name,
            "version": decision.rule_pack_version,
            "sha256": decision.rule_pack_sha256,
        }
        sampled = review_selectors.spot_check_sampled(
            decision.pk, decision.rule_pack_sha256, pack.spot_check
        )
        if sampled:
            state.spot_check = SpotCheck.PENDING
        action = _finalize(
            state,
            actor=None,
            kind=ActionKind.SYSTEM_FINALIZE,
            code=decision.selected_code,
            authority=authority,
            queue=ReviewQueue.SPOT_CHECK if sampled else ReviewQueue.FINAL,
            data={"spot_check": SpotCheck.PENDING} if sampled else None,
        )
        actions.append(action)
    counters.add_many((a.tenant_id, counters.AUTO_FINALIZED, 1) for a in actions)
    return actions


def _require_release(actor, state: ReviewState, note: str) -> None:
    """Blocked goods (denied, or a blocking restriction) are released by a compliance lead only,
    with a written justification; ``ValidationError`` otherwise."""
    entries = review_selectors.blocked_goods(state.decision)
    if not entries:
        return
    reasons = "; ".join(e["reason"].rstrip(".") for e in entries if e.get("reason"))
    _require(
        user_has_tenant_perm(actor, state.tenant, "resolve_escalations"),
        "__all__",
        f"These goods are blocked ({reasons}). Only a compliance lead may release them, with a "
        "written justification; escalate the item to compliance.",
    )
    _require(
        len((note or "").strip()) >= 20,
        "note",
        "Releasing blocked goods needs a written justification (at least 20 characters) that "
        "says why the import is lawful.",
    )


def _second_lead(actor, state: ReviewState, code: str, note: str, **fields) -> ReviewAction | None:
    """Under ``four_eyes``, record the first compliance lead's sign-off and return it; return
    None when this is the second lead confirming the same code (the caller finalizes)."""
    if not review_selectors.blocked_goods(state.decision) or not review_selectors.four_eyes(
        state.decision
    ):
        return None
    pending = review_selectors.pending_sign_off(state)
    if pending is not None and pending.code == code:
        _require(
            pending.actor_id != actor.pk,
            "__all__",
            f"You signed off {codes.fmt(code)} already; a second compliance lead must confirm it.",
        )
        return None
    action = _append(
        state, actor=actor, kind=ActionKind.SIGN_OFF, code=code, note=note.strip(), **fields
    )
    audit.record(
        actor=actor,
        verb="classification.review.signed_off",
        target=state.decision,
        tenant=state.tenant,
        data={"sku": state.product.sku, "code": code, "note": note.strip()},
    )
    return action


def _countersigned(state: ReviewState) -> dict:
    pending = (
        review_selectors.pending_sign_off(state)
        if review_selectors.blocked_goods(state.decision)
        else None
    )
    if pending is None:
        return {}
    return {"data": {"signed_off_by": pending.actor.get_username() if pending.actor else ""}}
