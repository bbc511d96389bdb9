"""Opening the review of new decisions: where each starts, and what it supersedes, recorded.

Every writer of decisions (the worker's batch commit, the learning evaluation) calls
``review_states_open`` in the transaction that inserts them. It closes the products' unfinished
older states with a ``superseded`` action naming the new decision, audited, and creates one
``ReviewState`` per decision in the queue ``REVIEW_START`` gives its outcome. The database only
guards the result: a decision committed without its review state is refused (migration 0011).
"""

from decimal import Decimal

from django.utils import timezone

from audit import services as audit_services
from classification.models import (
    ActionKind,
    Outcome,
    ReviewAction,
    ReviewQueue,
    ReviewState,
    ReviewStatus,
)
from classification.review import tallies
from workbench.models import Tenant

# Where a new decision's review starts, by outcome: (status, queue). The one place this lives.
REVIEW_START = {
    Outcome.CLASSIFIED: (ReviewStatus.OPEN, ReviewQueue.CONFIRM),
    Outcome.NEEDS_REVIEW: (ReviewStatus.OPEN, ReviewQueue.NEEDS_REVIEW),
    Outcome.BLOCKED: (ReviewStatus.OPEN, ReviewQueue.BLOCKED),
}
RISK_RANK = {"high": 3, "medium": 2, "low": 1}
# Review states a newer decision of the same product replaces (final ones stay final until a
# newer decision is itself finalized: ``services.finalize._supersede_finals``).
UNFINISHED = (ReviewStatus.OPEN, ReviewStatus.ESCALATED, ReviewStatus.INFO_REQUESTED)


def winning_evidence(evidence: dict) -> dict:
    """The best candidate's strongest source and best rule, and the declared code's duty."""
    candidates = evidence.get("candidates") or []
    sources = (candidates[0].get("sources") or []) if candidates else []
    by_weight = sorted(sources, key=lambda s: -float(s.get("weight") or 0))
    rules = [s for s in by_weight if s.get("kind") == "rule"]
    declared = ((evidence.get("duty") or {}).get("declared") or {}).get("estimate") or {}
    total = declared.get("total") if declared.get("computable") else None
    return {
        "evidence_source": str(by_weight[0].get("kind") or "")[:12] if by_weight else "",
        "rule_id": str(rules[0].get("ref") or "")[:64] if rules else "",
        "declared_duty": Decimal(str(total)) if total not in (None, "") else None,
    }


def state_for(decision, facts: dict, now) -> ReviewState:
    """The unsaved review state a new decision starts with (queue, sort and filter columns)."""
    status, queue = REVIEW_START[decision.outcome]
    candidates = (decision.evidence or {}).get("candidates") or []
    suggested = (
        candidates[0].get("description", "") if decision.selected_code and candidates else ""
    )
    return ReviewState(
        decision_id=decision.pk,
        tenant_id=decision.tenant_id,
        product_id=decision.product_id,
        status=status,
        queue=queue,
        outcome=decision.outcome,
        risk_rank=RISK_RANK[decision.risk_band],
        confidence=decision.confidence,
        duty_sort=decision.duty_total if decision.duty_total is not None else -1,
        jurisdiction=decision.jurisdiction,
        origin=str(facts.get("country_of_origin") or "")[:2].upper(),
        rule_pack_version=decision.rule_pack_version,
        reasons=list(decision.reasons),
        suggested_description=(suggested or "")[:300],
        selected_code=decision.selected_code or "",
        **winning_evidence(decision.evidence or {}),
        decision_created_at=decision.created_at,
        updated_at=now,
    )


def review_states_open(decisions, *, actor_label: str, facts: dict[int, dict] | None = None):
    """Open the review of ``decisions`` (saved, one per product) in the caller's transaction.

    ``facts`` maps each decision's product version id to its facts (read here when not given:
    one query). The products' older
    unfinished states become ``superseded``, each with a ``superseded`` action naming the new
    decision and a ``classification.review.superseded`` event under ``actor_label`` (no person
    acted); then one state per decision is created in its outcome's queue. Returns the states.
    """
    if not decisions:
        return []
    if facts is None:
        from catalog.models import ProductVersion

        facts = dict(
            ProductVersion.objects.filter(
                pk__in={d.product_version_id for d in decisions}
            ).values_list("pk", "facts")
        )
    now = timezone.now()
    states = ReviewState.objects.bulk_create(
        [state_for(d, facts.get(d.product_version_id) or {}, now) for d in decisions]
    )
    newest = {d.product_id: d for d in sorted(decisions, key=lambda d: d.pk)}
    older = list(
        ReviewState.objects.select_for_update(of=("self",))
        .filter(product_id__in=newest, status__in=UNFINISHED)
        .exclude(decision_id__in=[d.pk for d in newest.values()])
        .order_by("pk")
    )
    actions, events = [], {}
    for state in older:
        by = newest[state.product_id]
        state.status, state.queue = ReviewStatus.SUPERSEDED, ReviewQueue.CLOSED
        state.version += 1
        state.updated_at = now
        actions.append(
            ReviewAction(
                tenant_id=state.tenant_id,
                decision_id=state.pk,
                kind=ActionKind.SUPERSEDED,
                version=state.version,
                data={"by": by.pk},
            )
        )
        events.setdefault(state.tenant_id, []).append(
            {
                "actor": None,
                "actor_label": actor_label,
                "verb": "classification.review.superseded",
                "target": ("classification.decision", state.pk),
                "data": {"by_decision": by.pk, "product": state.product_id},
            }
        )
    # insights: the new states join their figures, the older ones leave the open backlog.
    tallies.tally_opened(states, superseded=older)
    if older:
        ReviewState.objects.bulk_update(older, ["status", "queue", "version", "updated_at"])
        ReviewAction.objects.bulk_create(actions)
        for tenant_id, entries in events.items():
            audit_services.record_many(tenant=Tenant(pk=tenant_id), entries=entries)
    return states
