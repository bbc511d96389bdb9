"""Walking a tenant's audit chain to prove that no event was altered, removed or inserted."""

from dataclasses import dataclass

from audit.models import GENESIS_HASH, AuditEvent
from audit.services import event_hash

_FIELDS = [
    "id",
    "tenant_id",
    "seq",
    "actor_id",
    "actor_label",
    "verb",
    "target_type",
    "target_id",
    "target_label",
    "data",
    "created_at",
    "prev_hash",
    "hash",
]


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_hash: str
    bad_event_id: int | None = None
    bad_seq: int | None = None
    problem: str = ""


def verify_chain(tenant_id: int | None) -> ChainReport:
    """Recompute every hash of one chain in order; report the first event that does not match.

    Reads in chunks on a server-side cursor, so memory stays flat over millions of events.
    """
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    rows = (
        AuditEvent.objects.filter(tenant_id=tenant_id)
        .order_by("seq")
        .values_list(*_FIELDS)
        .iterator(chunk_size=5000)
    )
    for row in rows:
        rec = dict(zip(_FIELDS, row, strict=True))
        problem = _check(rec, expected_prev, expected_seq)
        if problem:
            return ChainReport(False, checked, expected_prev, rec["id"], rec["seq"], problem)
        expected_prev, expected_seq, checked = rec["hash"], rec["seq"] + 1, checked + 1
    return ChainReport(True, checked, expected_prev)


def _check(rec: dict, expected_prev: str, expected_seq: int) -> str:
    if rec["seq"] != expected_seq:
        return f"sequence jumps from {expected_seq - 1} to {rec['seq']} (an event is missing)"
    if rec["prev_hash"] != expected_prev:
        return "its link to the previous event does not match (an earlier event was changed)"
    payload = {
        "tenant": rec["tenant_id"],
        "seq": rec["seq"],
        "actor": rec["actor_id"],
        "actor_label": rec["actor_label"],
        "verb": rec["verb"],
        "target_type": rec["target_type"],
        "target_id": rec["target_id"],
        "target_label": rec["target_label"],
        "data": rec["data"],
        "created_at": rec["created_at"],
        "prev_hash": rec["prev_hash"],
    }
    if event_hash(payload) != rec["hash"]:
        return "its content no longer matches its hash (the event was altered)"
    return ""


def chain_head(tenant_id: int | None) -> str:
    """Return the hash of the newest event in the chain (the genesis hash when empty)."""
    last = AuditEvent.objects.filter(tenant_id=tenant_id).order_by("-seq").values("hash").first()
    return last["hash"] if last else GENESIS_HASH
