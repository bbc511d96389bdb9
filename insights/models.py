"""Policy drift alerts: a condition over a pack's live figures, seen once, acknowledged once."""

from django.conf import settings
from django.db import models


class AlertKind(models.TextChoices):
    RULE_OVERRIDE = "rule_override", "Rule overridden too often"
    REVIEW_RATE = "review_rate", "Review rate above the backtest's"
    AUTOMATION_PRECISION = "automation_precision", "Precision of automation below target"


class DriftAlert(models.Model):
    """One drift condition of one active pack, from the evaluation that first saw it.

    While the condition holds the alert stays the same row (at most one uncleared row per tenant,
    kind, pack and subject: a partial unique constraint), its ``figures`` refreshed; when it no
    longer holds ``cleared_at`` is set, so a recurrence is a new alert. Acknowledging hides it
    from the dashboard; it does not clear it.
    """

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    rule_pack = models.ForeignKey("rulepacks.RulePack", on_delete=models.PROTECT, related_name="+")
    jurisdiction = models.CharField(max_length=8)
    subject = models.CharField(max_length=100, help_text="The rule id, or the pack version.")
    figures = models.JSONField(help_text="The measured figure, its threshold and its base.")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "rule_pack", "subject"],
                condition=models.Q(cleared_at__isnull=True),
                name="drift_alert_once_per_open_condition",
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "-first_seen_at"],
                name="drift_alert_unacknowledged",
                condition=models.Q(acknowledged_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def figures_text(self) -> str:
        """The figures in words: "override rate 0.5667 · overridden 17 · decisions 30"."""
        return " · ".join(f"{k.replace('_', ' ')} {v}" for k, v in (self.figures or {}).items())
