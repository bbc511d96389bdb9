"""Access helpers: fetch catalog objects of the current tenant or raise 404."""

from catalog.models import ImportBatch, Product
from workbench.access import tenant_object


def product_for_request(request, pk: int) -> Product:
    """Return the tenant's product ``pk`` with its current version, or raise 404."""
    return tenant_object(request, Product.objects.select_related("current_version"), pk=pk)


def batch_for_request(request, pk: int) -> ImportBatch:
    """Return the tenant's import batch ``pk``, or raise 404."""
    return tenant_object(request, ImportBatch.objects.select_related("created_by"), pk=pk)
