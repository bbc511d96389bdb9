"""Who holds an item, and who may decide an escalated one."""

from django.db import transaction
from guardian.shortcuts import assign_perm

import audit
from classification.models import ActionKind, ReviewState, ReviewStatus
from classification.review import notices
from classification.review.services._base import (
    OPEN_STATUSES,
    _append,
    _lock,
    _require,
    _require_decider,
    _require_status,
)
from metering import counters
from workbench.access import user_has_tenant_perm
from workbench.models import Membership


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
