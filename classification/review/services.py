"""Writes of the review workbench: every broker action is one transaction, one action, one event.

Each action locks the decision's ``ReviewState``, compares the version the reviewer saw with the
current one (``StaleAction`` when someone acted first: nothing is written), appends a
``ReviewAction``, updates the state, and records its audit event in the same transaction. The
decision itself never changes: the broker's action is the final classification and the engine's
suggestion stays advice beside it.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

import audit
from audit import outbox
from audit import services as audit_services
from catalog import facts as catalog_facts
from catalog import services as catalog_services
from catalog.models import ClassificationStatus, Product, ProductVersion
from classification import selectors as classification_selectors
from classification import services as classification_services
from classification.models import (
    FINALIZING_KINDS,
    MAX_PRODUCTS_PER_REQUEST,
    ActionKind,
    EvidenceFile,
    OverrideReason,
    RequestSource,
    ReviewAction,
    ReviewState,
    ReviewStatus,
    Route,
    SpotCheck,
)
from classification.review import notices, rulings, tallies
from classification.review import selectors as review_selectors
from metering import counters
from rulepacks import promote, routing
from tariffs import codes
from tariffs import services as tariff_services
from workbench.access import user_has_tenant_perm
from workbench.models import Membership

MAX_EVIDENCE_FILES = 5
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
# Magic numbers of the accepted evidence formats; the uploaded name and type are not trusted.
EVIDENCE_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
BULK_LIMIT = 200
UNDO_SECONDS = review_selectors.UNDO_SECONDS
UNDOABLE_KINDS = review_selectors.UNDOABLE_KINDS
OPEN_STATUSES = (ReviewStatus.OPEN, ReviewStatus.ESCALATED, ReviewStatus.INFO_REQUESTED)


class StaleAction(Exception):
    """Someone acted on the decision after the reviewer loaded it; nothing was written."""

    def __init__(self, state: ReviewState, last: ReviewAction | None):
        self.state = state
        self.last = last
        super().__init__(conflict_message(state, last))


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


def _lock(state: ReviewState, version: int | None) -> ReviewState:
    fresh = (
        ReviewState.objects.select_for_update(of=("self",))
        .select_related("decision", "product", "tenant")
        .get(pk=state.pk)
    )
    if version is not None and fresh.version != int(version):
        raise StaleAction(fresh, last_action(fresh))
    return fresh


def last_action(state: ReviewState) -> ReviewAction | None:
    """Return the newest action on the state's decision, with its actor."""
    return (
        ReviewAction.objects.filter(decision_id=state.pk)
        .select_related("actor")
        .order_by("-version")
        .first()
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


def _require(condition: bool, field_name: str, message: str) -> None:
    if not condition:
        raise ValidationError({field_name: message})


def _require_status(state: ReviewState, allowed, verb: str) -> None:
    _require(
        state.status in allowed,
        "__all__",
        f"This decision is {state.get_status_display().lower()}; it cannot be {verb}.",
    )


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


def _require_current_facts(state: ReviewState) -> None:
    message = stale_facts(state)
    _require(message is None, "__all__", message or "")


def _require_decider(actor, state: ReviewState) -> None:
    if not may_decide(actor, state):
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


def _link(state: ReviewState) -> str:
    return f"/t/{state.tenant.slug}/classification/review/{state.pk}/"


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
            "link": outbox.link(state.tenant, f"classification/review/{state.pk}/"),
            **payload,
        },
        target=state.decision,
    )


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
        other.queue = "closed"
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
    queue: str = "final",
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


