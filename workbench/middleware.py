"""Request middleware: the Content-Security-Policy, login everywhere, and the tenant resolved
from ``/t/<tenant_slug>/``."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseBadRequest, JsonResponse

from workbench import uploads
from workbench.models import Membership


def csp_header(policy: dict[str, list[str]]) -> str:
    """Return the header value for a policy given as ``{directive: [source, …]}``."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Send ``settings.SECURE_CSP`` as the Content-Security-Policy of every response.

    First in the middleware list, so that static files, refusals by other middleware and error
    pages carry it too. A view that sets its own header keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = csp_header(settings.SECURE_CSP)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.header)
        return response


# Paths served without a login (prefix match).
# /metrics answers only its bearer token (metering/prometheus.py), never a session.
# /supplier/ answers only a valid link's token, and reaches only that link's item
# (followup/views.py); /invitations/ only a valid invitation's (workbench/views.py).
PUBLIC_PREFIXES = (
    "/accounts/login/",
    "/healthz",
    "/metrics",
    "/static/",
    "/api/",
    "/supplier/",
    "/invitations/",
    "/favicon.ico",
)


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
            uploads.refuse_unread(request)
            raise Http404("No such tenant.")
        request.tenant = membership.tenant
        request.membership = membership
        return None


class RefuseNulBytesMiddleware:
    """Answer 400 to a request whose address holds a NUL character (no text column can store
    one, and PostgreSQL refuses it mid-query); the API answers in its JSON error shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = _nul_in_address(request)
        if where is None:
            return self.get_response(request)
        message = f"The request's {where} contains a NUL character (\\x00), which no text may hold."
        if request.path.startswith("/api/"):
            body = {"code": "invalid_request", "message": message, "fields": []}
            return JsonResponse({"error": body}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _nul_in_address(request) -> str | None:
    if "\x00" in request.path:
        return "path"
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in v for v in values):
            return f"parameter {key.replace(chr(0), '')!r}"
    return None
