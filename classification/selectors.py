"""Reads for classification: engine inputs, request progress, decisions, dead jobs."""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from audit.services import changes
from catalog.facts import LABELS
from catalog.models import ProductVersion
from classification import engine
from classification.models import ClassificationRequest, Decision, Job, JobStatus
from rulepacks import selectors as rulepack_selectors
from tariffs import lexicon as tariff_lexicon
from tariffs import reference as tariff_reference
from workbench.models import Tenant


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
    """Load the tenant's active pack, the current schedule and the tenant's precedents."""
    active = rulepack_selectors.active_compiled(Tenant(pk=tenant_id), jurisdiction)
    pack_row, compiled = active if active else (None, None)
    return EngineContext(
        jurisdiction=jurisdiction,
        pack=compiled,
        pack_id=pack_row.pk if pack_row is not None else None,
        reference=tariff_reference.get_reference(jurisdiction) if jurisdiction else None,
        precedents=precedents_for(tenant_id, jurisdiction),
        lexicon=tariff_lexicon.get_lexicon(),
    )


def precedents_for(tenant_id: int, jurisdiction: str) -> "engine.PrecedentIndex":
    """Return the tenant's finalized broker decisions for a jurisdiction as a precedent index.

    Finalized decisions are made in the review workbench (broker accept/override); until a
    product has one, the index is empty and the engine cites no precedent.
    """
    from classification.review import selectors as review_selectors

    return review_selectors.precedents(tenant_id, jurisdiction)


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


def dead_jobs(tenant) -> QuerySet[Job]:
    """Return the tenant's dead jobs with their products, newest first."""
    return (
        Job.objects.filter(tenant=tenant, status=JobStatus.DEAD)
        .select_related("product", "request")
        .order_by("-finished_at")
    )
