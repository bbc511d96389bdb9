"""Policy drift alerts: raised once per open condition, announced once, acknowledged (audited)."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent, OutboxEvent
from insights import services, tasks
from insights.models import DriftAlert
from tests.classification.test_calibration_fits import active_pack
from tests.insights.conftest import add_decisions
from workbench.roles import Role

X, Y = "6110202010", "6109100012"
MONITORING = (
    "\n[monitoring]\nrule_override_rate = 0.5\nmin_decisions = 4\n"
    "review_rate_margin = 0.01\nautomation_precision_target = 0.9\n"
)


@pytest.fixture
def pack(cast, monkeypatch):
    from tests.rulepacks import conftest as rulepack_fixtures

    source = rulepack_fixtures.real_pack_source() + MONITORING
    monkeypatch.setattr(rulepack_fixtures, "real_pack_source", lambda **kw: source)
    return active_pack(cast.tenant, cast.users[Role.COMPLIANCE_LEAD])


def r1(pack, **row) -> dict:
    """A classified decision of ``pack`` whose winning evidence was rule r1."""
    return {"outcome": "classified", "rule": "r1", "pack": pack.version, **row}


def drifting(cast, pack):
    """Four checked decisions of rule r1, two overridden; all classified (precision 0.5), and
    four needing review after them (live review rate 1.0, the pack's backtest 0.9545)."""
    broker = cast.users[Role.BROKER]
    rows = [
        {
            "outcome": "classified",
            "final": code,
            "rule": "r1",
            "pack": pack.version,
            "source": "rule",
        }
        for code in (X, X, Y, Y)
    ] + [{"outcome": "needs_review", "pack": pack.version} for _ in range(4)]
    add_decisions(cast.tenant, broker, rows)


def test_each_condition_raises_one_alert_announced_once(cast, pack):
    drifting(cast, pack)
    first = services.drift_evaluate(tenant_id=cast.tenant.pk)
    assert sorted((a.kind, a.subject) for a in first) == [
        ("automation_precision", pack.version),
        ("review_rate", pack.version),
        ("rule_override", "r1"),
    ]
    rule = next(a for a in first if a.kind == "rule_override")
    assert rule.figures == {"override_rate": 0.5, "overridden": 2, "decisions": 4, "threshold": 0.5}
    assert rule.figures_text == "override rate 0.5 · overridden 2 · decisions 4 · threshold 0.5"
    assert services.drift_evaluate(tenant_id=cast.tenant.pk) == []  # still holds: no new alert
    assert DriftAlert.objects.count() == 3
    events = OutboxEvent.objects.filter(type="policy.drift_detected")
    assert events.count() == 3
    assert AuditEvent.objects.filter(verb="insights.drift.detected").count() == 3


def test_nothing_fires_below_the_minimum_number_of_decisions(cast, pack):
    add_decisions(
        cast.tenant,
        cast.users[Role.BROKER],
        [
            {"outcome": "classified", "final": Y, "rule": "r1", "pack": pack.version}
            for _ in range(3)
        ],
    )
    assert services.drift_evaluate(tenant_id=cast.tenant.pk) == []


def test_an_acknowledged_alert_leaves_the_dashboard_and_does_not_fire_again(cast, pack):
    drifting(cast, pack)
    services.drift_evaluate(tenant_id=cast.tenant.pk)
    alert = DriftAlert.objects.get(kind="rule_override")
    page = reverse("insights:index", args=["acme"])
    lead = cast.client(Role.COMPLIANCE_LEAD)
    assert 'data-alert="rule_override"' in lead.get(page).content.decode()
    response = lead.post(
        reverse("insights:acknowledge", args=["acme", alert.pk]), {"query": "period=7"}
    )
    assert response.status_code == 302 and response["Location"] == page + "?period=7"
    alert.refresh_from_db()
    assert alert.acknowledged_by == cast.users[Role.COMPLIANCE_LEAD]
    assert AuditEvent.objects.filter(verb="insights.drift.acknowledged").count() == 1
    assert 'data-alert="rule_override"' not in lead.get(page).content.decode()
    assert services.drift_evaluate(tenant_id=cast.tenant.pk) == []
    assert OutboxEvent.objects.filter(type="policy.drift_detected").count() == 3


def test_a_cleared_condition_that_recurs_is_a_new_alert(cast, pack):
    drifting(cast, pack)
    services.drift_evaluate(tenant_id=cast.tenant.pk)
    add_decisions(
        cast.tenant,
        cast.users[Role.BROKER],
        [
            {"outcome": "classified", "final": X, "rule": "r1", "pack": pack.version}
            for _ in range(4)
        ],
    )
    services.drift_evaluate(tenant_id=cast.tenant.pk)
    assert DriftAlert.objects.get(kind="rule_override").cleared_at is not None
    drifting(cast, pack)
    again = services.drift_evaluate(tenant_id=cast.tenant.pk)
    assert [a.kind for a in again if a.kind == "rule_override"] == ["rule_override"]


def test_the_schedule_queues_one_evaluation_per_tenant_with_an_active_pack(cast, pack, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "async_task", lambda *a, **kw: queued.append(a))
    assert tasks.evaluate_drift() == 1
    assert queued == [(tasks.DRIFT_TENANT_TASK, cast.tenant.pk)]
    drifting(cast, pack)
    assert tasks.evaluate_tenant_drift(cast.tenant.pk) == 3


def test_a_second_acknowledgement_names_who_acknowledged_first(cast, pack):
    drifting(cast, pack)
    [alert, *_] = services.drift_evaluate(tenant_id=cast.tenant.pk)
    lead = cast.users[Role.COMPLIANCE_LEAD]
    services.alert_acknowledge(actor=lead, tenant=cast.tenant, alert_id=alert.pk)
    with pytest.raises(Exception, match="acme-compliance_lead acknowledged this alert"):
        services.alert_acknowledge(actor=lead, tenant=cast.tenant, alert_id=alert.pk)


def test_an_evaluation_never_blocks_other_writes_to_the_tenant(cast, pack):
    """Other transactions' foreign-key checks take FOR KEY SHARE on the tenant row at commit:
    the evaluation's lock must not conflict with it (FOR UPDATE did, and deadlocked a digest
    holding the audit chain's lock against an evaluation waiting for it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    drifting(cast, pack)
    with CaptureQueriesContext(connection) as queries:
        services.drift_evaluate(tenant_id=cast.tenant.pk)
    locks = [q["sql"] for q in queries if '"workbench_tenant"' in q["sql"] and " FOR " in q["sql"]]
    assert locks and all(sql.endswith("FOR NO KEY UPDATE") for sql in locks), locks
