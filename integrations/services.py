"""Writes of the integrations app: API tokens and webhook endpoints (delivery is in ``delivery``).

Every write is audited in its transaction. Secrets (a token, an endpoint's signing secret) are
returned once by the service that makes them and never shown again.
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

import audit
from audit import outbox
from audit import services as audit_services
from integrations import conf, netguard, signing
from integrations.models import ApiToken, WebhookEndpoint
from metering import counters

TOKEN_PREFIX = "wbt_"  # noqa: S105 (a label, not a secret)
# Reads are attributed by one ``integrations.token.used`` event per token per window, and the
# token's last-use time is written at most once per minute: an audit row per GET would bury the
# log, and a write per request would make every read a write.
READ_AUDIT_WINDOW = timedelta(hours=1)
LAST_USED_GRANULARITY = timedelta(minutes=1)

# Event types an endpoint may subscribe to, with a line of help for the form.
SUBSCRIBABLE = {
    outbox.DECISION_FINALIZED: "A broker finalized a classification (accept or override).",
    outbox.DECISION_CREATED: "The engine wrote a decision (any outcome).",
    outbox.DECISION_ESCALATED: "A decision was escalated to compliance, legal, finance, logistics.",
    outbox.DECISION_INFO_REQUESTED: "A broker asked for missing product facts.",
    outbox.DECISION_REOPENED: "A broker reopened a final classification: treat its code as "
    "under review until the next decision.finalized.",
    outbox.RULEPACK_ACTIVATED: "A rule pack became active.",
    outbox.RULEPACK_ACTIVATION_REFUSED: "A rule pack's activation was refused by its gates.",
    outbox.CATALOG_IMPORT_COMPLETED: "A catalog import finished.",
    outbox.AUDIT_EXPORT_READY: "An audit export is ready to download.",
    outbox.AUDIT_EXPORT_FAILED: "An audit export failed.",
    outbox.POLICY_DRIFT_DETECTED: "A rule pack's policy drifted: a rule overridden too often, a "
    "review rate above the backtest's, or automation less precise than its target.",
}


class TokenRefused(Exception):
    """A presented token cannot be used: ``code`` and ``message`` go into the 401 answer."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def token_digest(plaintext: str) -> str:
    """Return the SHA-256 under which a token is stored."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


@transaction.atomic
def token_create(
    *,
    actor,
    tenant,
    name: str,
    scope: str,
    expires_at=None,
    rate_limit_per_minute: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a service token for ``tenant``; return it with its plaintext (shown once).

    The plaintext is ``wbt_<8 hex>_<43 url-safe>`` (256 bits of secret); only its SHA-256 is
    stored. The token acts through its own inactive, password-less user named after its prefix.
    Raises ``ValidationError`` for a blank name, an unknown scope or an expiry in the past.
    Audited as ``integrations.token.created``.
    """
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    prefix = TOKEN_PREFIX + secrets.token_hex(4)
    plaintext = f"{prefix}_{secrets.token_urlsafe(32)}"
    user = get_user_model()(username=f"api-token-{prefix}", is_active=False)
    user.first_name = name[:150]
    user.set_unusable_password()
    user.save()
    token = ApiToken(
        tenant=tenant,
        name=name.strip(),
        prefix=prefix,
        secret_sha256=token_digest(plaintext),
        scope=scope,
        actor=user,
        rate_limit_per_minute=rate_limit_per_minute or conf.get("API_RATE_LIMIT_PER_MINUTE"),
        created_by=actor,
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    audit.record(
        actor=actor,
        verb="integrations.token.created",
        target=token,
        data={
            "name": token.name,
            "prefix": prefix,
            "scope": scope,
            "expires_at": expires_at,
            "acts_as": user.username,
        },
    )
    return token, plaintext


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke ``token`` at once; every later request with it gets 401. Idempotent.

    Audited as ``integrations.token.revoked`` (only the first time).
    """
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        actor=actor,
        verb="integrations.token.revoked",
        target=token,
        data={"name": token.name, "prefix": token.prefix},
    )
    return token


def token_authenticate(plaintext: str, *, now=None) -> ApiToken:
    """Return the active token for ``plaintext`` or raise ``TokenRefused`` (unknown, revoked,
    expired). Reads only; see ``token_record_use`` for the bookkeeping."""
    now = now or timezone.now()
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
        raise TokenRefused("invalid_token", "Send a workbench API token: Authorization: Bearer …")
    token = (
        ApiToken.objects.select_related("tenant", "actor")
        .filter(secret_sha256=token_digest(plaintext))
        .first()
    )
    if token is None:
        raise TokenRefused("invalid_token", "This API token is not known.")
    state = token.state(now)
    if state == "revoked":
        raise TokenRefused("token_revoked", f"The API token {token.prefix}… was revoked.")
    if state == "expired":
        raise TokenRefused(
            "token_expired",
            f"The API token {token.prefix}… expired on {token.expires_at:%Y-%m-%d}.",
        )
    return token


def token_rate_check(*, token: ApiToken, now=None) -> int | None:
    """Count one request against ``token``'s per-minute limit; return seconds to wait, or None.

    The counter is one row per token and minute, incremented with a single upsert, so every web
    process shares it. A refused request still counts (a client hammering stays refused).
    """
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO integrations_apiratewindow (token_id, window_start, count) "
            "VALUES (%s, %s, 1) ON CONFLICT (token_id, window_start) "
            "DO UPDATE SET count = integrations_apiratewindow.count + 1 RETURNING count",
            [token.pk, window],
        )
        (count,) = cursor.fetchone()
    if count <= token.rate_limit_per_minute:
        return None
    return max(1, 60 - now.second)


def token_record_use(*, token: ApiToken, method: str, path: str, ip: str | None, now=None):
    """Note that ``token`` was used: one API call metered for its tenant, last-use time (at most
    once a minute) and, at most once an hour per token, an ``integrations.token.used`` audit
    event naming the request."""
    now = now or timezone.now()
    counters.add(tenant_id=token.tenant_id, metric=counters.API_CALLS)
    # The token row was just read: skip both writes when it shows they are not due, so most
    # requests add no write but the usage count. The guarded UPDATEs settle races between
    # processes.
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_GRANULARITY)
        ).update(last_used_at=now, last_used_ip=ip)
    if token.last_audited_at is not None and token.last_audited_at >= now - READ_AUDIT_WINDOW:
        return
    with transaction.atomic():
        claimed = (
            ApiToken.objects.filter(pk=token.pk)
            .filter(
                Q(last_audited_at__isnull=True) | Q(last_audited_at__lt=now - READ_AUDIT_WINDOW)
            )
            .update(last_audited_at=now)
        )
        if claimed:
            audit.record(
                actor=token.actor,
                verb="integrations.token.used",
                target=token,
                tenant=token.tenant,
                data={"prefix": token.prefix, "method": method, "path": path[:200], "ip": ip},
            )


def purge_rate_windows(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete rate-limit counters of windows that ended long ago; return how many."""
    from integrations.models import ApiRateWindow

    deleted, _ = ApiRateWindow.objects.filter(window_start__lt=timezone.now() - older_than).delete()
    return deleted


# --- Webhook endpoints ---------------------------------------------------------------------


def _clean_endpoint(*, url: str, event_types) -> list[str]:
    try:
        netguard.check_url(url)
    except netguard.DestinationRefused as err:
        raise ValidationError({"url": str(err)}) from None
    unknown = sorted(set(event_types) - set(SUBSCRIBABLE))
    if unknown:
        raise ValidationError({"event_types": f"Unknown event types: {', '.join(unknown)}."})
    if not event_types:
        raise ValidationError({"event_types": "Subscribe to at least one event type."})
    return sorted(set(event_types))


@transaction.atomic
def endpoint_create(
    *, actor, tenant, url: str, event_types, description: str = "", enabled: bool = True
) -> tuple[WebhookEndpoint, str]:
    """Register a receiver URL for ``tenant``; return it with its signing secret (shown once).

    Refuses (``ValidationError`` on ``url``) plain HTTP unless allowed, and hosts resolving to
    private, loopback or link-local addresses unless allowed. Audited as
    ``integrations.webhook.created``.
    """
    types = _clean_endpoint(url=url, event_types=event_types)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        tenant=tenant,
        url=url,
        description=description.strip(),
        secret=secret,
        event_types=types,
        enabled=enabled,
        created_by=actor,
    )
    endpoint.full_clean()
    endpoint.save()
    audit.record(
        actor=actor,
        verb="integrations.webhook.created",
        target=endpoint,
        data={"url": url, "event_types": types, "enabled": enabled},
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *, actor, endpoint: WebhookEndpoint, url: str, event_types, description: str, enabled: bool
) -> WebhookEndpoint:
    """Change an endpoint's URL, subscriptions, description or enabled flag.

    The same URL checks as on creation. Deliveries already made keep the envelope they had;
    open deliveries of a disabled endpoint wait, and resume if it is enabled again. Audited as
    ``integrations.webhook.updated`` with the changes.
    """
    types = _clean_endpoint(url=url, event_types=event_types)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    old = {
        "url": endpoint.url,
        "event_types": endpoint.event_types,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
    }
    endpoint.url, endpoint.event_types = url, types
    endpoint.description, endpoint.enabled = description.strip(), enabled
    endpoint.full_clean()
    endpoint.save()
    new = {
        "url": url,
        "event_types": types,
        "description": endpoint.description,
        "enabled": enabled,
    }
    changes = audit_services.changes(old, new)
    if changes:
        audit.record(
            actor=actor, verb="integrations.webhook.updated", target=endpoint, data=changes
        )
    if enabled and not old["enabled"]:
        from integrations import tasks

        transaction.on_commit(tasks.wake, robust=True)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, actor, endpoint: WebhookEndpoint) -> tuple[WebhookEndpoint, str]:
    """Replace the endpoint's signing secret; return the new one (shown once).

    Attempts from now on are signed with the new secret. Audited as
    ``integrations.webhook.secret_rotated`` (without the secret).
    """
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = signing.new_secret()
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "updated_at"])
    audit.record(actor=actor, verb="integrations.webhook.secret_rotated", target=endpoint, data={})
    return endpoint, secret
