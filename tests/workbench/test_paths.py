"""Links are reversed from URL names; every name the app code passes resolves.

Outbox payloads, webhook bodies and API answers carry these paths as contracts, so a name that
stopped resolving would fail in a worker long after the page moved. The scan reads the source:
each call of ``link`` / ``tenant_path`` / ``site_path`` / ``_links`` with a literal URL name,
with the keyword arguments the call passes.
"""

import ast

import pytest
from django.conf import settings
from django.urls import reverse, set_script_prefix

from tests.workbench.test_module_size import app_modules
from workbench import paths

TENANT_CALLS = {"link", "tenant_path"}


class _Acme:
    slug = "acme"


def used_names():
    """``(module, URL name, args, kwargs)`` for each literal URL name given to a link builder."""
    found = set()
    for path in app_modules():
        module = str(path.relative_to(settings.BASE_DIR))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            names = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and ":" in a.value
            ]
            keywords = tuple(sorted(k.arg for k in node.keywords if k.arg))
            if called in TENANT_CALLS and names:
                found.add((module, names[0], 0, ("tenant_slug", *keywords)))
            elif called == "site_path" and names:
                found.add((module, names[0], len(node.args) - 1, keywords))
            elif called == "_links" and len(node.args) == 4:
                page, operation = (a.value for a in node.args[1:3])
                found.add((module, page, 0, ("pk", "tenant_slug")))
                found.add((module, f"api-v1:{operation}", 1, ()))
    return sorted(found)


def test_the_scan_finds_the_link_builders_names():
    names = {name for _, name, _, _ in used_names()}
    assert {
        "classification:decision",
        "catalog:batch_detail",
        "integrations:index",
        "api-v1:get_decision",
        "api-v1:get_product",
    } <= names


@pytest.mark.parametrize(("module", "name", "n_args", "keywords"), used_names())
def test_every_url_name_a_link_is_built_from_resolves(module, name, n_args, keywords):
    kwargs = {k: "acme" if k == "tenant_slug" else 1 for k in keywords}
    assert reverse(name, args=[1] * n_args or None, kwargs=kwargs or None).startswith("/")


def test_paths_are_the_contract_strings_whatever_the_script_prefix():
    expected = "/t/acme/classification/decisions/12/"
    assert paths.tenant_path(_Acme, "classification:decision", pk=12) == expected
    set_script_prefix("/workbench/")
    try:
        assert reverse("classification:decision", args=["acme", 12]).startswith("/workbench/")
        assert paths.tenant_path(_Acme, "classification:decision", pk=12) == expected
        assert paths.site_path("api-v1:get_decision", 12) == "/api/v1/decisions/12"
    finally:
        set_script_prefix("/")


@pytest.mark.parametrize(
    ("name", "kwargs", "contract"),
    [
        ("classification:decision", {"pk": 12}, "/t/acme/classification/decisions/12/"),
        ("classification:review_panel", {"pk": 12}, "/t/acme/classification/review/12/"),
        ("classification:request", {"pk": 3}, "/t/acme/classification/requests/3/"),
        ("catalog:batch_detail", {"pk": 4}, "/t/acme/catalog/import/4/"),
        ("catalog:product_detail", {"pk": 5}, "/t/acme/catalog/products/5/"),
        ("audit:export_detail", {"pk": 6}, "/t/acme/audit/exports/6/"),
        ("rulepacks:detail", {"pk": 7}, "/t/acme/rulepacks/7/"),
        ("insights:index", {}, "/t/acme/insights/"),
        ("integrations:index", {}, "/t/acme/integrations/"),
    ],
)
def test_tenant_links_keep_the_paths_receivers_were_given(name, kwargs, contract):
    assert paths.tenant_path(_Acme, name, **kwargs) == contract


@pytest.mark.parametrize(
    ("operation", "contract"),
    [
        ("get_decision", "/api/v1/decisions/9"),
        ("get_product", "/api/v1/products/9"),
        ("get_classification_request", "/api/v1/classification-requests/9"),
    ],
)
def test_api_links_keep_their_paths(operation, contract):
    assert paths.site_path(f"api-v1:{operation}", 9) == contract
