"""Reads of one decision under review: the panel, its actions and history, what an undo may
take back, and the final decisions that become backtest cases."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from classification import precedents as classification_precedents
from classification.models import (
    FINALIZING_KINDS,
    Decision,
    ReviewAction,
    ReviewState,
    ReviewStatus,
    SpotCheck,
)

# How long a broker may take back an accept, override or spot-check confirmation: their
# decision.finalized event is held from delivery for as long (``outbox.emit(hold=…)``).
UNDO_SECONDS = 10
UNDOABLE_KINDS = ("accept", "override", "spot_check")


def products_versioned_by_import(*, tenant_id: int, batch_id: int) -> QuerySet:
    """The ids of the tenant's existing products an import gave a new version (a subquery)."""
    from catalog.models import ProductVersion

    return ProductVersion.objects.filter(
        import_batch_id=batch_id, product__tenant_id=tenant_id, n__gt=1
    ).values("product_id")


def state_for_panel(tenant, pk: int) -> ReviewState:
    """Return one state of ``tenant`` with its decision, product, version and people loaded.

    Raises ``ReviewState.DoesNotExist`` for a miss (or another tenant's decision).
    """
    return ReviewState.objects.select_related(
        "decision",
        "decision__product_version",
        "decision__job",
        "product",
        "tenant",
        "assignee",
        "decided_by",
    ).get(tenant=tenant, pk=pk)


def actions_for(state: ReviewState) -> list[ReviewAction]:
    """Return the decision's actions, oldest first, with actors and evidence files."""
    return list(
        ReviewAction.objects.filter(decision_id=state.pk)
        .select_related("actor")
        .prefetch_related(Prefetch("files"))
        .order_by("version")
    )


def finalizing_action(state: ReviewState) -> ReviewAction | None:
    """Return the action that made the decision's current code final (who, authority, what it
    superseded), or None."""
    return (
        ReviewAction.objects.filter(decision_id=state.pk, kind__in=FINALIZING_KINDS)
        .select_related("actor")
        .order_by("-version")
        .first()
    )


@dataclass(frozen=True)
class SpotChecks:
    """Spot checks of decisions finalized on a pack's authority: the measured precision."""

    pending: int
    confirmed: int
    corrected: int

    @property
    def checked(self) -> int:
        return self.confirmed + self.corrected

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.checked if self.checked else None


def spot_checks(tenant) -> SpotChecks:
    """Count the tenant's spot checks by result (one query)."""
    counts = dict(
        ReviewState.objects.filter(tenant=tenant)
        .exclude(spot_check="")
        .values_list("spot_check")
        .annotate(n=Count("pk"))
    )
    return SpotChecks(
        pending=counts.get(SpotCheck.PENDING, 0),
        confirmed=counts.get(SpotCheck.CONFIRMED, 0),
        corrected=counts.get(SpotCheck.CORRECTED, 0),
    )


def product_history(state: ReviewState, limit: int = 20) -> list[ReviewState]:
    """Return the product's other decisions, newest first, with their review outcome."""
    return list(
        ReviewState.objects.filter(tenant_id=state.tenant_id, product_id=state.product_id)
        .exclude(pk=state.pk)
        .select_related("decision", "decided_by")
        .defer("decision__evidence")
        .order_by("-decision_created_at")[:limit]
    )


def duty_comparison(decision: Decision) -> list[dict]:
    """Return each candidate's duty next to the suggested code's, with the difference."""
    rows = []
    base = None
    for candidate in decision.candidates:
        duty = candidate.get("duty") or {}
        total = duty.get("total")
        amount = Decimal(total) if total not in (None, "") else None
        if base is None and candidate.get("code") == decision.selected_code:
            base = amount
        rows.append(
            {
                "code": candidate.get("code"),
                "score": candidate.get("score"),
                "total": amount,
                "currency": duty.get("currency") or decision.duty_currency,
                "computable": amount is not None,
            }
        )
    for row in rows:
        row["delta"] = (
            row["total"] - base if base is not None and row["total"] is not None else None
        )
    return rows


