"""Working leased jobs: run the engine outside any lock, then commit results that still hold.

``drain`` is what a worker runs: claim a batch of up to 25 jobs, classify each product with the
tenant's active pack, the schedule reference and the tenant's precedents, and commit the batch in
one short transaction that re-checks every job's fencing token. A job whose token moved on (its
lease expired and another worker took it) is skipped without writing anything; a job whose
engine run raised is retried, and after its last attempt becomes ``dead`` with the error kept.
"""

import contextlib
import gc
import logging
import time
import traceback
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from threadpoolctl import threadpool_limits

import audit
from audit import outbox
from audit import services as audit_services
from catalog import services as catalog_services
from classification import engine, leases, selectors
from classification.engine import search as engine_search
from classification.models import CLAIM_BATCH_SIZE, Decision, Job, JobStatus, Outcome
from classification.review import services as review_services
from classification.review import states as review_states
from metering import counters
from workbench import worker
from workbench.models import Tenant

log = logging.getLogger(__name__)


@dataclass
class DrainReport:
    claimed: int = 0
    done: int = 0
    failed: int = 0
    stale: int = 0
    outcomes: dict = field(default_factory=dict)


@dataclass
class _Result:
    lease: leases.Lease
    job: Job
    decision: object | None = None
    context: object | None = None
    error: str = ""


def drain(*, owner: str | None = None, max_batches: int | None = None) -> DrainReport:
    """Claim and work batches until the queue is empty (or ``max_batches`` were worked, or the
    worker is asked to stop)."""
    report = DrainReport()
    # One BLAS thread per worker: workers are processes, one a core; more threads per process
    # only fight over the cores for the semantic search's matrix products.
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            _drain(owner or leases.worker_name(), max_batches, report)
        finally:
            gc.unfreeze()
    return report


def _drain(owner: str, max_batches: int | None, report: DrainReport) -> None:
    contexts = selectors.EngineContexts()
    batches = 0
    while max_batches is None or batches < max_batches:
        if worker.stopping():
            break  # the jobs not claimed stay queued for the next worker
        batch = leases.claim(owner=owner, limit=CLAIM_BATCH_SIZE)
        if not batch:
            break
        batches += 1
        report.claimed += len(batch)
        if batches > 1:
            _commit(_run(batch, contexts), owner=owner, report=report)
            continue
        # What the first batch loads (schedule, search indexes, lexicon, precedents) and Django's
        # own objects are a few hundred thousand long-lived containers; each full collection
        # walked them all, a tenth of a worker's time. The collector waits while the first batch
        # builds them (collections then free little and walk a growing heap: a third of a second
        # per worker start); frozen after it, it skips them until the drain ends (``drain``
        # thaws them). The first batch's own cyclic garbage stays until then too: one batch's.
        with _collector_paused():
            _commit(_run(batch, contexts), owner=owner, report=report)
        gc.freeze()


@contextlib.contextmanager
def _collector_paused():
    """Turn the cyclic garbage collector off for the block (if it was on); on again after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _prefetch(jobs, contexts: "selectors.EngineContexts") -> None:
    """Find the batch's nearest schedule lines by meaning in one pass per schedule."""
    by_context: dict[int, tuple] = {}
    for job in jobs:
        facts = job.product_version.facts
        try:
            context = contexts.get(job.tenant_id, facts.get("destination") or "")
        except Exception:  # noqa: S112 - the job itself reports the error when it runs
            continue
        by_context.setdefault(id(context), (context, []))[1].append(facts)
    for context, facts_list in by_context.values():
        if context.reference is not None:
            engine_search.prefetch(facts_list, context.reference)


