"""Writes of the review workbench: every broker action is one transaction, one action, one event.

Each action locks the decision's ``ReviewState``, compares the version the reviewer saw with the
current one (``StaleAction`` when someone acted first: nothing is written), appends a
``ReviewAction``, updates the state, and records its audit event in the same transaction. The
decision itself never changes: the broker's action is the final classification and the engine's
suggestion stays advice beside it.
"""

from classification.review.services._base import (
    OPEN_STATUSES,
    UNDO_SECONDS,
    UNDOABLE_KINDS,
    StaleAction,
)
from classification.review.services.actions import (
    review_accept,
    review_escalate,
    review_override,
    review_reopen,
    review_undo,
)
from classification.review.services.assignment import review_assign, review_grant_decider
from classification.review.services.bulk import BULK_LIMIT, BulkResult, review_bulk_accept
from classification.review.services.evidence import (
    EVIDENCE_TYPES,
    MAX_EVIDENCE_BYTES,
    MAX_EVIDENCE_FILES,
    evidence_files_check,
    evidence_files_store,
)
from classification.review.services.finalize import review_system_finalize
from classification.review.services.info_requests import (
    review_facts_changed,
    review_info_received,
    review_info_received_from_import,
    review_request_info,
)
from classification.review.services.promotion import review_promote_golden

__all__ = [
    "BULK_LIMIT",
    "EVIDENCE_TYPES",
    "MAX_EVIDENCE_BYTES",
    "MAX_EVIDENCE_FILES",
    "OPEN_STATUSES",
    "UNDOABLE_KINDS",
    "UNDO_SECONDS",
    "BulkResult",
    "StaleAction",
    "evidence_files_check",
    "evidence_files_store",
    "review_accept",
    "review_assign",
    "review_bulk_accept",
    "review_escalate",
    "review_facts_changed",
    "review_grant_decider",
    "review_info_received",
    "review_info_received_from_import",
    "review_override",
    "review_promote_golden",
    "review_reopen",
    "review_request_info",
    "review_system_finalize",
    "review_undo",
]
