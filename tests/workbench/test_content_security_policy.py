"""The Content-Security-Policy: sent with every response, and no page needs an exception to it
(no inline script or style, no event-handler attribute, nothing htmx would have to eval)."""

from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from workbench.roles import Role

REQUIRED = [
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
]


def _assert_policy(response):
    policy = response.headers.get("Content-Security-Policy", "")
    for directive in REQUIRED:
        assert directive in policy.split("; "), (response.status_code, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


class _InlineFinder(HTMLParser):
    """Collect what the policy would refuse or what would need 'unsafe-eval' under htmx."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        line = self.getpos()[0]
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append(f"line {line}: inline <script>")
        if tag == "style":
            self.found.append(f"line {line}: inline <style>")
        for name, value in attrs:
            if name.startswith(("on", "hx-on", "data-hx-on")) or name == "style":
                self.found.append(f"line {line}: {name}= on <{tag}>")
            elif name in ("hx-vals", "hx-vars", "hx-headers") and (value or "").lstrip().startswith(
                ("js:", "javascript:")
            ):
                self.found.append(f"line {line}: {name} evaluates script")
            elif name in ("href", "action", "src") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"line {line}: javascript: URL in {name}")


def inline_code(html: str) -> list[str]:
    finder = _InlineFinder()
    finder.feed(html)
    return finder.found


TEMPLATES = sorted((Path(settings.BASE_DIR) / "templates").rglob("*.html"))


def test_the_finder_sees_what_the_policy_refuses():
    html = '<script>x()</script><p style="color:red" onclick="y()" hx-on:click="z()"></p>'
    assert len(inline_code(html)) == 4
    assert inline_code('<script src="/static/js/app.js" defer></script>') == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_template_holds_inline_script_style_or_handlers(path):
    assert inline_code(path.read_text()) == []


def test_the_policy_is_sent_with_pages_static_files_api_answers_and_errors(cast, client):
    _assert_policy(cast.client(Role.BROKER).get(reverse("tenant_dashboard", args=["acme"])))
    _assert_policy(client.get("/accounts/login/"))
    _assert_policy(client.get("/healthz"))
    _assert_policy(client.get("/api/v1/products"))  # 401, JSON
    _assert_policy(client.get("/api/v1/docs"))
    _assert_policy(cast.client("outsider").get("/t/acme/"))  # 404 page
    _assert_policy(cast.client(Role.ANALYST).get("/t/acme/members/"))  # 403 page
    _assert_policy(cast.client(Role.ANALYST).get("/t/acme/tariffs/search/", {"q": "a\x00"}))


def test_the_policy_is_sent_with_a_500_page(cast):
    client = Client(raise_request_exception=False)
    client.force_login(cast.users[Role.BROKER])
    with mock.patch("workbench.dashboard.tiles_for", side_effect=RuntimeError("boom")):
        response = client.get(reverse("tenant_dashboard", args=["acme"]))
    assert response.status_code == 500
    _assert_policy(response)


def _page_routes(patterns=None, prefix=""):
    """Every route of the site whose only parameter is the tenant (admin excluded)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith("admin/"):
            continue
        if isinstance(pattern, URLResolver):
            yield from _page_routes(pattern.url_patterns, route)
            continue
        route = route.replace("<slug:tenant_slug>", "acme")
        if "<" not in route and "^" not in route and "logout" not in route:
            yield "/" + route


@pytest.mark.parametrize("role", [Role.COMPLIANCE_LEAD, Role.TENANT_ADMIN])
def test_every_page_renders_without_inline_code(cast, role):
    client = cast.client(role)
    checked = 0
    for path in _page_routes():
        response = client.get(path)
        _assert_policy(response)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            assert inline_code(response.content.decode()) == [], path
            checked += 1
    assert checked >= 10
