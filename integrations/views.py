"""Integration pages: webhook endpoints and their delivery logs, API tokens.

Secrets (a new token, an endpoint's signing secret) are rendered in the response to the POST
that made them, never redirected to or stored in the session, so they are shown exactly once.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations import access, delivery, forms, selectors, services
from integrations.models import DeliveryStatus
from workbench.access import has_perm, tenant_view


def _apply_errors(form, err: ValidationError) -> None:
    for field, errors in err.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@tenant_view("manage_integrations")
@require_GET
def index(request):
    """List the tenant's webhook endpoints with their open and dead delivery counts."""
    endpoints = selectors.endpoints_with_counts(request.tenant)
    context = {
        "endpoints": endpoints,
        "can_manage_tokens": has_perm(request, "manage_api_tokens"),
    }
    return render(request, "integrations/index.html", context)


@tenant_view("manage_integrations")
@require_http_methods(["GET", "POST"])
def endpoint_create(request):
    """Register a webhook endpoint; the signing secret is shown once in the answer."""
    form = forms.EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.endpoint_create(
                actor=request.user, tenant=request.tenant, **form.cleaned_data
            )
        except ValidationError as err:
            _apply_errors(form, err)
        else:
            return _endpoint_page(request, endpoint, secret=secret, status=201)
    status = 422 if form.errors else 200
    context = {"form": form, "endpoint": None}
    return render(request, "integrations/endpoint_form.html", context, status=status)


def _endpoint_page(request, endpoint, *, secret: str | None = None, status: int = 200):
    wanted = request.GET.get("status")
    wanted = wanted if wanted in DeliveryStatus.values else None
    context = {
        "endpoint": endpoint,
        "secret": secret,
        "deliveries": selectors.deliveries_for(endpoint, status=wanted),
        "statuses": DeliveryStatus.choices,
        "wanted": wanted,
    }
    return render(request, "integrations/endpoint_detail.html", context, status=status)


@tenant_view("manage_integrations")
@require_GET
def endpoint_detail(request, pk: int):
    """Show an endpoint's settings and its delivery log (filterable by status)."""
    return _endpoint_page(request, access.endpoint_for_request(request, pk))


@tenant_view("manage_integrations")
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, pk: int):
    """Change an endpoint's URL, events, description or enabled flag."""
    endpoint = access.endpoint_for_request(request, pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "enabled": endpoint.enabled,
    }
    form = forms.EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(actor=request.user, endpoint=endpoint, **form.cleaned_data)
        except ValidationError as err:
            _apply_errors(form, err)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("integrations:endpoint", tenant_slug=request.tenant.slug, pk=pk)
    status = 422 if form.errors else 200
    context = {"form": form, "endpoint": endpoint}
    return render(request, "integrations/endpoint_form.html", context, status=status)


@tenant_view("manage_integrations")
@require_POST
def endpoint_rotate_secret(request, pk: int):
    """Give the endpoint a new signing secret, shown once in the answer."""
    endpoint = access.endpoint_for_request(request, pk)
    endpoint, secret = services.endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
    return _endpoint_page(request, endpoint, secret=secret)


@tenant_view("manage_integrations")
@require_POST
def endpoint_test(request, pk: int):
    """Queue a signed test event to the endpoint."""
    endpoint = access.endpoint_for_request(request, pk)
    if not endpoint.enabled:
        messages.error(request, "The endpoint is disabled: enable it to send a test event.")
    else:
        sent = delivery.endpoint_send_test(actor=request.user, endpoint=endpoint)
        messages.success(request, f"Test event {sent.event_id} queued; its result appears below.")
    return redirect("integrations:endpoint", tenant_slug=request.tenant.slug, pk=pk)


@tenant_view("manage_integrations")
@require_GET
def delivery_detail(request, pk: int):
    """Show one delivery: the envelope sent and every attempt's answer."""
    item = access.delivery_for_request(request, pk)
    context = {
        "delivery": item,
        "attempts": list(item.log.all()),
        "body": delivery.body_bytes(item.envelope).decode(),
    }
    return render(request, "integrations/delivery_detail.html", context)


@tenant_view("manage_integrations")
@require_POST
def delivery_redeliver(request, pk: int):
    """Queue the delivery's event to its endpoint again."""
    item = access.delivery_for_request(request, pk)
    copy = delivery.delivery_redeliver(actor=request.user, delivery=item)
    messages.success(request, f"Event {item.event_id} queued again.")
    return redirect("integrations:delivery", tenant_slug=request.tenant.slug, pk=copy.pk)


@tenant_view("manage_api_tokens")
@require_http_methods(["GET", "POST"])
def tokens(request):
    """List API tokens and create one; a new token's secret is shown once in the answer."""
    form = forms.TokenForm(request.POST or None)
    created, plaintext = None, None
    if request.method == "POST" and form.is_valid():
        try:
            created, plaintext = services.token_create(
                actor=request.user,
                tenant=request.tenant,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
            )
        except ValidationError as err:
            _apply_errors(form, err)
        else:
            form = forms.TokenForm()
    context = {
        "form": form,
        "tokens": selectors.tokens_for(request.tenant),
        "created": created,
        "plaintext": plaintext,
        "now": timezone.now(),
    }
    status = 201 if created else (422 if form.errors else 200)
    return render(request, "integrations/tokens.html", context, status=status)


@tenant_view("manage_api_tokens")
@require_POST
def token_revoke(request, pk: int):
    """Revoke an API token at once."""
    token = services.token_revoke(actor=request.user, token=access.token_for_request(request, pk))
    messages.success(request, f"Token {token.prefix}… revoked; requests with it now get 401.")
    return redirect("integrations:tokens", tenant_slug=request.tenant.slug)
