"""Template context shared by every page: the current tenant, role and the user's tenants."""

from workbench import selectors
from workbench.roles import PERMISSIONS


def tenancy(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    tenant = getattr(request, "tenant", None)
    perms = {}
    if tenant is not None:
        from workbench.access import tenant_perms

        held = tenant_perms(request)
        perms = {codename: codename in held for codename in PERMISSIONS}
    return {
        "current_tenant": tenant,
        "current_membership": getattr(request, "membership", None),
        "tenant_perms": perms,
        "my_memberships": selectors.memberships_for_user(user),
    }
