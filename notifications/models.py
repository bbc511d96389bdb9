"""Notifications: what a person is told in the workbench, and whether it is also emailed."""

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    ASSIGNED = "assigned", "An item is assigned or granted to me"
    ESCALATED = "escalated", "An item is escalated to compliance"
    INFO_REQUESTED = "info_requested", "A broker asks for facts of a product"
    INFO_RECEIVED = "info_received", "Facts I asked for have arrived"
    DIGEST = "digest", "Daily digest of overdue review items"


class Notification(models.Model):
    """One message to one person about one tenant's item; read once ``read_at`` is set."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=500)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
        ]

    def __str__(self) -> str:
        return self.text


class EmailPreference(models.Model):
    """A person's choice of email for one kind of notification; without a row, email is on."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="email_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}: {'email' if self.email else 'in app only'}"
