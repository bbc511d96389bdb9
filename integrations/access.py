"""Access helpers: fetch integration objects of the current tenant or raise 404."""

from integrations.models import ApiToken, WebhookDelivery, WebhookEndpoint
from workbench.access import tenant_object


def endpoint_for_request(request, pk: int) -> WebhookEndpoint:
    """Return the tenant's webhook endpoint ``pk``, or raise 404."""
    return tenant_object(request, WebhookEndpoint.objects.all(), pk=pk)


def delivery_for_request(request, pk: int) -> WebhookDelivery:
    """Return the tenant's delivery ``pk`` with its endpoint, or raise 404."""
    return tenant_object(request, WebhookDelivery.objects.select_related("endpoint"), pk=pk)


def token_for_request(request, pk: int) -> ApiToken:
    """Return the tenant's API token ``pk``, or raise 404."""
    return tenant_object(request, ApiToken.objects.all(), pk=pk)
