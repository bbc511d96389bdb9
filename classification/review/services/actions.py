"""A broker's actions on one item: accept, override, reopen, undo, escalate."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from audit import outbox
from catalog import services as catalog_services
from catalog.models import ClassificationStatus
from classification.models import (
    ActionKind,
    Outcome,
    OverrideReason,
    ReviewAction,
    ReviewQueue,
    ReviewState,
    ReviewStatus,
    Route,
    SpotCheck,
)
from classification.review import notices, rulings
from classification.review import selectors as review_selectors
from classification.review.services._base import (
    UNDO_SECONDS,
    UNDOABLE_KINDS,
    _announce,
    _append,
    _lock,
    _require,
    _require_current_facts,
    _require_decider,
    _require_status,
)
from classification.review.services.evidence import _check_files, _store_files
from classification.review.services.finalize import (
    _before,
    _countersigned,
    _finalize,
    _require_release,
    _second_lead,
)
from metering import counters
from tariffs import codes
from tariffs import services as tariff_services
from workbench.access import user_has_tenant_perm


def _confirm_spot_check(actor, state: ReviewState, note: str) -> ReviewAction:
    """A broker confirms an auto-finalized decision drawn for a spot check (undoable)."""
    before = _before(state)
    state.spot_check = SpotCheck.CONFIRMED
    state.queue = ReviewQueue.FINAL
    action = _append(
        state,
        actor=actor,
        kind=ActionKind.SPOT_CHECK,
        code=state.final_code,
        note=note,
        data={"before": before},
    )
    audit.record(
        actor=actor,
        verb="classification.review.spot_checked",
        target=state.decision,
        tenant=state.tenant,
        data={"sku": state.product.sku, "code": state.final_code, "result": state.spot_check},
    )
    return action


@transaction.atomic
@counters.batched
def review_accept(*, actor, state: ReviewState, version: int, note: str = "") -> ReviewAction:
    """Make the suggested code final for the decision's product (or confirm a spot check).

    Guarantees: the state was at ``version`` (else ``StaleAction``, nothing written); the item is
    open (Confirm and review queues) or escalated and ``actor`` may decide it; blocked goods
    only by a compliance lead with a justification, and under ``four_eyes`` the first lead's
    accept is a sign-off that a second lead confirms; one ``accept`` action, the product's final
    code and status, and a ``classification.review.accepted`` event commit together. On an
    auto-finalized item in the Spot check queue, accepting confirms the system's code.
    """
    state = _lock(state, version)
    if state.status == ReviewStatus.FINAL and state.spot_check == SpotCheck.PENDING:
        _require_decider(actor, state)
        return _confirm_spot_check(actor, state, note)
    _require_status(state, (ReviewStatus.OPEN, ReviewStatus.ESCALATED), "accepted")
    _require_decider(actor, state)
    _require_current_facts(state)
    _require(
        bool(state.decision.selected_code),
        "__all__",
        "The engine suggested no code, so there is nothing to accept: override with a code.",
    )
    _require_release(actor, state, note)
    code = state.decision.selected_code
    signed = _second_lead(actor, state, code, note)
    if signed is not None:
        return signed
    return _finalize(
        state,
        actor=actor,
        kind=ActionKind.ACCEPT,
        code=code,
        note=note,
        undoable=True,
        **_countersigned(state),
    )


@transaction.atomic
@counters.batched
def review_reopen(*, actor, state: ReviewState, version: int, note: str) -> ReviewAction:
    """Take a final decision back into review: its code is no longer final.

    Guarantees: the item is final and ``actor`` may review (else ``ValidationError``); the note
    says why; the item returns to the Needs review (or Blocked) queue, the product loses its
    final code, and a ``reopen`` action naming the code, a ``classification.review.reopened``
    event and a ``decision.reopened`` outbox event (so an ERP holds the code) commit together.
    The next accept or override names the reopened code as the one it supersedes.
    """
    state = _lock(state, version)
    _require_status(state, (ReviewStatus.FINAL,), "reopened")
    _require(
        user_has_tenant_perm(actor, state.tenant, "review_decisions"),
        "__all__",
        "Your role does not allow review actions.",
    )
    _require(bool((note or "").strip()), "note", "Say why the final code is being reopened.")
    code = state.final_code
    state.status = ReviewStatus.OPEN
    blocked = state.outcome == Outcome.BLOCKED
    state.queue = ReviewQueue.BLOCKED if blocked else ReviewQueue.NEEDS_REVIEW
    state.final_code = ""
    state.decided_by = None
    state.decided_at = None
    action = _append(state, actor=actor, kind=ActionKind.REOPEN, code=code, note=note.strip())
    catalog_services.product_set_classification(
        product=state.product,
        status=ClassificationStatus.BLOCKED if blocked else ClassificationStatus.NEEDS_REVIEW,
    )
    audit.record(
        actor=actor,
        verb="classification.review.reopened",
        target=state.decision,
        tenant=state.tenant,
        data={"sku": state.product.sku, "code": code, "note": note.strip()},
    )
    _announce("decision.reopened", state, reopened_code=code, note=note.strip())
    return action


def _restore_closed(state: ReviewState, closed: list, *, actor) -> None:
    """Give the product's older final decisions, closed by the undone action, back their
    final status (each with an ``undo`` action and an audit event)."""
    for entry in closed:
        other = (
            ReviewState.objects.select_for_update(of=("self",))
            .select_related("decision", "tenant")
            .filter(pk=entry["decision"], status=ReviewStatus.SUPERSEDED)
            .first()
        )
        last = review_selectors.last_action(other) if other is not None else None
        if last is None or last.kind != ActionKind.SUPERSEDED or last.data.get("by") != state.pk:
            continue
        other.status = ReviewStatus.FINAL
        other.queue = entry["queue"]
        _append(
            other,
            actor=actor,
            kind=ActionKind.UNDO,
            code=other.final_code,
            data={"undid": {"kind": last.kind, "version": last.version}, "by": state.pk},
        )
        audit.record(
            actor=actor,
            verb="classification.review.undone",
            target=other.decision,
            tenant=other.tenant,
            data={"code": other.final_code, "undid": "superseded", "by_decision": state.pk},
        )


@transaction.atomic
@counters.batched
def review_undo(*, actor, state: ReviewState, version: int) -> ReviewAction:
    """Take back ``actor``'s accept, override or spot-check confirmation within
    ``UNDO_SECONDS``, while nothing of it has been announced outside.

    Guarantees: the state was at ``version`` (else ``StaleAction``); the newest action is
    ``actor``'s undoable action, inside its window; its ``decision.finalized`` event is still
    undelivered and is cancelled under a lock (delivery took it first: ``ValidationError``
    pointing to reopen or override). An ``undo`` action restores the state, the product's
    status and final code, and the older final decisions it had closed, with a
    ``classification.review.undone`` event; the undone action stays in the history.
    """
    state = _lock(state, version)
    last = review_selectors.last_action(state)
    if last is None or last.kind not in UNDOABLE_KINDS or "before" not in (last.data or {}):
        raise ValidationError({"__all__": "There is nothing to undo on this decision."})
    _require(
        last.actor_id == getattr(actor, "pk", None),
        "__all__",
        "Only the person who acted may undo it; reopen the item or override it instead.",
    )
    _require(
        timezone.now() - last.created_at <= dt.timedelta(seconds=UNDO_SECONDS),
        "__all__",
        f"The {UNDO_SECONDS}-second undo window has passed; reopen the item or override it "
        "instead.",
    )
    if last.kind != ActionKind.SPOT_CHECK:
        cancelled = outbox.cancel_pending(
            tenant=state.tenant, type=outbox.DECISION_FINALIZED, target=state.decision
        )
        _require(
            cancelled is not None,
            "__all__",
            f"{codes.fmt(last.code)} has already been announced to other systems (webhooks, the "
            "API feed), so it cannot be undone; reopen the item or override it instead.",
        )
    before = last.data["before"]
    state.status = before["status"]
    state.queue = before["queue"]
    state.route = before["route"]
    state.assignee_id = before["assignee"]
    state.final_code = before["final_code"]
    state.decided_by_id = before["decided_by"]
    state.decided_at = (
        dt.datetime.fromisoformat(before["decided_at"]) if before["decided_at"] else None
    )
    state.missing_facts = before["missing_facts"]
    state.spot_check = before["spot_check"]
    undid = {"kind": last.kind, "version": last.version, "code": last.code}
    action = _append(
        state, actor=actor, kind=ActionKind.UNDO, code=last.code, data={"undid": undid}
    )
    catalog_services.product_set_classification(product=state.product, **before["product"])
    _restore_closed(state, before.get("closed") or [], actor=actor)
    audit.record(
        actor=actor,
        verb="classification.review.undone",
        target=state.decision,
        tenant=state.tenant,
        data={"sku": state.product.sku, "undid": undid, "status": state.status},
    )
    return action


def _check_code(state: ReviewState, code: str) -> str:
    check = tariff_services.code_validate(jurisdiction=state.jurisdiction, code=code or "")
    if not (check.ok and check.declarable):
        raise ValidationError({"code": check.message})
    return check.code


@transaction.atomic
@counters.batched
def review_override(
    *,
    actor,
    state: ReviewState,
    version: int,
    code: str,
    reason_code: str,
    note: str,
    ruling_reference: str = "",
    files=(),
) -> ReviewAction:
    """Make a broker-chosen code final, with a reason from the closed list and a note.

    Guarantees: the code is a declarable line of the jurisdiction's current schedule, the
    reason is known, the note is not blank, a ruling reference has a form the jurisdiction's
    customs authority issues (``rulings``; required when the reason is a binding ruling), and
    evidence files are PDFs or images within the size limit (checked by content, stored with
    their SHA-256); otherwise ``ValidationError`` by field and nothing is written. Stale
    versions raise ``StaleAction``. Audited as ``classification.review.overridden``.
    """
    state = _lock(state, version)
    _require_status(
        state, (ReviewStatus.OPEN, ReviewStatus.ESCALATED, ReviewStatus.FINAL), "overridden"
    )
    _require_decider(actor, state)
    _require_current_facts(state)
    _require_release(actor, state, note)
    errors = {}
    try:
        digits = _check_code(state, code)
    except ValidationError as err:
        errors.update(err.message_dict)
    if reason_code not in OverrideReason.values:
        errors["reason_code"] = [
            f"Unknown reason {reason_code!r}: choose one of "
            + ", ".join(label.lower() for label in OverrideReason.labels)
            + "."
        ]
    if not (note or "").strip():
        errors["note"] = ["Write a note that says why the suggested code is wrong."]
    try:
        ruling = rulings.ruling_normalize(state.jurisdiction, ruling_reference)
    except rulings.RulingError as err:
        ruling, errors["ruling_reference"] = "", [str(err)]
    else:
        if reason_code == OverrideReason.BINDING_RULING and not ruling:
            errors["ruling_reference"] = [
                "The reason is a binding ruling: give its reference ("
                + rulings.accepted_forms(state.jurisdiction)
                + ")."
            ]
    try:
        checked = _check_files(files)
    except ValidationError as err:
        errors.update(err.message_dict)
    if errors:
        raise ValidationError(errors)
    if state.status == ReviewStatus.FINAL:
        _require(
            digits != state.final_code,
            "code",
            f"{codes.fmt(digits)} is already the final code; reopen the item to review it again.",
        )
    signed = _second_lead(
        actor, state, digits, note, reason_code=reason_code, ruling_reference=ruling
    )
    if signed is not None:
        return signed
    action = _finalize(
        state,
        actor=actor,
        kind=ActionKind.OVERRIDE,
        code=digits,
        reason_code=reason_code,
        note=note.strip(),
        ruling_reference=ruling,
        undoable=True,
        **_countersigned(state),
    )
    stored = _store_files(action, checked)
    if stored:
        audit.record(
            actor=actor,
            verb="classification.evidence.attached",
            target=state.decision,
            tenant=state.tenant,
            data={"files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in stored]},
        )
    return action


@transaction.atomic
@counters.batched
def review_escalate(*, actor, state: ReviewState, version: int, route: str, note: str):
    """Move the item to a route's queue (compliance, legal, finance, logistics) with a reason.

    Guarantees: the route is known and the reason is not blank (else ``ValidationError``); the
    item was open, or escalated and ``actor`` may decide it; the assignee is cleared; audited as
    ``classification.review.escalated`` and announced as ``decision.escalated``.
    """
    state = _lock(state, version)
    _require_status(state, (ReviewStatus.OPEN, ReviewStatus.ESCALATED), "escalated")
    _require_decider(actor, state)
    errors = {}
    if route not in Route.values:
        errors["route"] = "Choose where to escalate: " + ", ".join(Route.labels).lower() + "."
    if not (note or "").strip():
        errors["note"] = "Say why this needs to be escalated."
    if errors:
        raise ValidationError(errors)
    state.status = ReviewStatus.ESCALATED
    state.route = route
    state.queue = f"escalated_{route}"
    state.assignee = None
    action = _append(state, actor=actor, kind=ActionKind.ESCALATE, route=route, note=note.strip())
    audit.record(
        actor=actor,
        verb="classification.review.escalated",
        target=state.decision,
        tenant=state.tenant,
        data={"sku": state.product.sku, "route": route, "note": note.strip()},
    )
    _announce("decision.escalated", state, escalated_to=route, note=note.strip())
    notices.escalated(state, actor=actor, note=note.strip())
    return action
