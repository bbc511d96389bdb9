import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from tests.factories import UserFactory
from workbench import services
from workbench.roles import ROLE_PERMISSIONS, Role, perm


def _perms(user, tenant):
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    return {
        codename
        for codename in ROLE_PERMISSIONS[Role.COMPLIANCE_LEAD] | ROLE_PERMISSIONS[Role.TENANT_ADMIN]
        if user.has_perm(perm(codename), tenant)
    }


def test_each_role_grants_exactly_its_permissions(cast):
    for role, user in cast.users.items():
        assert _perms(user, cast.tenant) == ROLE_PERMISSIONS[role], role


def test_changing_a_role_revokes_what_the_old_role_had(cast):
    user = cast.users[Role.COMPLIANCE_LEAD]
    services.membership_set(
        actor=cast.users[Role.TENANT_ADMIN], tenant=cast.tenant, user=user, role=Role.AUDITOR
    )
    assert _perms(user, cast.tenant) == ROLE_PERMISSIONS[Role.AUDITOR]
    event = AuditEvent.objects.get(verb="workbench.membership.role_changed")
    assert event.data["role"] == ["compliance_lead", "auditor"]
    assert event.actor == cast.users[Role.TENANT_ADMIN]


def test_permissions_on_one_tenant_mean_nothing_on_another(cast):
    assert _perms(cast.users[Role.COMPLIANCE_LEAD], cast.other_tenant) == set()


def test_an_unknown_role_is_refused_and_nothing_is_written(cast):
    user = UserFactory(username="someone")
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="is not a role"):
        services.membership_set(actor=None, tenant=cast.tenant, user=user, role="superuser")
    assert AuditEvent.objects.count() == before
    assert not user.memberships.exists()


def test_the_last_tenant_admin_cannot_be_removed(cast):
    membership = cast.users[Role.TENANT_ADMIN].memberships.get()
    with pytest.raises(ValidationError, match="at least one tenant admin"):
        services.membership_remove(actor=None, membership=membership)


def test_removing_a_member_revokes_everything(cast):
    user = cast.users[Role.BROKER]
    services.membership_remove(actor=None, membership=user.memberships.get())
    assert _perms(user, cast.tenant) == set()
    assert AuditEvent.objects.filter(verb="workbench.membership.removed").exists()
