"""Writes of the review workbench: every broker action is one transaction, one action, one event.

Each action locks the decision's ``ReviewState``, compares the version the reviewer saw with the
current one (``StaleAction`` when someone acted first: nothing is written), appends a
``ReviewAction``, updates the state, and records its audit event in the same transaction. The
decision itself never changes: the broker's action is the final classification and the engine's
suggestion stays advice beside it.
"""

import hashlib
import re
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
    MAX_PRODUCTS_PER_REQUEST,
    ActionKind,
    EvidenceFile,
    OverrideReason,
    RequestSource,
    ReviewAction,
    ReviewState,
    ReviewStatus,
    Route,
)
from classification.review import selectors as review_selectors
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
RULING_RE = re.compile(r"^[A-Z]{1,3} ?[A-Z]?\d{5,7}$")
BULK_REASONS = frozenset({routing.LOW_CONFIDENCE, routing.TIE})
BULK_LIMIT = 200
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


def _append(state: ReviewState, *, actor, kind: str, **fields) -> ReviewAction:
    now = timezone.now()
    state.version += 1
    state.updated_at = now
    # Foreign keys and uniqueness are the database's to enforce; skip their per-field queries.
    state.full_clean(exclude=_STATE_FKS, validate_unique=False, validate_constraints=False)
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
    return action


def _link(state: ReviewState) -> str:
    return f"/t/{state.tenant.slug}/classification/review/{state.pk}/"


def _announce(event_type: str, state: ReviewState, **payload) -> None:
    """Queue an outbox event for other systems in the caller's transaction.

    The single place review actions announce themselves (``decision.finalized``,
    ``decision.escalated``, ``decision.info_requested``).
    """
    outbox.emit(
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


def _finalize(state: ReviewState, *, actor, kind: str, code: str, **fields) -> ReviewAction:
    was = state.status
    now = timezone.now()
    state.status = ReviewStatus.FINAL
    state.queue = "final"
    state.final_code = code
    state.decided_by = actor
    state.decided_at = now
    state.assignee = None
    state.missing_facts = []
    action = _append(state, actor=actor, kind=kind, code=code, **fields)
    catalog_services.product_set_classification(
        product=state.product,
        status=ClassificationStatus.FINAL,
        final_code=code,
        final_facts_sha256=state.decision.product_version.sha256,
    )
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
    verb = "accepted" if kind == ActionKind.ACCEPT else "overridden"
    audit.record(
        actor=actor,
        verb=f"classification.review.{verb}",
        target=state.decision,
        tenant=state.tenant,
        data=data,
    )
    _announce(
        "decision.finalized",
        state,
        final_code=code,
        suggested_code=state.decision.selected_code,
        decided_by=actor.get_username() if actor else "",
        decided_at=now.isoformat(),
    )
    return action


@transaction.atomic
def review_accept(*, actor, state: ReviewState, version: int, note: str = "") -> ReviewAction:
    """Make the suggested code final for the decision's product.

    Guarantees: the state was at ``version`` (else ``StaleAction``, nothing written); the item is
    open or escalated and ``actor`` may decide it; one ``accept`` action, the product's final
    code and status, and a ``classification.review.accepted`` event commit together.
    """
    state = _lock(state, version)
    _require_status(state, (ReviewStatus.OPEN, ReviewStatus.ESCALATED), "accepted")
    _require_decider(actor, state)
    _require_current_facts(state)
    _require(
        bool(state.decision.selected_code),
        "__all__",
        "The engine suggested no code, so there is nothing to accept: override with a code.",
    )
    return _finalize(
        state, actor=actor, kind=ActionKind.ACCEPT, code=state.decision.selected_code, note=note
    )


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


def _store_files(action: ReviewAction, checked) -> list[EvidenceFile]:
    stored = []
    for upload, content_type in checked:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        evidence = EvidenceFile(
            tenant_id=action.tenant_id,
            action=action,
            name=upload.name[-200:],
            content_type=content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
        )
        evidence.file.save(f"{digest.hexdigest()[:16]}-{upload.name[-80:]}", upload, save=False)
        evidence.full_clean()
        evidence.save()
        stored.append(evidence)
    return stored


@transaction.atomic
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
    reason is known, the note is not blank, a ruling reference looks like ``NY N312345``, and
    evidence files are PDFs or images within the size limit (checked by content, stored with
    their SHA-256); otherwise ``ValidationError`` by field and nothing is written. Stale
    versions raise ``StaleAction``. Audited as ``classification.review.overridden``.
    """
    state = _lock(state, version)
    _require_status(state, (ReviewStatus.OPEN, ReviewStatus.ESCALATED), "overridden")
    _require_decider(actor, state)
    _require_current_facts(state)
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
    ruling = " ".join((ruling_reference or "").upper().split())
    if ruling and not RULING_RE.match(ruling):
        errors["ruling_reference"] = [
            f"{ruling_reference!r} is not a ruling reference such as “NY N312345”."
        ]
    try:
        checked = _check_files(files)
    except ValidationError as err:
        errors.update(err.message_dict)
    if errors:
        raise ValidationError(errors)
    action = _finalize(
        state,
        actor=actor,
        kind=ActionKind.OVERRIDE,
        code=digits,
        reason_code=reason_code,
        note=note.strip(),
        ruling_reference=ruling,
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
    return action


@transaction.atomic
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
    return action


@transaction.atomic
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
    return action


@dataclass
class BulkResult:
    accepted: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # (sku, why)


def bulk_refusal(state: ReviewState) -> str | None:
    """Say why an item may not be bulk-accepted, or None when it may."""
    extra = set(state.reasons) - BULK_REASONS
    if state.status != ReviewStatus.OPEN or state.outcome != "needs_review":
        return f"it is {state.get_status_display().lower()}, not an open review item"
    if not state.decision.selected_code:
        return "the engine suggested no code"
    if state.risk_rank > 1:
        return f"its risk is {state.decision.get_risk_band_display().lower()}"
    if extra:
        labels = ", ".join(routing.REASON_LABELS.get(r, r).lower() for r in sorted(extra))
        return f"it needs review for {labels}"
    flags = state.decision.evidence.get("flags") or {}
    flagged = sorted(k for k, v in flags.items() if v)
    if flagged:
        return "the code carries flags (" + ", ".join(f.replace("_", " ") for f in flagged) + ")"
    return None


@transaction.atomic
def review_bulk_accept(*, actor, tenant, items, note: str) -> BulkResult:
    """Accept many low-risk items whose only reasons are low confidence or a tie, in one go.

    ``items`` are ``(decision_id, version)`` pairs. Items with other reasons (restrictions,
    denied goods, flags), higher risk, no suggested code, a stale version or of another tenant
    are refused with a message each; the rest are accepted in this one transaction, each with
    its own action and audit event sharing ``note``. Raises ``ValidationError`` when the note is
    blank, nothing is selected, or more than ``BULK_LIMIT`` items are.
    """
    if not (note or "").strip():
        raise ValidationError({"note": "Write the note shared by the accepted items."})
    versions = {int(pk): int(v) for pk, v in items}
    if not versions:
        raise ValidationError({"items": "Select the items to accept."})
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
        result.refused.append(("—", f"{missing} selected items are not in this tenant's queues"))
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