def _run(batch: list[leases.Lease], contexts: "selectors.EngineContexts") -> list[_Result]:
    jobs = Job.objects.select_related("product_version", "product").in_bulk(
        [lease.job_id for lease in batch]
    )
    _prefetch(jobs.values(), contexts)
    results = []
    for lease in batch:
        job = jobs[lease.job_id]
        result = _Result(lease=lease, job=job)
        try:
            facts = job.product_version.facts
            context = contexts.get(job.tenant_id, facts.get("destination") or "")
            result.decision = engine.classify(
                facts,
                pack=context.pack,
                reference=context.reference,
                precedents=context.precedents,
                facts_sha256=job.product_version.sha256,
                lexicon=context.lexicon,
                calibration=context.calibration,
            )
            result.context = context
        except Exception as err:  # a failing product must not take its batch down
            result.error = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=5)}"[:4000]
            log.warning("classification job %s failed: %s", job.pk, err)
        results.append(result)
    return results


def _decision_row(result: _Result, now) -> Decision:
    job, context = result.job, result.context
    return decision_row(
        result.decision,
        job=job,
        attempt=result.lease.attempt,
        pack_id=context.pack_id,
        jurisdiction=context.jurisdiction,
        now=now,
    )


def decision_row(value, *, job, attempt: int, pack_id, jurisdiction: str, now) -> Decision:
    """The unsaved Decision a worker writes for ``job`` from the engine's ``value``."""
    evidence = value.to_json()
    duty = (evidence.get("duty") or {}).get("selected") or {}
    total = duty.get("total")
    return Decision(
        tenant_id=job.tenant_id,
        # By id: ``job=job`` would also cache the decision on the job (a one-to-one), a cycle
        # that kept every batch's jobs, products and evidence alive until a full collection.
        job_id=job.pk,
        attempt=attempt,
        product_id=job.product_id,
        product_version_id=job.product_version_id,
        rule_pack_id=pack_id,
        rule_pack_version=(value.pack or {}).get("version", ""),
        rule_pack_sha256=(value.pack or {}).get("sha256", ""),
        jurisdiction=jurisdiction,
        schedule_revision=value.schedule_revision or "",
        engine_version=value.engine_version,
        selected_code=value.selected_code or "",
        confidence=round(float(value.confidence), 4),
        outcome=value.outcome,
        reasons=[reason.code for reason in value.reasons],
        risk_band=value.risk_band,
        duty_total=Decimal(str(total)) if total not in (None, "") else None,
        duty_currency=(duty.get("currency") or "")[:3],
        evidence=evidence,
        created_at=now,
    )


@transaction.atomic
@counters.batched
def _commit(results: list[_Result], *, owner: str, report: DrainReport) -> None:
    """Write the batch's decisions and job states, but only for leases whose token still holds.

    Usage (decisions by outcome, auto-finalized, dead jobs) is metered in one statement at the end.
    """
    ids = [r.lease.job_id for r in results]
    tokens = dict(Job.objects.select_for_update().filter(pk__in=ids).values_list("pk", "token"))
    now = timezone.now()
    held = [r for r in results if tokens.get(r.lease.job_id) == r.lease.token]
    report.stale += len(results) - len(held)
    succeeded = [r for r in held if r.decision is not None]
    decisions = Decision.objects.bulk_create([_decision_row(r, now) for r in succeeded])
    review_states.review_states_open(
        decisions,
        facts={r.job.product_version_id: r.job.product_version.facts for r in succeeded},
        actor_label=f"classification worker {owner}",
    )
    Job.objects.filter(pk__in=[r.lease.job_id for r in succeeded]).update(
        status=JobStatus.DONE, finished_at=now, lease_owner="", lease_expires_at=None
    )
    by_outcome: dict[str, list[int]] = {}
    by_tenant: dict[int, list[dict]] = {}
    for decision in decisions:
        by_outcome.setdefault(decision.outcome, []).append(decision.product_id)
        report.outcomes[decision.outcome] = report.outcomes.get(decision.outcome, 0) + 1
        by_tenant.setdefault(decision.tenant_id, []).append(_audit_entry(decision, owner))
    for tenant_id, entries in by_tenant.items():
        audit_services.record_many(tenant=Tenant(pk=tenant_id), entries=entries)
    _announce(decisions, skus={r.job.product_id: r.job.product.sku for r in succeeded})
    for outcome, product_ids in by_outcome.items():
        catalog_services.products_set_classification(product_ids=product_ids, status=outcome)
    _auto_finalize(decisions, succeeded)
    counters.add_many((d.tenant_id, counters.decisions(d.outcome), 1) for d in decisions)
    report.done += len(decisions)
    for r in held:
        if r.decision is None:
            _record_failure(r, now)
            report.failed += 1