def spot_check_sampled(decision_id: int, pack_sha256: str, share: float) -> bool:
    """Return whether an auto-finalized decision goes to a broker's spot check.

    A fixed draw from the decision and the pack's SHA-256: the same decision is always in or
    out of the sample, and about ``share`` of all decisions are in.
    """
    if share <= 0:
        return False
    digest = hashlib.sha256(f"{pack_sha256}:{decision_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


@counters.batched
def review_system_finalize(*, decisions, pack) -> list[ReviewAction]:
    """Finalize ``classified`` decisions on the authority of ``pack`` (``auto_finalize``).

    Runs in the caller's transaction (the worker's batch commit). Each decision gets a
    ``system_finalize`` action naming the pack's id, version and SHA-256, its product's final
    code, an audit event under the pack's name and a ``decision.finalized`` event with
    ``finalized_by: "system"`` and the authority. ``pack.spot_check`` of them stay in the
    Spot check queue until a broker confirms or corrects them.
    """
    ids = [d.pk for d in decisions if d.outcome == "classified" and d.selected_code]
    states = (
        ReviewState.objects.select_for_update(of=("self",))
        .select_related("decision", "product", "tenant")
        .filter(pk__in=ids, status=ReviewStatus.OPEN, queue="confirm")
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
        sampled = spot_check_sampled(decision.pk, decision.rule_pack_sha256, pack.spot_check)
        if sampled:
            state.spot_check = SpotCheck.PENDING
        action = _finalize(
            state,
            actor=None,
            kind=ActionKind.SYSTEM_FINALIZE,
            code=decision.selected_code,
            authority=authority,
            queue="spot_check" if sampled else "final",
            data={"spot_check": SpotCheck.PENDING} if sampled else None,
        )
        actions.append(action)
    counters.add_many((a.tenant_id, counters.AUTO_FINALIZED, 1) for a in actions)
    return actions


def _require_release(actor, state: ReviewState, note: str) -> None:
    """Blocked goods (denied, or a blocking restriction) are released by a compliance lead only,
    with a written justification; ``ValidationError`` otherwise."""
    entries = blocked_goods(state.decision)
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
    if not blocked_goods(state.decision) or not four_eyes(state.decision):
        return None
    pending = pending_sign_off(state)
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


def _confirm_spot_check(actor, state: ReviewState, note: str) -> ReviewAction:
    """A broker confirms an auto-finalized decision drawn for a spot check (undoable)."""
    before = _before(state)
    state.spot_check = SpotCheck.CONFIRMED
    state.queue = "final"
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


def _countersigned(state: ReviewState) -> dict:
    pending = pending_sign_off(state) if blocked_goods(state.decision) else None
    if pending is None:
        return {}
    return {"data": {"signed_off_by": pending.actor.get_username() if pending.actor else ""}}


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
    state.queue = "blocked" if state.outcome == "blocked" else "needs_review"
    state.final_code = ""
    state.decided_by = None
    state.decided_at = None
    action = _append(state, actor=actor, kind=ActionKind.REOPEN, code=code, note=note.strip())
    catalog_services.product_set_classification(
        product=state.product,
        status=ClassificationStatus.BLOCKED
        if state.outcome == "blocked"
        else ClassificationStatus.NEEDS_REVIEW,
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
        last = last_action(other) if other is not None else None
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
    last = last_action(state)
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


def _sniff(upload) -> str | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type in EVIDENCE_TYPES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def evidence_files_check(files) -> list[tuple[object, str]]:
    """Return ``(upload, content type)`` for each file, or raise ``ValidationError({"files"})``
    naming every file that is too large or not a PDF or image (checked by content)."""
    return _check_files(files)


def _check_files(files) -> list[tuple[object, str]]:
    files = list(files or [])
    if len(files) > MAX_EVIDENCE_FILES:
        raise ValidationError(
            {"files": f"{len(files)} files attached; at most {MAX_EVIDENCE_FILES} are accepted."}
        )
    checked, problems = [], []
    for upload in files:
        if upload.size > MAX_EVIDENCE_BYTES:
            problems.append(
                f"{upload.name} is {upload.size // 1024} KB, above the limit of "
                f"{MAX_EVIDENCE_BYTES // (1024 * 1024)} MB."
            )
            continue
        content_type = _sniff(upload)
        if content_type is None:
            problems.append(f"{upload.name} is not a PDF or an image (PNG, JPEG, GIF, WebP).")
            continue
        checked.append((upload, content_type))
    if problems:
        raise ValidationError({"files": problems})
    return checked


def evidence_files_store(model, checked, **owner) -> list:
    """Save checked uploads as ``model`` rows (an evidence file model with ``name``,
    ``content_type``, ``size``, ``sha256`` and ``file``), each with ``owner``'s fields
    (tenant and the action or link it belongs to); stored under their SHA-256's prefix."""
    stored = []
    for upload, content_type in checked:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        row = model(
            **owner,
            name=upload.name[-200:],
            content_type=content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
        )
        row.file.save(f"{digest.hexdigest()[:16]}-{upload.name[-80:]}", upload, save=False)
        row.full_clean()
        row.save()
        stored.append(row)
    return stored


def _store_files(action: ReviewAction, checked) -> list[EvidenceFile]:
    stored = evidence_files_store(EvidenceFile, checked, tenant_id=action.tenant_id, action=action)
    counters.add_many(
        [
            (action.tenant_id, counters.EVIDENCE_FILES, len(stored)),
            (action.tenant_id, counters.EVIDENCE_BYTES, sum(e.size for e in stored)),
        ]
    )
    return stored


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
    state.queue = "info_requested"
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
        state.queue = "closed"
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


@transaction.atomic
@counters.batched
def review_assign(*, actor, state: ReviewState, version: int, release: bool = False):
    """Assign the item to ``actor`` (or release it); guarded by the version like any action.

    Only the assignee or a compliance lead may release an item someone else holds.
    """
    state = _lock(state, version)
    _require_status(state, OPEN_STATUSES, "released" if release else "assigned")
    _require_decider(actor, state)
    if release:
        _require(
            state.assignee_id is not None,
            "__all__",
            "This item is not assigned to anyone.",
        )
        _require(
            state.assignee_id == actor.pk
            or user_has_tenant_perm(actor, state.tenant, "resolve_escalations"),
            "__all__",
            f"This item is assigned to {state.assignee}; only they or a compliance lead may "
            "release it.",
        )
        previous = state.assignee
        state.assignee = None
    else:
        previous = state.assignee
        state.assignee = actor
    action = _append(state, actor=actor, kind=ActionKind.RELEASE if release else ActionKind.ASSIGN)
    audit.record(
        actor=actor,
        verb="classification.review.released" if release else "classification.review.assigned",
        target=state.decision,
        tenant=state.tenant,
        data={
            "sku": state.product.sku,
            "assignee": state.assignee.get_username() if state.assignee else None,
            "previous": previous.get_username() if previous else None,
        },
    )
    if not release:
        notices.assigned(state, actor=actor)
    return action


@transaction.atomic
@counters.batched
def review_grant_decider(*, actor, state: ReviewState, version: int, username: str):
    """Let one member of the tenant decide this escalated item (a per-object grant).

    The grantee must be a member of the state's tenant (else ``ValidationError``, without saying
    whether the user exists elsewhere); the grant never replaces the tenant check. Audited.
    """
    state = _lock(state, version)
    _require_status(state, (ReviewStatus.ESCALATED,), "granted to another person")
    _require(
        user_has_tenant_perm(actor, state.tenant, "resolve_escalations"),
        "__all__",
        "Only a compliance lead may grant the right to decide an escalated item.",
    )
    membership = (
        Membership.objects.filter(tenant=state.tenant, user__username=username)
        .select_related("user")
        .first()
    )
    _require(
        membership is not None,
        "username",
        f"{username!r} is not a member of {state.tenant.name}.",
    )
    user = membership.user
    assign_perm("classification.decide_escalated", user, state)
    action = _append(state, actor=actor, kind=ActionKind.GRANT, data={"user": user.get_username()})
    audit.record(
        actor=actor,
        verb="classification.review.granted",
        target=state.decision,
        tenant=state.tenant,
        data={"sku": state.product.sku, "user": user.get_username(), "role": membership.role},
    )
    notices.granted(state, actor=actor, user=user)
    return action


@dataclass
class BulkResult:
    accepted: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # (sku, why)


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
        why = bulk_refusal(state) or stale_facts(state)
        if why is None and state.version != versions[state.pk]:
            why = conflict_message(state, last_action(state)).split(";")[0]
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


def _golden_facts(state: ReviewState) -> dict:
    facts = dict(state.decision.product_version.facts)
    return {k: v for k, v in facts.items() if v not in (None, "", [])}


@transaction.atomic
@counters.batched
def review_promote_golden(*, actor, state: ReviewState, version: int):
    """Add a final decision's facts and final code as a golden case to a draft rule pack.

    Uses the rule packs app's service (a draft is created from the active pack when none
    exists). Raises ``ValidationError`` when the decision is not final or the rule packs app
    refuses the case; ``StaleAction`` for a stale version. Audited here and by rule packs.
    """
    state = _lock(state, version)
    _require_status(state, (ReviewStatus.FINAL,), "promoted to a golden case")
    pack = promote.rulepacks_promote_golden(
        actor=actor,
        tenant=state.tenant,
        jurisdiction=state.jurisdiction,
        case_id=f"decision-{state.pk}",
        facts=_golden_facts(state),
        code=state.final_code,
        outcome="classified",
    )
    action = _append(
        state,
        actor=actor,
        kind=ActionKind.PROMOTE,
        code=state.final_code,
        data={"rule_pack": pack.pk, "rule_pack_version": pack.version},
    )
    audit.record(
        actor=actor,
        verb="classification.review.promoted",
        target=state.decision,
        tenant=state.tenant,
        data={"sku": state.product.sku, "code": state.final_code, "rule_pack": pack.pk},
    )
    return action
