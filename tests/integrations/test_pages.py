"""Integration pages: access matrix, secrets shown once, endpoint checks, log, redelivery."""

import pytest

from audit import outbox
from audit.models import AuditEvent
from integrations import delivery, services
from integrations.models import ApiToken, WebhookDelivery, WebhookEndpoint
from tests.integrations.conftest import finalize, make_decision
from tests.matrix import check_access_matrix
from workbench.roles import ROLE_PERMISSIONS, Role

INTEGRATORS = {r for r, perms in ROLE_PERMISSIONS.items() if "manage_integrations" in perms}
TOKEN_ADMINS = {r for r, perms in ROLE_PERMISSIONS.items() if "manage_api_tokens" in perms}


@pytest.fixture
def endpoint(cast, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    made, _ = services.endpoint_create(
        actor=cast.users[Role.COMPLIANCE_LEAD],
        tenant=cast.tenant,
        url="http://127.0.0.1:9/hook",
        event_types=[outbox.DECISION_FINALIZED],
    )
    return made


def test_access_matrix_for_every_page(cast, endpoint):
    finalize(make_decision(cast.tenant, "TEE-1"))
    delivery.dispatch_pending()
    sent = WebhookDelivery.objects.get()
    token, _ = services.token_create(actor=None, tenant=cast.tenant, name="ERP", scope="read")
    base = "/t/acme/integrations"
    for url in (
        f"{base}/",
        f"{base}/webhooks/new/",
        f"{base}/webhooks/{endpoint.pk}/",
        f"{base}/webhooks/{endpoint.pk}/edit/",
        f"{base}/deliveries/{sent.pk}/",
    ):
        check_access_matrix(cast, url, INTEGRATORS)
    check_access_matrix(cast, f"{base}/tokens/", TOKEN_ADMINS)
    check_access_matrix(
        cast, f"{base}/webhooks/{endpoint.pk}/test/", INTEGRATORS, method="post", ok=(302,)
    )
    check_access_matrix(
        cast, f"{base}/deliveries/{sent.pk}/redeliver/", INTEGRATORS, method="post", ok=(302,)
    )
    check_access_matrix(
        cast, f"{base}/tokens/{token.pk}/revoke/", TOKEN_ADMINS, method="post", ok=(302,)
    )


def test_another_tenants_endpoint_is_404(cast, endpoint):
    other, _ = services.endpoint_create(
        actor=None,
        tenant=cast.other_tenant,
        url="http://127.0.0.1:9/theirs",
        event_types=[outbox.DECISION_FINALIZED],
    )
    client = cast.client(Role.COMPLIANCE_LEAD)
    assert client.get(f"/t/acme/integrations/webhooks/{other.pk}/").status_code == 404
    assert client.post(f"/t/acme/integrations/webhooks/{other.pk}/test/").status_code == 404


def test_creating_an_endpoint_shows_its_secret_once(cast, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    client = cast.client(Role.COMPLIANCE_LEAD)
    response = client.post(
        "/t/acme/integrations/webhooks/new/",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["decision.finalized"], "enabled": "on"},
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    page = client.get(f"/t/acme/integrations/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret not in page and endpoint.secret_hint in page
    event = AuditEvent.objects.get(verb="integrations.webhook.created")
    assert endpoint.secret not in str(event.data)


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://example.com/hook", "must use https://"),
        ("https://10.0.0.8/hook", "a private address"),
        ("https://127.0.0.1/hook", "a loopback address"),
    ],
)
def test_an_endpoint_to_a_refused_destination_is_not_saved(cast, settings, url, message):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    response = cast.client(Role.TENANT_ADMIN).post(
        "/t/acme/integrations/webhooks/new/",
        {"url": url, "event_types": ["decision.finalized"]},
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_needs_at_least_one_event(cast, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    response = cast.client(Role.TENANT_ADMIN).post(
        "/t/acme/integrations/webhooks/new/", {"url": "http://127.0.0.1:9/hook"}
    )
    assert response.status_code == 422
    assert not WebhookEndpoint.objects.exists()


def test_editing_disables_an_endpoint_and_is_audited(cast, endpoint):
    client = cast.client(Role.COMPLIANCE_LEAD)
    response = client.post(
        f"/t/acme/integrations/webhooks/{endpoint.pk}/edit/",
        {"url": endpoint.url, "event_types": ["decision.finalized", "decision.created"]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.event_types == ["decision.created", "decision.finalized"]
    event = AuditEvent.objects.get(verb="integrations.webhook.updated")
    assert event.data["enabled"] == [True, False]


def test_rotating_the_secret_shows_the_new_one_once(cast, endpoint):
    old = endpoint.secret
    response = cast.client(Role.COMPLIANCE_LEAD).post(
        f"/t/acme/integrations/webhooks/{endpoint.pk}/rotate-secret/"
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in response.content.decode()


def test_the_delivery_log_shows_attempts_and_redelivery_queues_a_copy(cast, endpoint):
    finalize(make_decision(cast.tenant, "TEE-1"))
    delivery.dispatch_pending()
    delivery.deliver_due()
    sent = WebhookDelivery.objects.get()
    client = cast.client(Role.COMPLIANCE_LEAD)
    page = client.get(f"/t/acme/integrations/webhooks/{endpoint.pk}/?status=retrying")
    assert sent.event_id in page.content.decode()
    detail = client.get(f"/t/acme/integrations/deliveries/{sent.pk}/").content.decode()
    assert (
        "Could not reach the receiver" in detail and "&quot;sku&quot;:&quot;TEE-1&quot;" in detail
    )
    response = client.post(f"/t/acme/integrations/deliveries/{sent.pk}/redeliver/")
    copy = WebhookDelivery.objects.exclude(pk=sent.pk).get()
    assert response["Location"].endswith(f"/deliveries/{copy.pk}/")
    assert copy.event_id == sent.event_id and copy.status == "pending"


def test_the_token_page_shows_a_new_token_once_and_revokes(cast):
    client = cast.client(Role.TENANT_ADMIN)
    response = client.post(
        "/t/acme/integrations/tokens/", {"name": "SAP", "scope": "write", "expires_in": "30"}
    )
    assert response.status_code == 201
    token = ApiToken.objects.get()
    html = response.content.decode()
    plaintext = html.split('<code id="new-token">')[1].split("</code>")[0]
    assert services.token_digest(plaintext) == token.secret_sha256
    assert plaintext not in client.get("/t/acme/integrations/tokens/").content.decode()
    assert token.scope == "write" and token.expires_at is not None
    client.post(f"/t/acme/integrations/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == cast.users[Role.TENANT_ADMIN]


def test_a_token_needs_a_name(cast):
    response = cast.client(Role.TENANT_ADMIN).post(
        "/t/acme/integrations/tokens/", {"name": "", "scope": "read", "expires_in": "30"}
    )
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_the_command_creates_a_token_and_prints_it_once(cast, capsys):
    from django.core.management import call_command

    call_command(
        "api_token_create", tenant="acme", user="acme-tenant_admin", name="ERP", scope="write"
    )
    plaintext = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert services.token_digest(plaintext) == token.secret_sha256 and token.scope == "write"


def test_the_command_refuses_a_member_who_may_not_manage_tokens(cast):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="may manage tokens"):
        call_command("api_token_create", tenant="acme", user="acme-broker", name="ERP")


def test_the_navigation_links_integrations_only_for_those_who_manage_them(cast):
    for role in Role.values:
        html = cast.client(role).get("/t/acme/").content.decode()
        assert ('href="/t/acme/integrations/"' in html) == (role in INTEGRATORS), role


def test_dead_deliveries_are_counted_on_the_integrations_page(cast, endpoint):
    from datetime import timedelta

    from django.utils import timezone

    finalize(make_decision(cast.tenant, "TEE-1"))
    delivery.dispatch_pending()
    WebhookDelivery.objects.update(max_attempts=1)
    delivery.deliver_due(now=timezone.now() + timedelta(minutes=1))
    assert WebhookDelivery.objects.get().status == "dead"
    html = cast.client(Role.COMPLIANCE_LEAD).get("/t/acme/integrations/").content.decode()
    assert '<span class="chip status-dead">1</span>' in html
