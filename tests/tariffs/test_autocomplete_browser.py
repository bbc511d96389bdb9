"""The code autocomplete fragment in a real browser: keyboard use and the plain-form fallback.

The page is served by Playwright's request routing from the real templates and static files, so
no live server (and no database flush) is needed.
"""

from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import django_htmx
import pytest
from django.template.loader import render_to_string

from tariffs import reference

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
STATIC = {
    "/static/tariffs/autocomplete.js": ROOT / "static" / "tariffs" / "autocomplete.js",
    "/static/django_htmx/htmx-2.min.js": Path(django_htmx.__file__).parent
    / "static"
    / "django_htmx"
    / "htmx-2.min.js",
}
LINES = [
    (
        "8507600030",
        "8507.60.00.30",
        "Lithium-ion batteries › Other › Battery energy storage systems",
    ),
    ("8507600090", "8507.60.00.90", "Lithium-ion batteries › Other › Other"),
]


def _options(query: str) -> str:
    rows = [
        {
            "line": reference.Line(code, 3, desc, desc, ("No.",), "3.4%", "", "40%", True),
            "code": shown,
            "flags": reference.Flags(),
        }
        for code, shown, desc in LINES
        if query
    ]
    return render_to_string(
        "tariffs/_autocomplete_options.html", {"rows": rows, "query": query, "schedule": True}
    )


@pytest.fixture
def form_page(page):
    tenant = SimpleNamespace(slug="acme")
    fragment = render_to_string(
        "tariffs/_code_autocomplete.html",
        {"field_name": "code", "jurisdiction": "US", "current_tenant": tenant},
    )
    html = (
        "<!doctype html><html><head>"
        '<script src="/static/django_htmx/htmx-2.min.js"></script></head><body>'
        f'<form method="get" action="/submitted">{fragment}'
        '<button type="submit">Estimate</button></form></body></html>'
    )

    def handle(route):
        url = urlparse(route.request.url)
        if url.path in STATIC:
            route.fulfill(body=STATIC[url.path].read_bytes(), content_type="text/javascript")
        elif url.path == "/t/acme/tariffs/autocomplete/":
            query = parse_qs(url.query).get("code", [""])[0]
            route.fulfill(body=_options(query), content_type="text/html")
        else:
            route.fulfill(body=html, content_type="text/html")

    page.route("http://workbench.test/**", handle)
    page.goto("http://workbench.test/form")
    return page


def test_arrow_keys_and_enter_choose_a_suggestion(form_page):
    field = form_page.locator("#id_code")
    field.press_sequentially("battery", delay=20)
    form_page.wait_for_selector("#code-suggestions [role=option]")
    assert field.get_attribute("aria-expanded") == "true"
    field.press("ArrowDown")
    field.press("ArrowDown")
    assert field.get_attribute("aria-activedescendant") == "code-option-8507600090"
    field.press("Enter")
    assert field.input_value() == "8507.60.00.90"
    assert field.get_attribute("aria-expanded") == "false"
    assert form_page.url.endswith("/form")  # choosing did not submit the form


def test_escape_closes_the_list_and_enter_then_submits_the_plain_form(form_page):
    field = form_page.locator("#id_code")
    field.press_sequentially("8507.60.00.30", delay=10)
    form_page.wait_for_selector("#code-suggestions [role=option]")
    field.press("Escape")
    assert form_page.locator("#code-suggestions [role=option]").count() == 0
    field.press("Enter")
    form_page.wait_for_url("**/submitted?code=8507.60.00.30")
