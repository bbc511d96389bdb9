"""Reads for classification: engine inputs, request progress, decisions, dead jobs."""

import time
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from threadpoolctl import threadpool_limits

from audit.services import changes
from catalog.facts import LABELS
from catalog.models import ClassificationStatus, Product, ProductVersion
from classification import engine
from classification import precedents as classification_precedents
from classification.calibrations import current_calibration
from classification.engine import search as engine_search
from classification.models import (
    ClassificationRequest,
    Decision,
    Job,
    JobStatus,
    ReviewState,
    ReviewStatus,
)
from rulepacks import backtest as rulepack_backtest
from rulepacks import routing
from rulepacks import selectors as rulepack_selectors
from tariffs import lexicon as tariff_lexicon
from tariffs import reference as tariff_reference
from workbench import hooks
from workbench.extension_points import CodeUse
from workbench.models import ReactionFailure, Tenant


@dataclass(frozen=True)
class EngineContext:
    """What the engine needs for one (tenant, jurisdiction): pack, schedule, precedents."""

    jurisdiction: str
    pack: object | None
    pack_id: int | None
    reference: object | None
    precedents: "engine.PrecedentIndex"
    lexicon: object | None = None  # tariffs.lexicon.LexiconIndex of everyday terms
    calibration: object | None = None  # the tenant's own fit; None: the engine's default


class EngineContexts:
    """Per-drain cache of engine contexts, so a batch of 25 loads each input once."""

    def __init__(self):
        self._cache: dict[tuple[int, str], EngineContext] = {}

    def get(self, tenant_id: int, jurisdiction: str) -> EngineContext:
        key = (tenant_id, jurisdiction)
        if key not in self._cache:
            self._cache[key] = engine_context(tenant_id, jurisdiction)
        return self._cache[key]


def engine_context(tenant_id: int, jurisdiction: str) -> EngineContext:
    """Load the tenant's active pack, the current schedule, the tenant's precedents and its
    current calibration fit (None: the engine's default)."""
    active = rulepack_selectors.active_compiled(Tenant(pk=tenant_id), jurisdiction)
    pack_row, compiled = active if active else (None, None)
    return EngineContext(
        jurisdiction=jurisdiction,
        pack=compiled,
        pack_id=pack_row.pk if pack_row is not None else None,
        reference=tariff_reference.get_reference(jurisdiction) if jurisdiction else None,
        precedents=precedents_for(tenant_id, jurisdiction),
        lexicon=tariff_lexicon.get_lexicon(),
        calibration=current_calibration(tenant_id, jurisdiction),
    )


# The engine's precedents are read in ``classification.precedents``; the name stays here beside
# the engine's other inputs, where its callers look for it.
precedents_for = classification_precedents.precedents_for


# --- Rule-pack backtests and impact previews, the way production classifies ---------------

CASES_CHUNK = 100  # cases whose nearest schedule lines are looked up in one pass


def classify_cases(
    tenant_id: int, jurisdiction: str, packs, cases
) -> list[list["rulepack_backtest.Outcome"]]:
    """Classify rule-pack cases as a worker would, once per pack of ``packs`` (``None``: no
    active pack); return one list of outcomes per pack, in the order of ``cases``.

    Production's inputs: the current schedule with its search, the everyday terms, the tenant's
    calibration fit and its precedents. A finalized decision used as a case is classified with
    that decision and every other decision on its product left out of the precedents: a case
    must not be answered by itself. Each case is searched once for all packs. Reads only this
    tenant's rows.
    """
    context = engine_context(tenant_id, jurisdiction)
    decided = [c.decision_id for c in cases if c.decision_id is not None]
    skus = dict(
        Decision.objects.filter(tenant_id=tenant_id, pk__in=decided).values_list(
            "pk", "product__sku"
        )
    )
    memo: dict = {}
    results: list[list] = [[] for _ in packs]
    # One BLAS thread, as in a worker: the matrix products are small and many.
    with threadpool_limits(limits=1, user_api="blas"):
        if cases and context.reference is not None:
            # A backtest gates activation: its figures must not depend on whether the schedule's
            # semantic index has finished loading (seconds, once per revision), so it waits.
            semantic = getattr(context.reference, "semantic", None)
            if semantic is not None:
                semantic(wait=True)
            # The first search of a process loads the schedule's indexes (about a second):
            # done untimed, so each case's time is its own.
            engine_search.search_candidates(cases[0].facts, context.reference)
        for start in range(0, len(cases), CASES_CHUNK):
            chunk = cases[start : start + CASES_CHUNK]
            if context.reference is not None:
                engine_search.prefetch([c.facts for c in chunk], context.reference)
            for case in chunk:
                precedents = context.precedents
                if case.decision_id is not None:
                    own = {skus.get(case.decision_id), case.facts.get("sku")} - {None, ""}
                    precedents = precedents.without(decision_ids=[case.decision_id], skus=own)
                for pack, outcomes in zip(packs, results, strict=True):
                    began = time.perf_counter()
                    decision = engine.classify(
                        case.facts,
                        pack=pack,
                        reference=context.reference,
                        precedents=precedents,
                        facts_sha256=case.facts_sha256,
                        lexicon=context.lexicon,
                        calibration=context.calibration,
                        search_memo=memo,
                    )
                    outcomes.append(_outcome(decision, (time.perf_counter() - began) * 1000))
    return results


