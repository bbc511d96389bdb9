"""A NUL byte in a request is bad input: 400 with a message, never a 500; API errors are JSON."""

from unittest import mock

from django.urls import reverse

from tests.integrations.conftest import product_raw
from workbench.roles import Role


def test_a_nul_byte_in_a_page_address_gets_400_naming_the_parameter(cast):
    url = reverse("tariffs:search", args=[cast.tenant.slug])
    response = cast.client(Role.ANALYST).get(url, {"q": "power\x00bank"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode() and "'q'" in response.content.decode()


def test_a_nul_byte_in_an_api_query_gets_a_json_400(cast, api_for):
    response = api_for("read").get("/api/v1/products", {"sku": "A\x00"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and "NUL" in error["message"]


def test_a_nul_byte_in_an_api_body_refuses_the_row_and_writes_nothing(cast, api_for):
    from catalog.models import Product

    response = api_for("write").post(
        "/api/v1/products", {"rows": [product_raw("A-1", name="Cotton\x00tee")]}
    )
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["errors"] == [
        {
            "path": "rows[0].name",
            "message": "contains a NUL character (U+0000), which no text may hold",
        }
    ]
    assert not Product.objects.exists()


def test_an_api_failure_is_a_json_500_and_says_nothing_of_the_error(cast, api_for):
    with mock.patch(
        "integrations.selectors.products_page", side_effect=RuntimeError("secret detail")
    ):
        response = api_for("read").get("/api/v1/products")
    if response.status_code == 200:  # the patch target moved: fail loudly rather than pass
        raise AssertionError("the API view did not go through the patched selector")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret detail" not in response.content.decode()
