"""The engine's precedents: the final codes people stand behind, as an index the engine cites.

Read from the review states (``PERSON_FINAL``): the backtests of rule packs use the same rows
(``review.selectors.final_decision_cases``), so a pack is tested against what brokers decided.
"""

from django.conf import settings
from django.db.models import Q

from classification import engine
from classification.engine import precedents as engine_precedents
from classification.engine.precedents import precedent_text
from classification.models import ReviewState, ReviewStatus, SpotCheck
from tariffs import reference as tariff_reference
from workbench import embeddings

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
    uses the transformer's own vectors (``meaning``); where it cannot run, the schedule's static
    space (``tariffs.semantic``) when that is ready; otherwise precedents match by words only.
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
    if not found:
        return engine.PrecedentIndex(found)
    vectorize, space, floor = meaning(jurisdiction)
    return engine.PrecedentIndex(found, vectorize=vectorize, space=space, meaning_min=floor)


def meaning(jurisdiction: str):
    """Return ``(vectorize, space key, similarity threshold)`` for precedents by meaning.

    The transformer (all-MiniLM-L6-v2 on onnxruntime, int8) when it loads and
    ``settings.PRECEDENT_TRANSFORMER`` is on: on the ATLAS learning curve its neighbours were
    right far more often than the static vectors' (docs/engine.md). It costs one pass per
    classified product (~2 ms) for a tenant with precedents, and one per finalized decision,
    once per process. Else the schedule's static vectors, else ``(None, "", 0)``: words only.
    """
    if getattr(settings, "PRECEDENT_TRANSFORMER", True):
        try:
            from workbench import embeddings_onnx

            encoder = embeddings_onnx.onnx_transformer()
        except embeddings.ModelUnavailable:
            pass  # the static space below, or words only; the decision records which
        else:
            return _one_at_a_time(encoder), encoder.version, engine_precedents.MEANING_MIN_TRANSFORMER
    reference = tariff_reference.get_reference(jurisdiction) if jurisdiction else None
    semantic = getattr(reference, "semantic", None)
    index = semantic()[0] if semantic is not None else None
    if index is None:
        return None, "", 0.0
    return index.vectors, index.key, engine_precedents.MEANING_MIN


class _one_at_a_time:
    """Encode each text in its own pass: int8 activations are scaled per call, so batching would
    make a product's vector, and so its precedents, depend on the texts beside it."""

    def __init__(self, encoder):
        self.encoder = encoder

    def __call__(self, texts):
        import numpy as np

        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self.encoder.encode([t])[0] for t in texts])