def _outcome(decision, ms: float) -> "rulepack_backtest.Outcome":
    """The parts of an engine decision a backtest measures."""
    best = decision.candidates[0] if decision.candidates else None
    kinds = {e.kind for e in best.sources} if best else set()
    entries = {
        r.code: tuple(e["id"] for e in (r.detail or {}).get("entries", ()))
        for r in decision.reasons
    }
    return rulepack_backtest.Outcome(
        code=best.code if best else "",
        outcome=decision.outcome,
        risk=decision.risk_band,
        reasons=decision.reason_codes,
        rules=tuple(e.ref for e in best.sources if e.kind == "rule") if best else (),
        fired=any(e.kind == "rule" for c in decision.candidates for e in c.sources),
        backed=bool(kinds & {"rule", "precedent"}),
        denied=entries.get(routing.DENIED_GOODS, ()),
        restrictions=entries.get(routing.RESTRICTED_GOODS, ()),
        ms=ms,
    )


def products_decided_before(tenant_id: int, jurisdiction: str, pack_id: int) -> list[int]:
    """Return the ids of ``jurisdiction``'s products whose latest decision was made without
    pack ``pack_id`` (by another pack, or with none) and still waits, untouched, in a queue.

    What a newly active pack should re-classify: items a person acted on (final, escalated,
    waiting for facts) keep their state, and products already queued are left out. One query.
    """
    latest = (
        Decision.objects.filter(
            tenant_id=tenant_id, product_id__in=_products(tenant_id, jurisdiction)
        )
        .order_by("product_id", "-created_at", "-id")
        .distinct("product_id")
        .values("pk")
    )
    return list(
        ReviewState.objects.filter(decision_id__in=latest, status=ReviewStatus.OPEN)
        .exclude(decision__rule_pack_id=pack_id)
        .order_by("product_id")
        .values_list("product_id", flat=True)
    )


def _products(tenant_id: int, jurisdiction: str):
    return (
        Product.objects.filter(tenant_id=tenant_id, destination=jurisdiction)
        .exclude(classification_status=ClassificationStatus.QUEUED)
        .values("pk")
    )


@dataclass(frozen=True)
class Progress:
    total: int
    queued: int
    running: int
    done: int
    dead: int
    outcomes: dict

    @property
    def finished(self) -> bool:
        return self.queued == 0 and self.running == 0

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else int(100 * (self.done + self.dead) / self.total)


def progress(requests: QuerySet[ClassificationRequest]) -> Progress:
    """Return job counts by status and decision counts by outcome over ``requests``."""
    jobs = Job.objects.filter(request__in=requests).aggregate(
        total=Count("id"),
        queued=Count("id", filter=Q(status=JobStatus.QUEUED)),
        running=Count("id", filter=Q(status=JobStatus.LEASED)),
        done=Count("id", filter=Q(status=JobStatus.DONE)),
        dead=Count("id", filter=Q(status=JobStatus.DEAD)),
    )
    outcomes = Counter(
        dict(
            Decision.objects.filter(job__request__in=requests)
            .values_list("outcome")
            .annotate(n=Count("id"))
            .values_list("outcome", "n")
        )
    )
    return Progress(outcomes=dict(outcomes), **jobs)


def requests_for_tenant(tenant) -> QuerySet[ClassificationRequest]:
    """Return the tenant's requests, newest first, with who asked."""
    return ClassificationRequest.objects.filter(tenant=tenant).select_related("requested_by")


