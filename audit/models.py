"""Append-only, hash-chained audit events.

Rows are written only by ``audit.services.record``. A PostgreSQL trigger (migration 0002) refuses
UPDATE and DELETE, and each tenant's events form a SHA-256 chain (``prev_hash`` -> ``hash``)
that ``manage.py audit_verify`` walks. Events without a tenant (logins) form a system chain.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from workbench import worker
from workbench.fields import BulkJSONField

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    tenant = models.ForeignKey(
        "workbench.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seq = models.BigIntegerField(help_text="Position in the tenant's chain, from 1.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="Who acted, as shown at the time.")
    verb = models.CharField(max_length=100, help_text="app.entity.past_tense")
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    data = BulkJSONField(default=dict)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "seq"], name="audit_event_seq_per_chain", nulls_distinct=False
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_event_tenant_time"),
            models.Index(fields=["tenant", "verb"], name="audit_event_tenant_verb"),
            models.Index(fields=["target_type", "target_id"], name="audit_event_target"),
        ]
        ordering = ["-created_at", "-seq"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"#{self.seq} {self.verb} by {self.actor_label}"

    def chain_payload(self) -> dict:
        """Return the fields the hash covers, in the form they are stored."""
        return {
            "tenant": self.tenant_id,
            "seq": self.seq,
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "verb": self.verb,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "target_label": self.target_label,
            "data": self.data,
            "created_at": self.created_at,
            "prev_hash": self.prev_hash,
        }


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead"
    # Taken back before delivery (a broker's undo within its window): never announced.
    CANCELLED = "cancelled", "Cancelled"


class OutboxEvent(models.Model):
    """A domain event announced to other systems, written in the transaction of its change.

    Written only by ``audit.outbox.emit``; delivery (webhooks) reads pending rows whose
    ``available_at`` has passed and keeps the bookkeeping fields up to date.
    """

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=64)
    payload = BulkJSONField()
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    available_at = models.DateTimeField(help_text="Not delivered before this time (backoff).")
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                name="audit_outbox_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["tenant", "type", "-created_at"], name="audit_outbox_tenant_type"),
        ]
        ordering = ["id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.type} #{self.pk} ({self.status})"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class AuditExport(models.Model):
    """A frozen snapshot of a tenant's evidence for a scope, stored as canonical JSON.

    Once ``ready`` (or ``failed``) the row is immutable: a PostgreSQL trigger (migration 0004)
    refuses UPDATE and DELETE. Every rendering (JSON, XLSX, certificates) reads only the stored
    bytes, checked against ``sha256`` first.
    """

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by_label = models.CharField(max_length=200)
    scope = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    progress_note = models.CharField(max_length=200, blank=True)
    failure_reason = models.TextField(blank=True)
    payload = models.TextField(blank=True, help_text="Canonical JSON (small snapshots).")
    payload_file = models.CharField(
        max_length=300, blank=True, help_text="Storage name of the canonical JSON (large ones)."
    )
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="Counts shown in lists.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the build under way."
    )

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="audit_export_recent")]
        ordering = ["-created_at", "-id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"Audit export #{self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in (ExportStatus.READY, ExportStatus.FAILED)

    @property
    def is_stalled(self) -> bool:
        """Building, but its heartbeat has stopped: its worker is gone (the sweep fails it)."""
        return self.status == ExportStatus.RUNNING and worker.is_stale(self.heartbeat_at)

    @property
    def last_sign_of_life(self):
        """Its heartbeat, else its start, else its creation."""
        return self.heartbeat_at or self.started_at or self.created_at

    @property
    def silent_seconds(self) -> int:
        return max(0, int((timezone.now() - self.last_sign_of_life).total_seconds()))
