"""API tokens, webhook endpoints and their deliveries, and the final-classifications feed.

Written only by ``integrations.services`` and ``integrations.delivery``. Every row belongs to a
tenant; the API resolves the tenant from the token, never from the request.
"""

from django.conf import settings
from django.db import models


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A service token for one tenant: only the SHA-256 of the secret is kept.

    Each token acts through its own inactive, password-less user (``actor``), so every write an
    integration makes is attributed to the token by name in the audit log of whichever app
    records it.
    """

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100, help_text="Which system uses it, e.g. 'SAP writeback'.")
    prefix = models.CharField(max_length=16, unique=True, help_text="Shown for recognition.")
    secret_sha256 = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    actor = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token"
    )
    rate_limit_per_minute = models.PositiveIntegerField(default=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    # Reads are audited once per window (``integrations.token.used``), not per request.
    last_audited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="integ_token_tenant")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == Scope.WRITE

    def state(self, now) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class ApiRateWindow(models.Model):
    """Requests made with one token in one fixed window: the per-token rate limit's counter.

    Kept in PostgreSQL so that every web process sees the same count.
    """

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "window_start"], name="integ_rate_window")
        ]

    def __str__(self) -> str:
        return f"{self.token_id} @ {self.window_start:%H:%M}: {self.count}"


class WebhookEndpoint(models.Model):
    """A receiver URL of one tenant and the event types it subscribes to."""

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # The receiver verifies signatures with the same secret, so it must be kept (not hashed).
    secret = models.CharField(max_length=100)
    event_types = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tenant", "enabled"], name="integ_endpoint_tenant")]

    def __str__(self) -> str:
        return self.url

    @property
    def secret_hint(self) -> str:
        return f"{self.secret[:10]}…"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Delivered"
    DEAD = "dead", "Dead"


OPEN_DELIVERY_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.SENDING)


class WebhookDelivery(models.Model):
    """One event for one endpoint: the frozen envelope, its attempts so far, and what is next."""

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    outbox_event = models.ForeignKey(
        "audit.OutboxEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event_id = models.CharField(max_length=64, help_text="The receiver's idempotency key.")
    event_type = models.CharField(max_length=64)
    envelope = models.JSONField()
    is_test = models.BooleanField(default=False)
    redelivery_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField()
    next_attempt_at = models.DateTimeField(help_text="Due time; the lease expiry while sending.")
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # An outbox event fans out to an endpoint once; redeliveries are new rows.
            models.UniqueConstraint(
                fields=["endpoint", "outbox_event"],
                name="integ_delivery_once",
                condition=models.Q(redelivery_of__isnull=True, outbox_event__isnull=False),
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="integ_delivery_due",
                condition=models.Q(status__in=["pending", "retrying", "sending"]),
            ),
            models.Index(fields=["endpoint", "-created_at"], name="integ_delivery_endpoint"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DELIVERY_STATUSES


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the receiver answered, or why it could not."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    n = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "n"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "n"], name="integ_attempt_n_per_delivery")
        ]

    def __str__(self) -> str:
        return f"attempt {self.n}: {self.status_code or self.error[:40]}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class FeedEntry(models.Model):
    """One finalization of a decision, at a position in the tenant's final-classifications feed.

    Appended from committed ``decision.finalized`` outbox events under a per-tenant lock held
    until commit, so positions (``id``) become visible in increasing order: a client that asks
    for everything after the last position it saw never misses or repeats an entry.
    """

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    outbox_event = models.OneToOneField(
        "audit.OutboxEvent", on_delete=models.PROTECT, related_name="+"
    )
    decision_id = models.BigIntegerField()
    product_id = models.BigIntegerField()
    sku = models.CharField(max_length=64)
    final_code = models.CharField(max_length=16)
    finalized_at = models.DateTimeField()
    finalized_by = models.CharField(max_length=200, blank=True)
    data = models.JSONField(help_text="The event's payload as announced.")
    appended_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["tenant", "id"], name="integ_feed_tenant_position"),
            models.Index(fields=["tenant", "decision_id", "-id"], name="integ_feed_decision"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.sku} → {self.final_code}"