def _auto_finalize(decisions: list[Decision], results: list[_Result]) -> None:
    """Finalize ``classified`` decisions whose pack says ``auto_finalize`` (in the batch commit);
    the others wait in the Confirm queue for a broker."""
    by_pack: dict[int, tuple] = {}
    for decision, result in zip(decisions, results, strict=True):
        pack = result.context.pack
        if decision.outcome == Outcome.CLASSIFIED and pack is not None and pack.auto_finalize:
            by_pack.setdefault(id(pack), (pack, []))[1].append(decision)
    for pack, chosen in by_pack.values():
        review_services.review_system_finalize(decisions=chosen, pack=pack)


def _announce(decisions: list[Decision], *, skus: dict[int, str]) -> None:
    """Emit ``decision.created`` for each decision, in the batch's transaction."""
    tenants = {t.pk: t for t in Tenant.objects.filter(pk__in={d.tenant_id for d in decisions})}
    by_tenant: dict[int, list] = {}
    for decision in decisions:
        tenant = tenants[decision.tenant_id]
        payload = {
            "decision_id": decision.pk,
            "product_id": decision.product_id,
            "sku": skus.get(decision.product_id, ""),
            "outcome": decision.outcome,
            "selected_code": decision.selected_code,
            "reasons": decision.reasons,
            "risk_band": decision.risk_band,
            "rule_pack_sha256": decision.rule_pack_sha256,
            "link": outbox.link(tenant, "classification:decision", pk=decision.pk),
        }
        by_tenant.setdefault(tenant.pk, []).append((outbox.DECISION_CREATED, payload, decision))
    for tenant_id, events in by_tenant.items():
        outbox.emit_many(tenant=tenants[tenant_id], events=events)


def _audit_entry(decision: Decision, owner: str) -> dict:
    return {
        "actor": None,
        "actor_label": f"classification worker {owner}",
        "verb": "classification.decision.created",
        "target": decision,
        "data": {
            "job": decision.job_id,
            "product": decision.product_id,
            "product_version": decision.product_version_id,
            "code": decision.selected_code,
            "confidence": decision.confidence,
            "outcome": decision.outcome,
            "reasons": decision.reasons,
            "risk": decision.risk_band,
            "rule_pack_sha256": decision.rule_pack_sha256,
            "schedule_revision": decision.schedule_revision,
        },
    }


def _record_failure(result: _Result, now) -> None:
    job, lease = result.job, result.lease
    dead = lease.attempt >= lease.max_attempts
    Job.objects.filter(pk=job.pk, token=lease.token).update(
        status=JobStatus.DEAD if dead else JobStatus.QUEUED,
        last_error=result.error,
        lease_owner="",
        lease_expires_at=None,
        finished_at=now if dead else None,
    )
    if dead:
        audit.record(
            actor=None,
            actor_label="classification worker",
            verb="classification.job.died",
            target=job,
            tenant=job.tenant,
            data={"attempts": lease.attempt, "error": result.error.splitlines()[0][:300]},
        )
        counters.add(tenant_id=job.tenant_id, metric=counters.JOBS_DEAD)


def wait_for(request_ids: list[int], *, timeout: float, poll: float = 0.5) -> bool:
    """Block until every job of the requests is done or dead; return False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Job.objects.filter(
            request_id__in=request_ids, status__in=[JobStatus.QUEUED, JobStatus.LEASED]
        ).exists():
            return True
        time.sleep(poll)
    return False
