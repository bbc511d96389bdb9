"""Following items up: links that let a supplier answer a broker's question, their files, and
the request counters that rate-limit the public page."""

from django.conf import settings
from django.db import models


class SupplierLink(models.Model):
    """A single-use, expiring link that lets one supplier contact (no account) answer the facts
    a broker asked for on one review item. Only the SHA-256 of its token is kept."""

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    state = models.ForeignKey(
        "classification.ReviewState", on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    missing_facts = models.JSONField()
    question = models.TextField()
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_version = models.ForeignKey(
        "catalog.ProductVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answered_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="supplier_link_answered_or_revoked_not_both",
            )
        ]
        indexes = [models.Index(fields=["tenant", "state"], name="supplier_link_state")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """How the link's answer is attributed: ``supplier link #N, <contact>``."""
        contact = self.contact_name
        if self.contact_email:
            contact += f" <{self.contact_email}>"
        return f"supplier link #{self.pk}, {contact}"

    def status(self, now) -> str:
        if self.answered_at is not None:
            return "answered"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "pending"


class SupplierFile(models.Model):
    """A spec sheet or photo a supplier sent with an answer, checked by content like any
    evidence file and stored with its SHA-256."""

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey(SupplierLink, on_delete=models.PROTECT, related_name="files")
    file = models.FileField(upload_to="supplier-evidence/%Y/%m/")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class RateWindow(models.Model):
    """Requests counted per key (a client address) and minute, shared by every web process."""

    key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="rate_window_per_minute")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.window_start:%H:%M}: {self.count}"
