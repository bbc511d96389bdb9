import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from audit import outbox
from audit.models import OutboxEvent
from tests.factories import TenantFactory


def _decision_payload(**over):
    payload = {
        "decision_id": 12,
        "product_id": 3,
        "sku": "LAP-1",
        "outcome": "classified",
        "selected_code": "8471300100",
        "link": "/t/acme/classification/decisions/12/",
    }
    payload.update(over)
    return payload


def test_an_event_carries_type_tenant_time_ids_codes_and_link(cast):
    event = outbox.emit(
        tenant=cast.tenant,
        type=outbox.DECISION_CREATED,
        payload=_decision_payload(),
        target=("classification.decision", 12),
    )
    event.refresh_from_db()
    assert event.status == "pending" and event.attempts == 0
    assert event.available_at == event.created_at
    assert (event.target_type, event.target_id) == ("classification.decision", "12")
    assert event.payload["type"] == "decision.created"
    assert event.payload["tenant"] == "acme"
    assert event.payload["selected_code"] == "8471300100"
    assert event.payload["link"] == "/t/acme/classification/decisions/12/"
    assert event.payload["occurred_at"]


def test_link_builds_an_absolute_tenant_path(cast):
    assert outbox.link(cast.tenant, "classification:decision", pk=12) == (
        "/t/acme/classification/decisions/12/"
    )


def test_an_event_is_never_written_when_its_change_rolls_back(cast):
    with pytest.raises(RuntimeError), transaction.atomic():
        TenantFactory(slug="rolled-back")
        outbox.emit(tenant=cast.tenant, type=outbox.DECISION_CREATED, payload=_decision_payload())
        raise RuntimeError("the decision could not be saved")
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_emit_refuses_to_run_outside_a_transaction():
    tenant = TenantFactory(slug="autocommit")
    with pytest.raises(TransactionManagementError, match="inside the transaction"):
        outbox.emit(tenant=tenant, type=outbox.DECISION_CREATED, payload=_decision_payload())
    assert not OutboxEvent.objects.exists()
    with transaction.atomic():
        outbox.emit(tenant=tenant, type=outbox.DECISION_CREATED, payload=_decision_payload())
    assert OutboxEvent.objects.count() == 1


def test_an_unknown_type_or_an_incomplete_payload_is_refused(cast):
    with pytest.raises(ValueError, match="unknown outbox event type"):
        outbox.emit(tenant=cast.tenant, type="decision.deleted", payload={})
    with pytest.raises(ValueError, match="lacks outcome, selected_code"):
        outbox.emit(
            tenant=cast.tenant,
            type=outbox.DECISION_CREATED,
            payload={
                k: v
                for k, v in _decision_payload().items()
                if k not in {"outcome", "selected_code"}
            },
        )
    assert not OutboxEvent.objects.exists()


def test_every_event_type_named_by_the_issue_exists():
    assert {
        "decision.created",
        "decision.finalized",
        "decision.escalated",
        "decision.info_requested",
        "decision.reopened",
        "rulepack.activated",
        "rulepack.activation_refused",
        "catalog.import_completed",
        "audit_export.ready",
        "audit_export.failed",
        "policy.drift_detected",
    } == outbox.EVENT_TYPES
    assert set(outbox.REQUIRED_KEYS) == outbox.EVENT_TYPES
    assert all("link" in keys for keys in outbox.REQUIRED_KEYS.values())