def product_review(product) -> dict | None:
    """Return the review of the product's latest decision for the product page, or None.

    Says whether a broker asked for facts (and which, and why), or who made it final.
    """
    state = (
        ReviewState.objects.filter(tenant_id=product.tenant_id, product_id=product.pk)
        .exclude(status=ReviewStatus.SUPERSEDED)
        .select_related("decided_by", "assignee")
        .order_by("-decision_created_at")
        .first()
    )
    if state is None:
        return None
    request = None
    if state.status == ReviewStatus.INFO_REQUESTED:
        request = (
            ReviewAction.objects.filter(decision_id=state.pk, kind="request_info")
            .select_related("actor")
            .order_by("-version")
            .first()
        )
    return {"review": state, "info_request": request}


@dataclass(frozen=True)
class DecisionReview:
    """Where a decision stands with its brokers, for its evidence page."""

    state: ReviewState
    actions: list
    finalized: ReviewAction | None  # the action behind the current final code
    final_description: str


def decision_review(decision: Decision) -> DecisionReview | None:
    """Return the review of ``decision``: its state, its actions (with ruling references and
    evidence files) and, when final, the finalizing action and the final code's text."""
    from classification import selectors as classification_selectors

    state = (
        ReviewState.objects.filter(pk=decision.pk).select_related("decided_by", "assignee").first()
    )
    if state is None:
        return None
    actions = actions_for(state)
    finalized = None
    if state.status == ReviewStatus.FINAL:
        finalized = next((a for a in reversed(actions) if a.kind in FINALIZING_KINDS), None)
    return DecisionReview(
        state=state,
        actions=actions,
        finalized=finalized,
        final_description=classification_selectors.code_description(decision, state.final_code),
    )


DECISION_CASES_LIMIT = 5000


def final_decision_cases(tenant_id: int, jurisdiction: str) -> list:
    """Return the tenant's final decisions as backtest cases, newest per product first.

    One case per product (its latest final decision), at most ``DECISION_CASES_LIMIT``: facts
    of the product version the broker decided on, expected code = the broker's final code.
    """
    from types import MappingProxyType

    from rulepacks.backtest import Case

    rows = (
        ReviewState.objects.filter(
            classification_precedents.PERSON_FINAL, tenant_id=tenant_id, jurisdiction=jurisdiction
        )
        .order_by("product_id", "-decided_at")
        .distinct("product_id")
        .values_list(
            "decision_id",
            "decision__product_version__facts",
            "final_code",
            "decided_by__username",
            "decided_at",
        )
    )
    rows = sorted(rows, key=lambda row: row[4], reverse=True)[:DECISION_CASES_LIMIT]
    return [
        Case(
            id=f"decision-{pk}",
            source="decision",
            facts=MappingProxyType(dict(facts)),
            expect_code=code,
            where=f"decision #{pk}, {broker or 'system'} {decided_at:%Y-%m-%d}",
            decision_id=pk,
        )
        for pk, facts, code, broker, decided_at in rows
    ]


def _last_action(state: ReviewState) -> ReviewAction | None:
    return ReviewAction.objects.filter(decision_id=state.pk).order_by("-version").first()


def undo_offer(state: ReviewState, actor, last: ReviewAction | None = None):
    """Return ``actor``'s action that ``review_undo`` could still take back, or None: the
    newest action on the decision (``last`` when the caller has it), an accept, override or
    spot-check confirmation by ``actor``, younger than ``UNDO_SECONDS``. Whether its event
    was delivered is checked on undo."""
    last = last if last is not None else _last_action(state)
    if (
        last is None
        or last.kind not in UNDOABLE_KINDS
        or last.version != state.version
        or "before" not in (last.data or {})
        or actor is None
        or last.actor_id != actor.pk
        or timezone.now() - last.created_at > dt.timedelta(seconds=UNDO_SECONDS)
    ):
        return None
    return last
