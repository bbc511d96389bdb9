"""Review fixtures: a small US schedule, products, and decisions in any routing state."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction

from classification import services as classification_services
from classification.models import Decision, Job, JobStatus, ReviewState
from classification.review import states as review_states
from tariffs import parsers, reference
from tariffs import services as tariff_services
from tests.classification.conftest import import_products  # noqa: F401 (re-exported)

FIXTURES = Path(__file__).parent / "fixtures"
MENS = "6110202010"
WOMENS = "6110202020"


@pytest.fixture(autouse=True)
def _fresh_reference_cache():
    reference.clear_cache()
    yield
    reference.clear_cache()


@pytest.fixture
def us_schedule(db):
    """Load a small US schedule (sweaters, T-shirts, batteries) as the current one."""
    return tariff_services.schedule_load_usitc(
        actor=None,
        source=parsers.read_source(str(FIXTURES / "usitc_review_small.csv")),
        revision="2026 Rev 4",
        effective_date=dt.date(2026, 2, 20),
    )


def evidence_for(code: str, *, score: float, runner_up: str = WOMENS, flags=None) -> dict:
    candidates = []
    if code:
        candidates.append(
            {
                "code": code,
                "score": score,
                "description": "Sweaters of cotton, men's",
                "rationale": "knitted pullover of cotton",
                "sources": [
                    {
                        "kind": "rule",
                        "ref": "knit-cotton-sweater",
                        "weight": 0.6,
                        "detail": {"matched": {"description": ["pullover", "cotton"]}},
                    }
                ],
                "duty": {"total": "4.13", "currency": "USD"},
                "declarable": True,
            }
        )
    if runner_up:
        candidates.append(
            {
                "code": runner_up,
                "score": round(score - 0.03, 4),
                "description": "Sweaters of cotton, women's",
                "rationale": "",
                "sources": [{"kind": "search", "ref": "search", "weight": 0.3, "detail": {}}],
                "duty": {"total": "4.13", "currency": "USD"},
                "declarable": True,
            }
        )
    return {
        "candidates": candidates,
        "rejected": [
            {"code": "6109100012", "score": 0.2, "reason": "excluded", "detail": "knit top"}
        ],
        "reasons": [],
        "duty": {"selected": {"total": "4.13", "currency": "USD", "lines": []}, "exposure": []},
        "flags": flags or {},
    }


@pytest.fixture
def make_decision(cast, make_products, monkeypatch):
    """Create a decision for a new (or given) product, as the runner would have written it."""
    from classification import tasks

    # Transactional (browser) tests run on-commit work: keep workers from deciding the job.
    monkeypatch.setattr(tasks, "wake", lambda count=1: None)
    counter = iter(range(10_000))

    def make(
        product=None,
        *,
        outcome="needs_review",
        code=MENS,
        confidence=0.71,
        reasons=("low_confidence",),
        risk="low",
        flags=None,
        tenant=None,
        rule_pack=None,
        reason_details=(),
    ) -> ReviewState:
        if product is None:
            product = make_products(1, prefix=f"R{next(counter)}", tenant=tenant)[0]
        request = classification_services.request_create(
            actor=None, tenant=product.tenant, product_ids=[product.pk]
        )
        job = Job.objects.get(request=request)
        Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
        # One transaction, as the worker writes them: a decision commits with its review state.
        with transaction.atomic():
            decision = Decision.objects.create(
                tenant=product.tenant,
                job=job,
                attempt=1,
                product=product,
                product_version_id=job.product_version_id,
                rule_pack=rule_pack,
                rule_pack_version=rule_pack.version if rule_pack else "2026.1",
                rule_pack_sha256=rule_pack.sha256 if rule_pack else "",
                jurisdiction="US",
                schedule_revision="2026 Rev 4",
                engine_version="test",
                selected_code=code,
                confidence=confidence,
                outcome=outcome,
                reasons=list(reasons),
                risk_band=risk,
                duty_total=Decimal("4.13") if code else None,
                duty_currency="USD",
                evidence={
                    **evidence_for(code, score=confidence, flags=flags),
                    "reasons": list(reason_details),
                },
            )
            review_states.review_states_open([decision], actor_label="test")
        return ReviewState.objects.select_related("decision", "product", "tenant").get(
            pk=decision.pk
        )

    return make
