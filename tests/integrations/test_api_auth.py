"""API tokens: scopes, expiry, revocation, tenancy, rate limit, attribution."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from integrations import services
from integrations.models import ApiToken
from tests.integrations.conftest import ApiClient, make_decision, product_raw
from workbench.roles import Role


def test_a_request_without_a_token_gets_401_with_the_error_shape(db, checker):
    response = ApiClient(checker=checker).get("/api/v1/products")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_gets_401(db, checker):
    response = ApiClient(checker=checker, token="wbt_00000000_nope").get("/api/v1/products")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_the_token_is_stored_only_as_a_hash_and_its_prefix(cast):
    token, plaintext = services.token_create(
        actor=cast.users[Role.TENANT_ADMIN], tenant=cast.tenant, name="SAP", scope="read"
    )
    assert plaintext.startswith(token.prefix + "_") and len(plaintext) > 50
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert plaintext not in str(stored)
    assert stored["secret_sha256"] == services.token_digest(plaintext)
    event = AuditEvent.objects.get(verb="integrations.token.created")
    assert plaintext not in str(event.data) and event.data["prefix"] == token.prefix


def test_a_revoked_token_gets_401_at_once(cast, api_for):
    client = api_for("read")
    assert client.get("/api/v1/products").status_code == 200
    token = ApiToken.objects.get()
    services.token_revoke(actor=cast.users[Role.TENANT_ADMIN], token=token)
    response = client.get("/api/v1/products")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"
    assert AuditEvent.objects.filter(verb="integrations.token.revoked").count() == 1


def test_an_expired_token_gets_401(cast, api_for):
    client = api_for("read", expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/products")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_a_token_cannot_be_made_already_expired(cast):
    with pytest.raises(ValidationError, match="future"):
        services.token_create(
            actor=None,
            tenant=cast.tenant,
            name="x",
            scope="read",
            expires_at=timezone.now() - timedelta(days=1),
        )


def test_a_read_token_writing_gets_403_and_writes_nothing(cast, api_for):
    client = api_for("read")
    response = client.post("/api/v1/products", {"rows": [product_raw("A-1")]})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    response = client.post("/api/v1/classification-requests", {"skus": ["A-1"]})
    assert response.status_code == 403
    from catalog.models import Product

    assert not Product.objects.exists()


def test_another_tenants_ids_give_404(cast, api_for):
    decision = make_decision(cast.other_tenant, "THEIRS-1")
    client = api_for("write")
    for path in (
        f"/api/v1/decisions/{decision.pk}",
        f"/api/v1/products/{decision.product_id}",
        f"/api/v1/classification-requests/{decision.job.request_id}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/decisions").json()["items"] == []
    response = client.post(
        "/api/v1/classification-requests", {"product_ids": [decision.product_id]}
    )
    assert response.status_code == 422
    assert "not in this catalog" in response.json()["error"]["fields"][0]["message"]


def test_the_rate_limit_answers_429_with_retry_after(cast, api_for):
    client = api_for("read", rate_limit_per_minute=3)
    statuses = [client.get("/api/v1/products").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/products")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "rate_limited"


def test_the_rate_limit_is_per_token(cast, api_for):
    first = api_for("read", rate_limit_per_minute=1)
    second = api_for("read", rate_limit_per_minute=1)
    assert first.get("/api/v1/products").status_code == 200
    assert first.get("/api/v1/products").status_code == 429
    assert second.get("/api/v1/products").status_code == 200


def test_reads_update_last_use_and_are_audited_once_per_hour(cast, api_for):
    client = api_for("read")
    for _ in range(3):
        client.get("/api/v1/products")
    token = ApiToken.objects.get()
    assert token.last_used_at is not None and token.last_used_ip == "127.0.0.1"
    used = AuditEvent.objects.filter(verb="integrations.token.used")
    assert used.count() == 1
    assert used.get().actor == token.actor
    assert used.get().data["path"] == "/api/v1/products"


def test_writes_are_attributed_to_the_token_in_the_audit_log(cast, api_for):
    client = api_for("write")
    assert client.post("/api/v1/products", {"rows": [product_raw("A-1")]}).status_code == 200
    token = ApiToken.objects.get()
    event = AuditEvent.objects.get(verb="catalog.product.created")
    assert event.actor == token.actor
    assert event.actor_label == f"api-token-{token.prefix}"
    assert not token.actor.is_active and not token.actor.has_usable_password()


def test_a_read_costs_a_constant_number_of_queries(cast, api_for, django_assert_max_num_queries):
    from tests.integrations.conftest import finalize

    client = api_for("read")
    client.get("/api/v1/final-classifications")  # first use: last-used and audit written
    for i in range(5):
        finalize(make_decision(cast.tenant, f"SKU-{i}"))
    from integrations import delivery

    delivery.dispatch_pending()
    # token, rate counter, usage counter (one API call metered), the page: no other bookkeeping
    # writes within the minute
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/final-classifications", {"limit": 100})
    assert len(response.json()["items"]) == 5
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/decisions").status_code == 200
