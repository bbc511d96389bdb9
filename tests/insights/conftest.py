"""Decisions with known figures for the dashboard: bulk-inserted, review states set directly
(and their daily tallies counted again from them)."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from classification import tasks as classification_tasks
from classification.review import tallies
from tests.classification.conftest import import_products

NOW = timezone.make_aware(dt.datetime(2026, 3, 20, 12, 0))


@pytest.fixture(autouse=True)
def _no_wakeups(monkeypatch):
    monkeypatch.setattr(classification_tasks, "wake", lambda count=1: None)


def add_decisions(tenant, actor, rows: list[dict]) -> list:
    """One decision and review state per row. Row keys: outcome, selected, final (a final code
    decided by ``actor`` unless ``spot_check`` says otherwise), confidence, created (datetime),
    decided (datetime), status, queue, source, rule, pack, declared_duty, duty, jurisdiction,
    evidence (extra evidence), assignee, spot_check."""
    from classification.models import (
        ClassificationRequest,
        Decision,
        Job,
        JobStatus,
        ReviewState,
    )

    product = import_products(tenant, actor, [{"SKU": f"INS-{uuid.uuid4().hex[:8]}"}])[0]
    requests = ClassificationRequest.objects.bulk_create(
        ClassificationRequest(tenant=tenant, group=uuid.uuid4(), source="ui", product_count=1)
        for _ in rows
    )
    jobs = Job.objects.bulk_create(
        Job(
            request=r,
            tenant=tenant,
            product=product,
            product_version_id=product.current_version_id,
            status=JobStatus.DONE,
        )
        for r in requests
    )
    with transaction.atomic():
        decisions = Decision.objects.bulk_create(
            Decision(
                tenant=tenant,
                job=job,
                attempt=1,
                product=product,
                product_version_id=product.current_version_id,
                jurisdiction=row.get("jurisdiction", "US"),
                engine_version="test",
                rule_pack_version=row.get("pack", "1"),
                selected_code=row.get("selected", "6110202010"),
                confidence=row.get("confidence", 0.9),
                outcome=row.get("outcome", "needs_review"),
                reasons=[],
                risk_band="medium",
                evidence=row.get("evidence", {"candidates": []}),
            )
            for job, row in zip(jobs, rows, strict=True)
        )
        states = []
        for decision, row in zip(decisions, rows, strict=True):
            final = row.get("final", "")
            spot = row.get("spot_check", "")
            status = row.get("status", "final" if final else "open")
            states.append(
                ReviewState(
                    decision=decision,
                    tenant=tenant,
                    product=product,
                    status=status,
                    queue=row.get("queue", "decided" if status == "final" else "needs_review"),
                    outcome=decision.outcome,
                    risk_rank=2,
                    confidence=decision.confidence,
                    duty_sort=row.get("duty", Decimal(-1)),
                    jurisdiction=decision.jurisdiction,
                    rule_pack_version=decision.rule_pack_version,
                    decision_created_at=row.get("created", NOW),
                    final_code=final,
                    decided_by=actor
                    if final and spot in ("", "corrected") and not row.get("system")
                    else None,
                    decided_at=row.get("decided", row.get("created", NOW)) if final else None,
                    spot_check=spot,
                    selected_code=decision.selected_code,
                    evidence_source=row.get("source", ""),
                    rule_id=row.get("rule", ""),
                    declared_duty=row.get("declared_duty"),
                    assignee=row.get("assignee"),
                    updated_at=row.get("updated", row.get("created", NOW)),
                )
            )
        ReviewState.objects.bulk_create(states)
        tallies.tally_rebuild(
            tenant.pk
        )  # states written directly: count them as the migration does
    return decisions
