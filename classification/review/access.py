"""Access helpers of the review workbench: the tenant first, then the right to act.

A decision of another tenant is a 404, exactly like one that does not exist. Reading needs
``read_tenant``; acting needs ``review_decisions`` (brokers), ``resolve_escalations``
(compliance leads), or a django-guardian grant on this one review state (for example a legal
counsel who is an auditor in the tenant). Whether this actor may decide the item *as it now
stands* (escalated items) is the service's check, made after the version check, so a reviewer
who acted on stale data hears about the conflict rather than a bare refusal.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from classification.models import ReviewState, ReviewStatus
from classification.review import selectors
from workbench.access import has_perm


def review_state(request, pk: int) -> ReviewState:
    """Return the current tenant's review state of decision ``pk``, or raise 404."""
    try:
        return selectors.state_for_panel(request.tenant, pk)
    except ReviewState.DoesNotExist:
        raise Http404("No such decision.") from None


def has_object_grant(request, state: ReviewState) -> bool:
    """Return whether the user was granted the right to decide this one escalated item."""
    return request.user.has_perm("classification.decide_escalated", state)


def review_state_to_act(request, pk: int) -> ReviewState:
    """Return the state of decision ``pk`` for a review action, or raise 404 / 403.

    The tenant check comes first (404); then the user needs a review right in the tenant or a
    per-object grant on this state (403 otherwise).
    """
    state = review_state(request, pk)
    if not (
        has_perm(request, "review_decisions")
        or has_perm(request, "resolve_escalations")
        or has_object_grant(request, state)
    ):
        raise PermissionDenied("Your role does not allow review actions.")
    return state


def require_any(request, *codenames: str) -> None:
    """Raise 403 unless the member holds at least one of ``codenames`` on the tenant."""
    if not any(has_perm(request, c) for c in codenames):
        raise PermissionDenied("Your role does not allow this.")


def may_decide(request, state: ReviewState) -> bool:
    """Return whether the user may accept or override ``state`` as it stands (for the panel).

    The same rule as ``selectors.may_decide``, from the request's cached tenant permissions.
    """
    if state.status == ReviewStatus.ESCALATED:
        return has_perm(request, "resolve_escalations") or has_object_grant(request, state)
    return has_perm(request, "review_decisions")