def decisions_for_tenant(tenant) -> QuerySet[Decision]:
    """Return the tenant's decisions with their product, newest first."""
    return Decision.objects.filter(tenant=tenant).select_related("product", "product_version")


def decisions_for_product(product) -> QuerySet[Decision]:
    """Return every decision on ``product``, newest first."""
    return Decision.objects.filter(tenant_id=product.tenant_id, product=product).order_by(
        "-created_at"
    )


@dataclass(frozen=True)
class FactsChanged:
    """A decision's product has newer facts than the version it classified."""

    classified: int  # version n the decision classified
    current: int  # version n the catalog holds now
    facts: tuple[str, ...]  # labels of the facts that differ

    @property
    def message(self) -> str:
        return (
            f"The product's facts changed after this decision: it classified version "
            f"{self.classified}, the catalog now holds version {self.current} "
            f"({', '.join(self.facts)}). Classify the product again; "
            "a decision on old facts cannot become final."
        )


def facts_changed(decision, *, current_version_id: int | None = None) -> FactsChanged | None:
    """Return how the product's current facts differ from those ``decision`` classified, or
    None when they are the same facts (compared by SHA-256). ``current_version_id`` overrides
    the product's (a caller that just locked the product row passes what it read)."""
    current_id = current_version_id or decision.product.current_version_id
    if current_id is None or current_id == decision.product_version_id:
        return None
    versions = ProductVersion.objects.in_bulk([current_id, decision.product_version_id])
    old, new = versions[decision.product_version_id], versions[current_id]
    if old.sha256 == new.sha256:
        return None  # changed, then changed back: the facts are the ones classified
    keys = sorted(changes(old.facts, new.facts))
    return FactsChanged(old.n, new.n, tuple(LABELS.get(k, k) for k in keys))


def code_description(decision, code: str) -> str:
    """The code's text: from the decision's candidates, else from the schedule revision it was
    classified against (a broker's override is often a code the engine never proposed)."""
    if not code:
        return ""
    for candidate in (decision.evidence or {}).get("candidates", []):
        if candidate.get("code") == code:
            return candidate.get("description", "")
    ref = tariff_reference.get_reference(
        decision.jurisdiction, decision.schedule_revision or None
    ) or tariff_reference.get_reference(decision.jurisdiction)
    line = ref.line(code) if ref is not None else None
    return (line.full_description or line.description) if line is not None else ""


def failed_reclassifications(tenant) -> QuerySet[ReactionFailure]:
    """Return the tenant's re-classifications after a catalog change that failed and that the
    sweep (``classification.sweep``) has not redone yet, newest first."""
    return hooks.open_failures(tenant, app_label="classification")


def dead_and_failed_counts(tenant) -> tuple[int, int]:
    """Return how many of the tenant's jobs are dead and how many re-classifications failed
    unrecovered (``failed_reclassifications``), in one query (for the dashboard)."""

    def count(rows):
        return Coalesce(Subquery(rows.values("tenant").annotate(n=Count("pk")).values("n")), 0)

    return (
        Tenant.objects.filter(pk=tenant.pk)
        .values_list(
            count(Job.objects.filter(tenant=tenant, status=JobStatus.DEAD)),
            count(failed_reclassifications(tenant)),
        )
        .get()
    )


def dead_jobs(tenant) -> QuerySet[Job]:
    """Return the tenant's dead jobs with their products, newest first."""
    return (
        Job.objects.filter(tenant=tenant, status=JobStatus.DEAD)
        .select_related("product", "request")
        .order_by("-finished_at")
    )


def final_code_uses(*, tenant, jurisdiction: str) -> list[CodeUse]:
    """Return the codes of the tenant's final decisions for ``jurisdiction`` (one per product:
    a newer decision supersedes), for the tariffs' check of codes no longer valid."""
    rows = (
        ReviewState.objects.filter(
            tenant=tenant, jurisdiction=jurisdiction, status=ReviewStatus.FINAL
        )
        .exclude(final_code="")
        .order_by("product__sku", "decision_id")
        .values_list("decision_id", "product__sku", "product__name", "final_code")
    )
    return [
        CodeUse(
            "final decision",
            f"{sku} {name}",
            code,
            jurisdiction,
            reverse("classification:decision", args=[tenant.slug, decision_id]),
        )
        for decision_id, sku, name, code in rows
    ]
