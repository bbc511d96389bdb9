"""Reads for tenancy."""

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from workbench import services
from workbench.models import Invitation, Membership


def memberships_for_user(user) -> QuerySet[Membership]:
    """Return the user's memberships with their tenants, lazily (used in every page header)."""
    return SimpleLazyObject(
        lambda: list(Membership.objects.filter(user=user).select_related("tenant"))
    )


def tenant_members(tenant) -> QuerySet[Membership]:
    """Return the tenant's memberships with users, ordered by username."""
    return (
        Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username")
    )


def tenant_member_named(tenant, name: str) -> Membership | None:
    """Return the tenant's membership whose user has username ``name`` (or that email), or None.

    Only this tenant's members are searched: the answer says nothing about other accounts.
    """
    match = Q(user__username=name)
    if "@" in name:
        match |= Q(user__email__iexact=name)
    return (
        Membership.objects.filter(match, tenant=tenant)
        .select_related("user")
        .order_by("user__username")
        .first()
    )


def pending_invitations(tenant) -> QuerySet[Invitation]:
    """Return the tenant's invitations not yet accepted, revoked or expired, newest first."""
    return (
        Invitation.objects.filter(
            tenant=tenant, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
        )
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitation_by_token(token: str) -> Invitation | None:
    """Return the invitation whose link carries ``token`` (any state), or None."""
    return (
        Invitation.objects.select_related("tenant", "invited_by")
        .filter(token_sha256=services.invitation_digest(token))
        .first()
    )
