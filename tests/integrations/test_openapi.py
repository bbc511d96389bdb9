"""The OpenAPI document: served, valid OpenAPI 3, complete; the docs page uses no CDN."""

import re

from django.test import Client
from openapi_spec_validator import validate

OPERATIONS = {
    ("get", "/api/v1/products"),
    ("post", "/api/v1/products"),
    ("get", "/api/v1/products/{product_id}"),
    ("post", "/api/v1/classification-requests"),
    ("get", "/api/v1/classification-requests/{request_id}"),
    ("get", "/api/v1/decisions"),
    ("get", "/api/v1/decisions/{decision_id}"),
    ("get", "/api/v1/final-classifications"),
}


def test_the_document_is_served_without_a_token_and_is_valid_openapi_3(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.")
    found = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert found == OPERATIONS
    assert document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_every_operation_documents_its_errors_with_the_error_shape(openapi_document):
    for path, operations in openapi_document["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert {"401", "404", "422", "429"} <= statuses, (method, path)
            if method == "post":
                assert "403" in statuses, (method, path)
            schema = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorOut")
            assert operation.get("security"), (method, path)


def test_the_docs_page_renders_from_local_static_files(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert not re.search(r"https?://(cdn|unpkg|fastly)", html)


def test_the_response_checker_rejects_a_body_that_does_not_match(checker):
    class Fake:
        status_code = 200

        @staticmethod
        def json():
            return {"items": [{"position": "one"}], "next_cursor": "1", "has_more": False}

    try:
        checker.check("GET", "/api/v1/final-classifications", Fake())
    except AssertionError as err:
        assert "position" in str(err) or "required" in str(err)
    else:
        raise AssertionError("a mismatching body passed the OpenAPI check")


def test_the_swagger_files_are_shipped_as_static_files():
    from django.contrib.staticfiles import finders

    for name in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css"):
        assert finders.find(name), name
