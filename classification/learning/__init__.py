"""The learning evaluation: what finalized broker decisions teach the engine, measured.

``learned_precedents`` finalizes labelled cases in a scratch tenant through the real services
(``classification.learning.services``), reads them back with the worker's own selector
(``classification.selectors.precedents_for``) and rolls every row back before returning, so the
precedent index it returns is the one a worker would load, and no tenant's data ever changes.
"""

from collections.abc import Sequence

from django.db import transaction

from classification import selectors
from classification.learning import services


class _RollBack(Exception):
    """Carries the precedent index out of the transaction that is being undone."""

    def __init__(self, index, finalized: int):
        super().__init__("learning evaluation: scratch tenant rolled back")
        self.index = index
        self.finalized = finalized


def learned_precedents(*, jurisdiction: str, cases: Sequence, reference) -> tuple[object, int]:
    """Return ``(precedent index, decisions finalized)`` learned from ``cases`` (``LabelledCase``).

    Runs in its own transaction (a savepoint inside a caller's), which is always rolled back:
    only ids taken from sequences remain. The index is plain data, loaded before the rollback.
    """
    try:
        with transaction.atomic():
            scratch = services.evaluation_tenant_create(
                jurisdiction=jurisdiction, cases=cases, reference=reference
            )
            index = selectors.precedents_for(scratch.tenant.pk, jurisdiction)
            # Raising, not set_rollback: the rollback cannot be skipped by a caller's error
            # handling, and the result leaves the block only this way.
            raise _RollBack(index, scratch.finalized)
    except _RollBack as done:
        return done.index, done.finalized
