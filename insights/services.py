"""Writes of the insights app: drift alerts raised by the schedule, acknowledged by a lead."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from audit import outbox
from insights import drift
from insights.models import DriftAlert
from rulepacks import selectors as rulepack_selectors
from rulepacks.models import RulePack
from workbench.models import Tenant


def _describe(alert: DriftAlert) -> dict:
    return {
        "alert_id": alert.pk,
        "kind": alert.kind,
        "subject": alert.subject,
        "jurisdiction": alert.jurisdiction,
        "figures": alert.figures,
        "rule_pack": {"id": alert.rule_pack_id, "version": alert.rule_pack.version},
    }


@transaction.atomic
def drift_evaluate(*, tenant_id: int) -> list[DriftAlert]:
    """Evaluate the drift conditions of each of the tenant's active packs; return new alerts.

    Under a lock on the tenant row, so two runs cannot both raise one condition (the partial
    unique constraint backs this). A condition with no uncleared alert becomes one — recorded
    (``insights.drift.detected``) and announced once (``policy.drift_detected``); one that still
    holds refreshes its figures silently; an alert whose condition no longer holds is cleared.
    """
    # FOR NO KEY UPDATE: runs exclude each other, but the key-share locks that every other
    # tenant write's foreign-key check takes at commit are not blocked (FOR UPDATE blocked them
    # and deadlocked with the audit chain's lock: a digest commit waited on the tenant row while
    # this run waited on the chain).
    tenant = Tenant.objects.select_for_update(no_key=True).get(pk=tenant_id)
    now = timezone.now()
    standing = {
        (a.kind, a.rule_pack_id, a.subject): a
        for a in DriftAlert.objects.filter(tenant=tenant, cleared_at__isnull=True).select_related(
            "rule_pack"
        )
    }
    created = []
    for pack in RulePack.objects.for_tenant(tenant).active().order_by("jurisdiction"):
        for condition in drift.conditions(pack, rulepack_selectors.compiled(pack)):
            key = (condition.kind, pack.pk, condition.subject)
            alert = standing.pop(key, None)
            if alert is not None:
                alert.figures, alert.last_seen_at = condition.figures, now
                alert.save(update_fields=["figures", "last_seen_at"])
                continue
            alert = DriftAlert(
                tenant=tenant,
                kind=condition.kind,
                rule_pack=pack,
                jurisdiction=pack.jurisdiction,
                subject=condition.subject,
                figures=condition.figures,
                first_seen_at=now,
                last_seen_at=now,
            )
            alert.full_clean()
            alert.save()
            data = _describe(alert)
            audit.record(
                actor=None,
                actor_label="drift schedule",
                verb="insights.drift.detected",
                target=alert,
                tenant=tenant,
                data=data,
            )
            outbox.emit(
                tenant=tenant,
                type=outbox.POLICY_DRIFT_DETECTED,
                payload={**data, "link": outbox.link(tenant, "insights:index")},
                target=alert,
            )
            created.append(alert)
    for alert in standing.values():
        alert.cleared_at = now
        alert.save(update_fields=["cleared_at"])
        audit.record(
            actor=None,
            actor_label="drift schedule",
            verb="insights.drift.cleared",
            target=alert,
            tenant=tenant,
            data=_describe(alert),
        )
    return created


@transaction.atomic
def alert_acknowledge(*, actor, tenant, alert_id: int) -> DriftAlert:
    """Acknowledge one of the tenant's drift alerts: it leaves the dashboard; audited.

    Raises ``DriftAlert.DoesNotExist`` for another tenant's alert, ``ValidationError`` for one
    already acknowledged (naming who did, and when).
    """
    alert = DriftAlert.objects.select_for_update(of=("self",)).select_related(
        "rule_pack", "acknowledged_by"
    )
    alert = alert.get(tenant=tenant, pk=alert_id)
    if alert.acknowledged_at is not None:
        who = alert.acknowledged_by.get_username() if alert.acknowledged_by else "someone"
        raise ValidationError(
            {"alert": f"{who} acknowledged this alert at {alert.acknowledged_at:%Y-%m-%d %H:%M}."}
        )
    alert.acknowledged_by, alert.acknowledged_at = actor, timezone.now()
    alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
    audit.record(
        actor=actor,
        verb="insights.drift.acknowledged",
        target=alert,
        tenant=tenant,
        data=_describe(alert),
    )
    return alert
