"""A final decision promoted to a golden case of a draft rule pack."""

from django.db import transaction

import audit
from classification.models import ActionKind, Outcome, ReviewState, ReviewStatus
from classification.review.services._base import _append, _lock, _require_status
from metering import counters
from rulepacks import promote


def _golden_facts(state: ReviewState) -> dict:
    facts = dict(state.decision.product_version.facts)
    return {k: v for k, v in facts.items() if v not in (None, "", [])}


@transaction.atomic
@counters.batched
def review_promote_golden(*, actor, state: ReviewState, version: int):
    """Add a final decision's facts and final code as a golden case to a draft rule pack.

    Uses the rule packs app's service (a draft is created from the active pack when none
    exists). Raises ``ValidationError`` when the decision is not final or the rule packs app
    refuses the case; ``StaleAction`` for a stale version. Audited here and by rule packs.
    """
    state = _lock(state, version)
    _require_status(state, (ReviewStatus.FINAL,), "promoted to a golden case")
    pack = promote.rulepacks_promote_golden(
        actor=actor,
        tenant=state.tenant,
        jurisdiction=state.jurisdiction,
        case_id=f"decision-{state.pk}",
        facts=_golden_facts(state),
        code=state.final_code,
        outcome=Outcome.CLASSIFIED,
    )
    action = _append(
        state,
        actor=actor,
        kind=ActionKind.PROMOTE,
        code=state.final_code,
        data={"rule_pack": pack.pk, "rule_pack_version": pack.version},
    )
    audit.record(
        actor=actor,
        verb="classification.review.promoted",
        target=state.decision,
        tenant=state.tenant,
        data={"sku": state.product.sku, "code": state.final_code, "rule_pack": pack.pk},
    )
    return action
