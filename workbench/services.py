"""Writes for tenancy: tenants and memberships, each audited in the same transaction."""

from django.core.exceptions import ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

import audit
from workbench.models import Membership, Tenant
from workbench.roles import PERMISSIONS, ROLE_PERMISSIONS, Role, perm


@transaction.atomic
def tenant_create(*, actor, slug: str, name: str) -> Tenant:
    """Create a tenant and record ``workbench.tenant.created``.

    Raises ``ValidationError`` for a bad or taken slug.
    """
    tenant = Tenant(slug=slug, name=name)
    tenant.full_clean()
    tenant.save()
    audit.record(
        actor=actor,
        verb="workbench.tenant.created",
        target=tenant,
        tenant=tenant,
        data={"slug": slug, "name": name},
    )
    return tenant


def _sync_permissions(user, tenant, role: str | None) -> None:
    granted = ROLE_PERMISSIONS.get(role, frozenset()) if role else frozenset()
    for codename in PERMISSIONS:
        if codename in granted:
            assign_perm(perm(codename), user, tenant)
        else:
            remove_perm(perm(codename), user, tenant)


@transaction.atomic
def membership_set(*, actor, tenant: Tenant, user, role: str) -> Membership:
    """Give ``user`` the ``role`` in ``tenant`` (creating or changing the membership).

    Grants exactly the role's guardian permissions on the tenant and revokes every other
    tenant permission, then records ``workbench.membership.created`` or ``…role_changed``.
    Raises ``ValidationError`` for an unknown role.
    """
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role ({', '.join(Role.values)})."})
    membership = Membership.objects.select_for_update().filter(tenant=tenant, user=user).first()
    old_role = membership.role if membership else None
    if membership is None:
        membership = Membership(tenant=tenant, user=user, role=role)
        membership.full_clean()
        membership.save()
        verb = "workbench.membership.created"
    elif old_role != role:
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        verb = "workbench.membership.role_changed"
    _sync_permissions(user, tenant, role)
    if old_role != role:
        audit.record(
            actor=actor,
            verb=verb,
            target=membership,
            tenant=tenant,
            data={"user": user.get_username(), "role": [old_role, role]},
        )
    return membership


@transaction.atomic
def membership_remove(*, actor, membership: Membership) -> None:
    """Remove a membership and every tenant permission it granted; audited.

    Refuses to remove the tenant's last tenant admin.
    """
    tenant, user = membership.tenant, membership.user
    if membership.role == Role.TENANT_ADMIN and not (
        Membership.objects.filter(tenant=tenant, role=Role.TENANT_ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError({"role": "A tenant keeps at least one tenant admin."})
    _sync_permissions(user, tenant, None)
    audit.record(
        actor=actor,
        verb="workbench.membership.removed",
        target=membership,
        tenant=tenant,
        data={"user": user.get_username(), "role": [membership.role, None]},
    )
    membership.delete()
