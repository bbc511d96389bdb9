"""The engine's precedents: the final codes people stand behind, as an index the engine cites.

Read from the review states (``PERSON_FINAL``): the backtests of rule packs use the same rows
(``review.selectors.final_decision_cases``), so a pack is tested against what brokers decided.
"""

import threading
from collections import OrderedDict

from django.conf import settings
from django.contrib.postgres.aggregates import StringAgg
from django.db.models import Count, Q, TextField, Value
from django.db.models.functions import MD5, Cast, Coalesce, Concat

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
_SEP, _EMPTY = Value(":", output_field=TextField()), Value("", output_field=TextField())
_KEEP = 32  # (tenant, jurisdiction) indexes kept per process
_indexes: OrderedDict[tuple, tuple[tuple, object]] = OrderedDict()
_lock = threading.Lock()


def precedents_for(tenant_id: int, jurisdiction: str) -> "engine.PrecedentIndex":
    """Return the tenant's final broker decisions for ``jurisdiction`` as a precedent index.

    The facts and their hash are those of the product version the broker decided on, so an
    edited product no longer counts as "same SKU, facts unchanged". Matching by meaning uses the
    transformer's own vectors (``meaning``); where it cannot run, the schedule's static space
    (``tariffs.semantic``) when that is ready; otherwise precedents match by words only.

    A worker asks once per batch: the index is kept per process and read again only when the
    tenant's final decisions changed (``_fingerprint``, one aggregate row) or the vectors did.
    """
    final = ReviewState.objects.filter(PERSON_FINAL, tenant_id=tenant_id, jurisdiction=jurisdiction)
    count, fingerprint = _fingerprint(final)
    found = meaning(jurisdiction) if count else {}
    key = (tenant_id, jurisdiction)
    version = (count, fingerprint, found.get("space", ""), found.get("screen_space", ""))
    with _lock:
        cached = _indexes.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    precedents = _precedents(final)
    if isinstance(found.get("vectorize"), _one_at_a_time):
        # What the index embeds when it is built (``PrecedentIndex._embed``): read from the
        # machine's stored vectors instead of passing every text through the network again.
        found["vectorize"].remember([p.text or p.description for p in precedents])
    index = engine.PrecedentIndex(precedents, **found)
    with _lock:
        _indexes[key] = (version, index)
        _indexes.move_to_end(key)
        while len(_indexes) > _KEEP:
            _indexes.popitem(last=False)
    return index


def _precedents(final) -> list:
    rows = final.values_list(
        "decision_id",
        "product__sku",
        "decision__product_version__sha256",
        "decision__product_version__facts",
        "final_code",
        "decided_by__username",
        "decided_at",
    )
    return [
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


def _fingerprint(final) -> tuple[int, str]:
    """How many final decisions there are and a digest of what a precedent reads from each that
    can change (code, broker, time, spot check); facts are fixed per decision."""
    row = final.aggregate(
        n=Count("pk"),
        digest=MD5(
            StringAgg(
                Concat(
                    Cast("decision_id", TextField()),
                    _SEP,
                    Cast("final_code", TextField()),
                    _SEP,
                    Coalesce(Cast("decided_by_id", TextField()), _EMPTY),
                    _SEP,
                    Coalesce(Cast("decided_at", TextField()), _EMPTY),
                    _SEP,
                    Cast("spot_check", TextField()),
                    output_field=TextField(),
                ),
                delimiter=",",
                order_by="decision_id",
            ),
            output_field=TextField(),
        ),
    )
    return row["n"], row["digest"] or ""


def meaning(jurisdiction: str) -> dict:
    """Return the ``PrecedentIndex`` keyword arguments that compare precedents by meaning.

    The transformer (all-MiniLM-L6-v2 on onnxruntime, int8) when it loads and
    ``settings.PRECEDENT_TRANSFORMER`` is on: on the ATLAS learning curve its neighbours were
    right far more often than the static vectors' (docs/engine.md). Its pass (~2 ms) runs only
    for a product whose nearest precedent by the schedule's static vectors reaches
    ``SCREEN_MIN`` (when those are ready), and each finalized decision's text is embedded once
    per machine (``embeddings_onnx.encode_each_stored``). Else the static vectors alone, else
    ``{}``: precedents match by words only.
    """
    reference = tariff_reference.get_reference(jurisdiction) if jurisdiction else None
    semantic = getattr(reference, "semantic", None)
    static = semantic()[0] if semantic is not None else None
    if getattr(settings, "PRECEDENT_TRANSFORMER", True):
        try:
            from workbench import embeddings_onnx

            encoder = embeddings_onnx.onnx_transformer()
        except embeddings.ModelUnavailable:
            pass  # the static space below, or words only; the decision records which
        else:
            found = {
                "vectorize": _one_at_a_time(encoder),
                "space": encoder.version,
                "meaning_min": engine_precedents.MEANING_MIN_TRANSFORMER,
            }
            if static is not None:
                found |= {"screen": static.vectors, "screen_space": static.key}
            return found
    if static is None:
        return {}
    return {
        "vectorize": static.vectors,
        "space": static.key,
        "meaning_min": engine_precedents.MEANING_MIN,
    }


class _one_at_a_time:
    """Encode each text in its own pass: int8 activations are scaled per call, so batching would
    make a product's vector, and so its precedents, depend on the texts beside it.

    ``remember`` reads the vectors of known texts (the precedents) from the machine's store,
    each the bytes its own pass gives; any other text is encoded when asked for.
    """

    def __init__(self, encoder):
        self.encoder = encoder
        self._known: dict = {}

    def remember(self, texts: list[str]) -> None:
        from workbench import embeddings_onnx

        self._known = embeddings_onnx.encode_each_stored(self.encoder, texts)

    def __call__(self, texts):
        import numpy as np

        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        known = self._known
        return np.stack([known[t] if t in known else self.encoder.encode([t])[0] for t in texts])
