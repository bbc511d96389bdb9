"""Writes of the learning evaluation: labelled cases become a scratch tenant's broker decisions.

The evaluation measures what finalized decisions teach the engine, so the decisions must reach
it exactly as a broker's do: products with versions, a catalog classification run, the decisions
a worker writes for a tenant without an active pack, and the review workbench's override. Only
the volume differs (bulk inserts where the catalog import would go row by row). Callers run this
inside a transaction they roll back (``classification.learning.learned_precedents``); the service
itself is an ordinary audited write into a tenant of its own, never into an existing one.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audit import services as audit_services
from catalog import facts as catalog_facts
from catalog import services as catalog_services
from catalog.models import Product, ProductVersion
from classification import engine, runner
from classification import services as classification_services
from classification.models import Decision, Job, JobStatus, OverrideReason, ReviewState
from classification.review import services as review_services
from classification.review import states as review_states
from workbench import services as workbench_services
from workbench.roles import Role

NOTE = "Labelled evaluation case {case}: the code of its ruling, finalized to measure learning."


@dataclass(frozen=True)
class LabelledCase:
    """One case to finalize: its id (for the note), its facts and the code the broker files."""

    case_id: str
    facts: dict
    code: str


@dataclass(frozen=True)
class ScratchTenant:
    tenant: object
    broker: object
    finalized: int


@transaction.atomic
def evaluation_tenant_create(
    *, jurisdiction: str, cases: Sequence[LabelledCase], reference
) -> ScratchTenant:
    """Create a scratch tenant whose broker has finalized each case with its labelled code.

    Guarantees: a new tenant (slug ``eval-…``) with a new broker, so no existing tenant's rows
    change; each case becomes a product with one version, a job of a catalog classification
    run, the decision the engine gives a tenant without an active pack (``blocked``, as a worker
    would write it), and a broker override to the case's code through the review service, which
    validates the code against the current schedule (``ValidationError`` otherwise). Audited like
    the real flow: tenant, membership, products, request, decisions and each override.
    """
    tag = uuid.uuid4().hex[:12]
    tenant = workbench_services.tenant_create(
        actor=None, slug=f"eval-{tag}", name=f"Evaluation scratch {tag}"
    )
    broker = get_user_model().objects.create_user(username=f"eval-broker-{tag}")
    workbench_services.membership_set(actor=None, tenant=tenant, user=broker, role=Role.BROKER)
    _products(tenant, jurisdiction, cases)
    classification_services.catalog_classify(actor=None, tenant=tenant, jurisdiction=jurisdiction)
    _decisions(tenant, jurisdiction, reference)
    codes = {f"learn-{i}": case for i, case in enumerate(cases)}
    states = ReviewState.objects.filter(tenant=tenant).select_related(
        "decision", "product", "tenant"
    )
    for state in states.order_by("pk"):
        case = codes[state.product.sku]
        review_services.review_override(
            actor=broker,
            state=state,
            version=state.version,
            code=case.code,
            reason_code=OverrideReason.OTHER,  # a labelled case; its ruling number is not known
            note=NOTE.format(case=case.case_id),
        )
    return ScratchTenant(tenant=tenant, broker=broker, finalized=len(codes))


def _products(tenant, jurisdiction: str, cases: Sequence[LabelledCase]) -> None:
    """Insert one product and its first version per case; one audit event per product."""
    facts = [
        {**case.facts, "sku": f"learn-{i}", "destination": jurisdiction}
        for i, case in enumerate(cases)
    ]
    products = Product.objects.bulk_create(
        Product(
            tenant=tenant,
            sku=f["sku"],
            name=(f.get("name") or "")[:200],
            description=f["description"],
            destination=jurisdiction,
            country_of_origin=(f.get("country_of_origin") or "")[:2],
        )
        for f in facts
    )
    versions = ProductVersion.objects.bulk_create(
        ProductVersion(product=p, n=1, facts=f, sha256=catalog_facts.facts_sha256(f))
        for p, f in zip(products, facts, strict=True)
    )
    for product, version in zip(products, versions, strict=True):
        product.current_version = version
    Product.objects.bulk_update(products, ["current_version"])
    audit_services.record_many(
        tenant=tenant,
        entries=[
            {
                "actor": None,
                "actor_label": "learning evaluation",
                "verb": "catalog.product.created",
                "target": p,
                "data": {"sku": p.sku, "version": 1, "facts": v.facts},
            }
            for p, v in zip(products, versions, strict=True)
        ],
    )


def _decisions(tenant, jurisdiction: str, reference) -> None:
    """Decide the tenant's queued jobs as a worker would: the engine with the tenant's (absent)
    pack, one decision per job, jobs done, products' status set, one event per decision."""
    now = timezone.now()
    jobs = list(
        Job.objects.filter(tenant=tenant, status=JobStatus.QUEUED).select_related("product_version")
    )
    rows = []
    for job in jobs:
        version = job.product_version
        # No pack: a tenant without one gets ``blocked`` / ``no_active_rule_pack``, which is what
        # the broker then overrides. Its candidates would be advice only, so none are ranked.
        value = engine.classify(
            version.facts, pack=None, reference=reference, facts_sha256=version.sha256
        )
        rows.append(
            runner.decision_row(
                value, job=job, attempt=1, pack_id=None, jurisdiction=jurisdiction, now=now
            )
        )
    decisions = Decision.objects.bulk_create(rows)
    review_states.review_states_open(
        decisions,
        facts={j.product_version_id: j.product_version.facts for j in jobs},
        actor_label="learning evaluation",
    )
    Job.objects.filter(pk__in=[j.pk for j in jobs]).update(
        status=JobStatus.DONE, attempts=1, finished_at=now
    )
    for outcome in {d.outcome for d in decisions}:
        catalog_services.products_set_classification(
            product_ids=[d.product_id for d in decisions if d.outcome == outcome], status=outcome
        )
    audit_services.record_many(
        tenant=tenant,
        entries=[
            {
                "actor": None,
                "actor_label": "learning evaluation",
                "verb": "classification.decision.created",
                "target": d,
                "data": {"job": d.job_id, "code": d.selected_code, "outcome": d.outcome},
            }
            for d in decisions
        ],
    )
