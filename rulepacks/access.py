"""Access helpers for rule-pack views: tenant-scoped lookups that 404 across tenants."""

from rulepacks.models import RulePack
from workbench.access import require, tenant_object


def pack_for_read(request, pk: int) -> RulePack:
    """Return the tenant's pack ``pk`` for a member who may read it; 404 otherwise."""
    require(request, "read_tenant")
    return tenant_object(request, RulePack.objects.select_related("created_by"), pk=pk)


def pack_for_authoring(request, pk: int) -> RulePack:
    """Return the tenant's pack ``pk`` for a compliance lead; 404 elsewhere, 403 without rights."""
    require(request, "manage_rulepacks")
    return tenant_object(request, RulePack.objects.all(), pk=pk)
