"""API operations: products upsert/list/detail, classification requests, decisions."""

from datetime import timedelta

from django.utils import timezone

from catalog.models import Product
from classification.models import ClassificationRequest, Job
from tests.integrations.conftest import finalize, make_decision, product_raw


def test_upsert_writes_valid_rows_and_refuses_bad_ones_with_field_paths(cast, api_for):
    client = api_for("write")
    rows = [
        product_raw("A-1"),
        product_raw("A-2", country_of_origin="Chna", currency=""),
        product_raw("A-3", materials=[], colour="red"),
        product_raw("A-1"),
    ]
    response = client.post("/api/v1/products", {"rows": rows})
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["refused"]) == (1, 3)
    assert body["ignored_fields"] == ["colour"]
    results = body["results"]
    assert results[0]["status"] == "created" and results[0]["version"] == 1
    errors = {e["path"]: e["message"] for e in results[1]["errors"]}
    assert "is not an ISO 3166 country code" in errors["rows[1].country_of_origin"]
    assert errors["rows[1].currency"] == "is required when a customs value is given"
    assert results[2]["errors"] == [
        {"path": "rows[2].materials", "message": "at least one material is required"}
    ]
    assert results[3]["errors"][0]["path"] == "rows[3].sku"
    assert "appears also in rows[0]" in results[3]["errors"][0]["message"]
    assert list(Product.objects.values_list("sku", flat=True)) == ["A-1"]
    product = Product.objects.get()
    assert product.current_version.facts["materials"] == ["cotton", "elastane"]


def test_upsert_again_updates_or_leaves_unchanged(cast, api_for):
    client = api_for("write")
    client.post("/api/v1/products", {"rows": [product_raw("A-1"), product_raw("A-2")]})
    body = client.post(
        "/api/v1/products", {"rows": [product_raw("A-1", name="New name"), product_raw("A-2")]}
    ).json()
    assert [r["status"] for r in body["results"]] == ["updated", "unchanged"]
    assert body["results"][0]["version"] == 2


def test_a_malformed_body_gets_422_with_field_paths(cast, api_for):
    client = api_for("write")
    response = client.post("/api/v1/products", {"rows": "nope"})
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid_request" and body["fields"][0]["path"] == "rows"
    response = client.post("/api/v1/products", {"rows": []})
    assert response.status_code == 422


def test_products_list_pages_with_a_cursor_and_filters(cast, api_for):
    client = api_for("write")
    client.post("/api/v1/products", {"rows": [product_raw(f"P-{i}") for i in range(5)]})
    seen, after = [], None
    while True:
        body = client.get("/api/v1/products", {"limit": 2, **({"after": after} if after else {})})
        body = body.json()
        seen += [item["sku"] for item in body["items"]]
        after = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen == [f"P-{i}" for i in range(5)]
    only = client.get("/api/v1/products", {"sku": "P-3"}).json()["items"]
    assert [p["sku"] for p in only] == ["P-3"]
    detail = client.get(f"/api/v1/products/{only[0]['id']}").json()
    assert detail["facts"]["country_of_origin"] == "BD" and detail["version"] == 1
    assert detail["links"]["html"].endswith(f"/t/acme/catalog/products/{only[0]['id']}/")


def test_a_bad_cursor_gets_422(cast, api_for):
    response = api_for("read").get("/api/v1/products", {"after": "abc"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [
        {"path": "after", "message": "'abc' is not a cursor"}
    ]


def test_a_classification_request_by_sku_queues_jobs_and_reports_progress(
    cast, api_for, django_capture_on_commit_callbacks
):
    client = api_for("write")
    client.post("/api/v1/products", {"rows": [product_raw("A-1"), product_raw("A-2")]})
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/api/v1/classification-requests", {"skus": ["A-1", "A-2"]})
    assert response.status_code == 201
    body = response.json()
    assert body["product_count"] == 2 and body["source"] == "api"
    assert body["progress"]["total"] == 2 and body["progress"]["queued"] == 2
    request = ClassificationRequest.objects.get()
    assert request.requested_by.username.startswith("api-token-")
    assert Job.objects.filter(request=request).count() == 2
    again = client.get(f"/api/v1/classification-requests/{request.pk}").json()
    assert again["id"] == request.pk and not again["progress"]["finished"]


def test_a_classification_request_refuses_unknown_skus_and_more_than_100(cast, api_for):
    client = api_for("write")
    client.post("/api/v1/products", {"rows": [product_raw("A-1")]})
    response = client.post("/api/v1/classification-requests", {"skus": ["A-1", "NOPE"]})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [
        {"path": "skus[1]", "message": "'NOPE' is not a product of this catalog"}
    ]
    response = client.post("/api/v1/classification-requests", {"product_ids": list(range(101))})
    assert response.status_code == 422
    response = client.post("/api/v1/classification-requests", {})
    assert response.status_code == 422
    assert "at least one product" in response.json()["error"]["fields"][0]["message"]
    assert not ClassificationRequest.objects.exists()


def test_decisions_list_filters_by_outcome_finality_and_update_time(cast, api_for):
    from integrations import delivery

    blocked = make_decision(cast.tenant, "B-1", outcome="blocked", code="")
    review = make_decision(cast.tenant, "R-1")
    done = make_decision(cast.tenant, "R-2")
    finalize(done, code="6109100040")
    delivery.dispatch_pending()
    client = api_for("read")

    def ids(**params):
        return [d["id"] for d in client.get("/api/v1/decisions", params).json()["items"]]

    assert ids() == [blocked.pk, review.pk, done.pk]
    assert ids(outcome="blocked") == [blocked.pk]
    assert ids(final="true") == [done.pk]
    assert ids(final="false") == [blocked.pk, review.pk]
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert ids(updated_since=future) == []
    items = client.get("/api/v1/decisions", {"final": "true"}).json()["items"]
    assert items[0]["final"]["final_code"] == "6109100040"
    assert items[0]["final"]["finalized_by"] == "acme-broker"
    assert items[0]["selected_code"] == "6109100012"


def test_decision_detail_has_the_full_evidence(cast, api_for):
    decision = make_decision(cast.tenant, "R-1")
    body = api_for("read").get(f"/api/v1/decisions/{decision.pk}").json()
    assert body["evidence"] == decision.evidence
    assert body["product"] == {
        "id": decision.product_id,
        "sku": "R-1",
        "name": body["product"]["name"],
        "version": 1,
    }
    assert body["final"] is None and body["reasons"] == ["low_confidence"]
    assert body["links"]["api"].endswith(f"/api/v1/decisions/{decision.pk}")


def test_writes_need_no_csrf_token_because_they_carry_a_bearer_token(cast, api_for, checker):
    from django.test import Client

    from tests.integrations.conftest import ApiClient

    token = api_for("write").token
    client = ApiClient(checker=checker, token=token, client=Client(enforce_csrf_checks=True))
    response = client.post("/api/v1/products", {"rows": [product_raw("A-1")]})
    assert response.status_code == 200
    assert response.json()["created"] == 1
