"""Rule pack activation and its refusal reach the outbox."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent, OutboxEvent
from rulepacks import services as rulepack_services


def _events(type_):
    return list(OutboxEvent.objects.filter(type=type_).order_by("id"))


def test_activation_and_refused_activation_are_both_announced(make_pack, lead):
    active = make_pack(stage="active")
    (activated,) = _events("rulepack.activated")
    assert activated.payload["rulepack_id"] == active.pk
    assert activated.payload["sha256"] == active.sha256

    draft = make_pack(stage="validated", cases=3)  # too few backtest cases to activate
    with pytest.raises(ValidationError):
        rulepack_services.rulepack_activate(actor=lead, pack=draft)
    (refused,) = _events("rulepack.activation_refused")
    assert refused.payload["rulepack_id"] == draft.pk and refused.payload["reasons"]
    assert AuditEvent.objects.filter(
        verb="rulepacks.rulepack.activation_refused", target_id=str(draft.pk)
    ).exists()
    draft.refresh_from_db()
    assert draft.status != "active"
