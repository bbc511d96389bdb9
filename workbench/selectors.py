"""Reads for tenancy."""

from django.db.models import QuerySet
from django.utils.functional import SimpleLazyObject

from workbench.models import Membership


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
