"""Reads of notifications: a person's list and unread count, only for tenants they belong to."""

from django.db.models import QuerySet

from notifications.models import EmailPreference, Kind, Notification
from workbench.models import Membership


def _visible(user) -> QuerySet:
    # A person who left a tenant no longer sees its items, not even as notifications.
    tenants = Membership.objects.filter(user=user).values("tenant_id")
    return Notification.objects.filter(recipient=user, tenant_id__in=tenants)


def notifications_for(user, *, limit: int = 100) -> list[Notification]:
    """Return ``user``'s newest notifications (their tenant alongside), newest first."""
    return list(_visible(user).select_related("tenant")[:limit])


def unread_count(user) -> int:
    """Return how many of ``user``'s notifications are unread (one indexed query)."""
    return _visible(user).filter(read_at=None).count()


def emailed_kinds(user) -> set[str]:
    """Return the kinds ``user`` receives by email (all but those they turned off)."""
    muted = EmailPreference.objects.filter(user=user, email=False).values_list("kind", flat=True)
    return set(Kind.values) - set(muted)


def notification_of(user, pk: int) -> Notification | None:
    """Return ``user``'s notification ``pk``, or None (another person's looks the same)."""
    return _visible(user).filter(pk=pk).first()


def members_with_roles(tenant, roles) -> list:
    """Return the active users holding one of ``roles`` in ``tenant``."""
    memberships = Membership.objects.filter(
        tenant=tenant, role__in=list(roles), user__is_active=True
    ).select_related("user")
    return [m.user for m in memberships.order_by("user_id")]


def member(tenant, user_id: int | None, roles):
    """Return the user ``user_id`` when they hold one of ``roles`` in ``tenant``, else None."""
    if user_id is None:
        return None
    found = (
        Membership.objects.filter(tenant=tenant, user_id=user_id, role__in=list(roles))
        .select_related("user")
        .first()
    )
    return found.user if found else None
