"""Access helpers of follow-up: a question (review item) or link of the current tenant, or 404."""

from django.http import Http404

from followup import selectors
from followup.models import SupplierFile, SupplierLink
from workbench.access import tenant_object


def question_for_request(request, pk: int):
    """Return the tenant's review item ``pk`` with its question, or raise 404."""
    state = selectors.question(request.tenant, pk)
    if state is None:
        raise Http404("No such item.")
    return state


def link_for_request(request, pk: int) -> SupplierLink:
    """Return the tenant's supplier link ``pk``, or raise 404."""
    return tenant_object(request, SupplierLink.objects.select_related("tenant"), pk=pk)


def file_for_request(request, pk: int) -> SupplierFile:
    """Return a file a supplier sent to this tenant, or raise 404."""
    return tenant_object(request, SupplierFile.objects.all(), pk=pk)
