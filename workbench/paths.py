"""Paths of the workbench's pages from their URL names, as seen from the site root.

Links written into outbox payloads, webhook bodies and API answers are contracts
(``/t/acme/classification/decisions/12/``): they are built with ``reverse`` but without the
script prefix of the process that happens to build them, so a web request and a worker write the
same string, and ``integrations.conf.absolute`` puts the public base URL in front.
"""

from django.urls import get_script_prefix, reverse


def site_path(name: str, *args, **kwargs) -> str:
    """Return ``/…`` for URL ``name`` (``"app:name"``) with ``args`` or ``kwargs``, unprefixed."""
    url = reverse(name, args=args or None, kwargs=kwargs or None)
    return "/" + url.removeprefix(get_script_prefix())


def tenant_path(tenant, name: str, **kwargs) -> str:
    """Return ``/t/<slug>/…`` for tenant page ``name`` (``"classification:decision", pk=12``)."""
    return site_path(name, tenant_slug=tenant.slug, **kwargs)
