"""Pages of the workbench shell: home (tenant list), tenant dashboard, members and invitations,
health check."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from workbench import dashboard, forms, markdown, selectors, services
from workbench.access import tenant_object, tenant_view
from workbench.models import Invitation, Membership

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
    """List members and pending invitations; change a member's role or invite a person.

    A name that is not a member of this tenant always gets an invitation, whether or not an
    account of that name exists anywhere: the answer must not tell one from the other.
    """
    form = forms.MembershipForm(request.POST or None)
    invited = link = None
    if request.method == "POST" and form.is_valid():
        name, role = form.cleaned_data["invitee"], form.cleaned_data["role"]
        member = selectors.tenant_member_named(request.tenant, name)
        try:
            if member is not None:
                services.membership_set(
                    actor=request.user, tenant=request.tenant, user=member.user, role=role
                )
            else:
                invited, token = services.invitation_create(
                    actor=request.user, tenant=request.tenant, invitee=name, role=role
                )
        except ValidationError as err:
            form.add_error(None, err)
        else:
            if member is not None:
                messages.success(request, f"{member.user} is now {role.replace('_', ' ')}.")
                return redirect("members", tenant_slug=request.tenant.slug)
            # The link is shown once, in this answer; only its hash is kept.
            link = request.build_absolute_uri(reverse("invitation_accept", args=[token]))
            form = forms.MembershipForm()
    context = {
        "form": form,
        "members": selectors.tenant_members(request.tenant),
        "invitations": selectors.pending_invitations(request.tenant),
        "invited": invited,
        "invite_link": link,
    }
    return render(request, "workbench/members.html", context, status=422 if form.errors else 200)


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


@tenant_view("manage_members")
@require_http_methods(["POST"])
def invitation_revoke(request, pk: int):
    """Revoke a pending invitation (tenant admins): its link stops working."""
    invitation = tenant_object(request, Invitation.objects.all(), pk=pk)
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
    else:
        messages.success(request, f"The invitation for {invitation.invitee} is revoked.")
    return redirect("members", tenant_slug=request.tenant.slug)


# The link's holder learns why a link cannot be used (it is theirs), never whom it names.
_REFUSAL_STATUS = {"unknown": 404, "wrong_account": 403, "member": 409, "account_exists": 409}


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    """Show an invitation and, on POST, make the holder a member: the logged-in user, or someone
    without an account, whose account the invitation creates with the password they set."""
    if not request.user.is_authenticated:
        return _invitation_new_account(request, token)
    invitation = selectors.invitation_by_token(token)
    refusal = services.invitation_refusal(invitation, request.user)
    if refusal is None and request.method == "POST":
        try:
            membership = services.invitation_accept(user=request.user, token=token)
        except ValidationError as err:
            refusal = err
        else:
            messages.success(
                request,
                f"Welcome to {membership.tenant.name}: you are {membership.get_role_display()}.",
            )
            return redirect("tenant_dashboard", tenant_slug=membership.tenant.slug)
    context = {"invitation": None if refusal else invitation, "refusal": refusal}
    status = _REFUSAL_STATUS.get(refusal.code, 410) if refusal else 200
    return render(request, "workbench/invitation_accept.html", context, status=status)


def _invitation_new_account(request, token: str):
    invitation = selectors.invitation_by_token(token)
    refusal = services.invitation_refusal(invitation, None)
    form = forms.NewAccountForm(request.POST or None)
    if refusal is None and request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept_new_account(
                token=token, password=form.cleaned_data["password1"]
            )
        except ValidationError as err:
            # A refusal of the invitation carries a code; the password validators' list none.
            if getattr(err, "code", None):
                refusal = err
            else:
                form.add_error("password1", err)
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            membership = user.memberships.select_related("tenant").get()
            messages.success(
                request,
                f"Welcome to {membership.tenant.name}: you are {membership.get_role_display()}.",
            )
            return redirect("tenant_dashboard", tenant_slug=membership.tenant.slug)
    context = {
        "invitation": None if refusal else invitation,
        "refusal": refusal,
        "form": form,
        "account": None if refusal else services.invitation_new_account(invitation),
        "login_url": f"{reverse('login')}?next={request.path}",
    }
    status = _REFUSAL_STATUS.get(refusal.code, 410) if refusal else (422 if form.errors else 200)
    return render(request, "workbench/invitation_accept.html", context, status=status)


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on their own: send them to the static icon."""
    return redirect(static("favicon.ico"), permanent=True)


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


@require_GET
def rule_pack_help(request):
    """Show the rule-pack format (``docs/rule-packs.md``) rendered as a page."""
    source = (settings.BASE_DIR / "docs" / "rule-packs.md").read_text(encoding="utf-8")
    # markdown.render escapes every character of the source before adding its own markup.
    body = mark_safe(markdown.render(source))  # noqa: S308
    return render(request, "workbench/help.html", {"body": body, "title": "Rule-pack format"})
