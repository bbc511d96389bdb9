"""Pages of the workbench shell: home (tenant list), tenant dashboard, members, health check."""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from workbench import dashboard, forms, selectors, services
from workbench.access import tenant_object, tenant_view
from workbench.models import Membership

log = logging.getLogger(__name__)


def home(request):
    """List the user's tenants; with exactly one, go straight to its dashboard."""
    memberships = list(selectors.memberships_for_user(request.user))
    if len(memberships) == 1 and not request.GET.get("all"):
        return redirect("tenant_dashboard", tenant_slug=memberships[0].tenant.slug)
    return render(request, "workbench/home.html", {"memberships": memberships})


@tenant_view("read_tenant")
def tenant_dashboard(request):
    """Show the tenant's headline counts."""
    return render(
        request, "workbench/dashboard.html", {"tiles": dashboard.tiles_for(request.tenant)}
    )


@tenant_view("manage_members")
@require_http_methods(["GET", "POST"])
def members(request):
    """List members and add one or change a role (tenant admins)."""
    form = forms.MembershipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_set(
                actor=request.user,
                tenant=request.tenant,
                user=form.cleaned_data["user"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as err:
            form.add_error(None, err)
        else:
            messages.success(
                request,
                f"{form.cleaned_data['user']} is now "
                f"{form.cleaned_data['role'].replace('_', ' ')}.",
            )
            return redirect("members", tenant_slug=request.tenant.slug)
    status = 422 if form.errors else 200
    context = {"form": form, "members": selectors.tenant_members(request.tenant)}
    return render(request, "workbench/members.html", context, status=status)


@tenant_view("manage_members")
@require_http_methods(["POST"])
def member_remove(request, pk: int):
    """Remove one membership (tenant admins); the last tenant admin stays."""
    membership = tenant_object(request, Membership.objects.select_related("user"), pk=pk)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
    else:
        messages.success(request, f"{membership.user} no longer belongs to {request.tenant}.")
    return redirect("members", tenant_slug=request.tenant.slug)


@never_cache
@require_GET
def healthz(request):
    """Answer 200 when the database responds, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "unhealthy"
        # Callers are anonymous: the status only; the error (host names, roles) goes to the log.
        log.exception("health check: the database did not answer")
        return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
