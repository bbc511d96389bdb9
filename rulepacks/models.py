"""Rule packs: a tenant's written classification policy for one jurisdiction, immutable once active.

Immutability is enforced by a PostgreSQL trigger (migration 0002), not only here: an active or
retired pack's source, hash, thresholds, pinned schedule and reports never change, its only
possible status change is active → retired, and it can never be deleted.
"""

from django.conf import settings
from django.db import models


class RulePackStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    VALIDATED = "validated", "Validated"
    FAILED = "failed", "Failed"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


EDITABLE_STATUSES = (RulePackStatus.DRAFT, RulePackStatus.VALIDATED, RulePackStatus.FAILED)


class RulePackQuerySet(models.QuerySet):
    def for_tenant(self, tenant):
        return self.filter(tenant=tenant)

    def active(self):
        return self.filter(status=RulePackStatus.ACTIVE)


def _user_fk(related_name: str):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name=related_name,
    )


class RulePack(models.Model):
    """One version of a tenant's rule pack for one destination jurisdiction."""

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    jurisdiction = models.CharField(max_length=2)
    name = models.CharField(max_length=200, blank=True)
    version = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=16, choices=RulePackStatus.choices, default=RulePackStatus.DRAFT
    )
    source = models.TextField()
    sha256 = models.CharField(max_length=64)
    min_confidence = models.FloatField(null=True, blank=True)
    tie_margin = models.FloatField(null=True, blank=True)
    schedule_revision = models.CharField(max_length=100, blank=True)
    gate_report = models.JSONField(default=dict, blank=True)
    backtest_cases = models.JSONField(default=list, blank=True)
    backtest_cases_name = models.CharField(max_length=200, blank=True)
    backtest_report = models.JSONField(default=dict, blank=True)
    created_by = _user_fk("+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    validated_by = _user_fk("+")
    validated_at = models.DateTimeField(null=True, blank=True)
    backtested_by = _user_fk("+")
    backtested_at = models.DateTimeField(null=True, blank=True)
    activated_by = _user_fk("+")
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_by = _user_fk("+")
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = RulePackQuerySet.as_manager()

    class Meta:
        ordering = ["jurisdiction", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "jurisdiction"],
                condition=models.Q(status="active"),
                name="rulepack_one_active_per_tenant_jurisdiction",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RulePackStatus.values),
                name="rulepack_status_known",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "jurisdiction", "status"])]

    def __str__(self) -> str:
        label = f" v{self.version}" if self.version else ""
        return f"{self.jurisdiction} rule pack #{self.pk}{label} ({self.status})"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    @property
    def gates_passed(self) -> bool:
        report = self.gate_report or {}
        return bool(report.get("passed")) and report.get("sha256") == self.sha256

    @property
    def backtest_passed(self) -> bool:
        report = self.backtest_report or {}
        return bool(report.get("passed")) and report.get("sha256") == self.sha256
