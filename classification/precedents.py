"""The engine's precedents: the final codes people stand behind, as an index the engine cites.

Read from the review states (``PERSON_FINAL``): the backtests of rule packs use the same rows
(``review.selectors.final_decision_cases``), so a pack is tested against what brokers decided.
"""

from django.db.models import Q

from classification import engine
from classification.engine.precedents import precedent_text
from classification.models import ReviewState, ReviewStatus, SpotCheck
from tariffs import reference as tariff_reference

# Final codes a person stands behind: decided by a broker, or finalized on a pack's authority and
# confirmed in a spot check. Only these teach the engine (precedents) and test packs (backtests):
# an unchecked automatic code would be the machine grading itself.
PERSON_FINAL = Q(status=ReviewStatus.FINAL) & (
    Q(decided_by__isnull=False) | Q(spot_check=SpotCheck.CONFIRMED)
)


def precedents_for(tenant_id: int, jurisdiction: str) -> "engine.PrecedentIndex":
    """Return the tenant's final broker decisions for ``jurisdiction`` as a precedent index.

    One query; the facts and their hash are those of the product version the broker decided on,
    so an edited product no longer counts as "same SKU, facts unchanged". Matching by meaning
    uses the schedule's semantic space (``tariffs.semantic``) when it is ready; until then, and
    without the model, precedents match by words only.
    """
    rows = ReviewState.objects.filter(
        PERSON_FINAL, tenant_id=tenant_id, jurisdiction=jurisdiction
    ).values_list(
        "decision_id",
        "product__sku",
        "decision__product_version__sha256",
        "decision__product_version__facts",
        "final_code",
        "decided_by__username",
        "decided_at",
    )
    found = [
        engine.Precedent(
            decision_id=pk,
            sku=sku,
            facts_sha256=sha,
            description=str((facts or {}).get("description") or ""),
            code=code,
            broker=broker or "system",
            decided_at=decided_at.isoformat() if decided_at else "",
            text=precedent_text(facts or {}),
        )
        for pk, sku, sha, facts, code, broker, decided_at in rows
    ]
    index, space = _meaning(jurisdiction) if found else (None, "")
    return engine.PrecedentIndex(found, vectorize=index, space=space)


def _meaning(jurisdiction: str):
    """Return ``(vectorize, space key)`` of the schedule's semantic index, or ``(None, "")``."""
    reference = tariff_reference.get_reference(jurisdiction) if jurisdiction else None
    semantic = getattr(reference, "semantic", None)
    index = semantic()[0] if semantic is not None else None
    if index is None:
        return None, ""
    return index.vectors, index.key
