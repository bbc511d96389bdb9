"""Promote to golden case: a final decision's facts and code join a draft rule pack."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from classification.models import ReviewAction, ReviewState
from classification.review import services
from rulepacks import services as rulepack_services
from tests.rulepacks.fakes import pack_source
from workbench.roles import Role


def test_a_final_decision_becomes_a_golden_case_of_the_draft(cast, make_decision):
    lead = cast.users[Role.COMPLIANCE_LEAD]
    draft = rulepack_services.rulepack_create(
        actor=lead, tenant=cast.tenant, jurisdiction="US", source=pack_source()
    )
    state = make_decision()
    services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    state = ReviewState.objects.get(pk=state.pk)
    action = services.review_promote_golden(actor=lead, state=state, version=2)
    draft.refresh_from_db()
    assert f'id = "decision-{state.pk}"' in draft.source
    assert 'code = "6110.20.20.10"' in draft.source
    assert state.product.description in draft.source
    assert action.kind == "promote" and action.data["rule_pack"] == draft.pk
    assert AuditEvent.objects.filter(verb="classification.review.promoted").exists()
    assert AuditEvent.objects.filter(verb="rulepacks.rulepack.edited").exists()


def test_only_final_decisions_can_be_promoted(cast, make_decision):
    state = make_decision()
    with pytest.raises(ValidationError, match="cannot be promoted"):
        services.review_promote_golden(
            actor=cast.users[Role.COMPLIANCE_LEAD], state=state, version=1
        )
    assert not ReviewAction.objects.exists()
