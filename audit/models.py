"""Append-only, hash-chained audit events.

Rows are written only by ``audit.services.record``. A PostgreSQL trigger (migration 0002) refuses
UPDATE and DELETE, and each tenant's events form a SHA-256 chain (``prev_hash`` -> ``hash``)
that ``manage.py audit_verify`` walks. Events without a tenant (logins) form a system chain.
"""

from django.conf import settings
from django.db import models

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
    data = models.JSONField(default=dict)
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
