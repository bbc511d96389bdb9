"""Request middleware: login everywhere, and the tenant resolved from ``/t/<tenant_slug>/``."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from workbench.models import Membership

# Paths served without a login (prefix match).
PUBLIC_PREFIXES = ("/accounts/login/", "/healthz", "/static/", "/api/")


class LoginRequiredMiddleware:
    """Send anonymous users to the login page for every page but login and /healthz."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)


class TenantMiddleware:
    """Resolve ``request.tenant`` and ``request.membership`` for tenant URLs.

    A user who is not a member gets the same 404 as for a tenant that does not exist, so the
    existence of other tenants is never revealed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("tenant_slug")
        if slug is None or not request.user.is_authenticated:
            return None
        membership = (
            Membership.objects.select_related("tenant")
            .filter(tenant__slug=slug, user=request.user, user__is_active=True)
            .first()
        )
        if membership is None:
            raise Http404("No such tenant.")
        request.tenant = membership.tenant
        request.membership = membership
        return None
