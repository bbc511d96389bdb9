"""Access helpers: every tenant view starts with one of these.

Non-members never reach a view (the middleware answers 404); members without the permission get
403 (``PermissionDenied``). Helpers that fetch objects filter by ``request.tenant`` and raise 404
on a miss, so an id from another tenant looks exactly like an id that does not exist.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from guardian.core import ObjectPermissionChecker

from workbench.roles import perm


def tenant_perms(request) -> frozenset[str]:
    """Return the codenames the current member holds on the current tenant (one query per request).

    Guardian's checker loads every permission of the user on the object at once; asking it per
    codename through ``user.has_perm`` would cost a query each.
    """
    if request.tenant is None or not request.user.is_authenticated or not request.user.is_active:
        return frozenset()
    cached = getattr(request, "_tenant_perms", None)
    if cached is None:
        checker = ObjectPermissionChecker(request.user)
        cached = frozenset(checker.get_perms(request.tenant))
        request._tenant_perms = cached
    return cached


def has_perm(request, codename: str) -> bool:
    """Return whether the current member holds ``codename`` on the current tenant."""
    perm(codename)  # refuse unknown codenames loudly
    return codename in tenant_perms(request)


def user_has_tenant_perm(user, tenant, codename: str) -> bool:
    """Return whether ``user`` holds ``codename`` on ``tenant`` (for commands and the API)."""
    return bool(user and user.is_active and user.has_perm(perm(codename), tenant))


def require(request, codename: str) -> None:
    """Raise 404 outside a tenant the user belongs to, 403 without ``codename`` on it."""
    if request.tenant is None:
        raise Http404("No such tenant.")
    if not has_perm(request, codename):
        raise PermissionDenied(f"Your role does not allow this ({codename.replace('_', ' ')}).")


def tenant_view(codename: str = "read_tenant"):
    """Decorate a ``/t/<tenant_slug>/…`` view: require membership and ``codename``."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            require(request, codename)
            kwargs.pop("tenant_slug", None)
            return view(request, *args, **kwargs)

        wrapper.tenant_permission = codename
        return wrapper

    return decorator


def tenant_object(request, queryset, **lookup):
    """Return one object of ``queryset`` in the current tenant, or raise 404."""
    return get_object_or_404(queryset, tenant=request.tenant, **lookup)
