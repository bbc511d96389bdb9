"""Access helpers of the audit app: fetch objects only inside ``request.tenant``."""

from audit.models import AuditExport
from workbench.access import tenant_object


def export_for_user(request, pk: int) -> AuditExport:
    """Return the tenant's audit export ``pk`` (payload deferred) or raise 404.

    The view's ``tenant_view`` decorator has already checked the permission.
    """
    return tenant_object(request, AuditExport.objects.defer("payload"), pk=pk)
