"""Walking a tenant's audit chain to prove that no event was altered, removed or inserted.

A chain alone cannot show that its newest events were deleted (what remains still verifies), so
its head (``chain_head_event``) is meant to be stored outside the database and checked later
(``expected_head_problem``).
"""

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from json.encoder import encode_basestring

from django.db import connection

from audit import canonical
from audit.models import GENESIS_HASH, AuditEvent


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_hash: str
    bad_event_id: int | None = None
    bad_seq: int | None = None
    problem: str = ""


# Rows come straight from PostgreSQL as text, with the timestamp already in the exact form that
# ``canonical`` gives a UTC datetime (Python's isoformat: microseconds only when non-zero). The
# walk reads them with COPY … TO STDOUT, so PostgreSQL produces rows on one core while Python
# hashes on another, instead of waiting for each other fetch by fetch.
_SELECT = """
SELECT id, seq, actor_id, actor_label, verb, target_type, target_id, target_label, data::text,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
       || CASE WHEN date_part('microseconds', created_at)::bigint % 1000000 = 0 THEN ''
               ELSE '.' || to_char(created_at AT TIME ZONE 'UTC', 'US') END
       || '+00:00',
       prev_hash, hash
FROM audit_auditevent WHERE {where} ORDER BY seq
"""
_text = encode_basestring  # canonical JSON of a str (ensure_ascii=False)
_parse = json.JSONDecoder().decode


def select_sql(tenant_id: int | None, extra: str = "") -> str:
    """Return the SELECT of one chain's rows as text (``tenant_id`` is an int: no injection)."""
    where = "tenant_id IS NULL" if tenant_id is None else f"tenant_id = {int(tenant_id)}"
    return _SELECT.format(where=where + extra)


def payload_text(tenant_id, row) -> str:
    """Return the canonical JSON of an event's chain payload from one ``select_sql`` row.

    Byte-identical to ``canonical.dumps(event.chain_payload())`` (keys in sorted order), built
    without a dict and a generic encoder because ``audit_verify`` does this a million times.
    """
    _id, seq, actor, label, verb, ttype, tid, tlabel, data, created, prev, _hash = row
    return (
        f'{{"actor":{"null" if actor is None else int(actor)},"actor_label":{_text(label)},'
        f'"created_at":"{created}","data":{canonical.dumps(_parse(data))},'
        f'"prev_hash":{_text(prev)},"seq":{int(seq)},"target_id":{_text(tid)},'
        f'"target_label":{_text(tlabel)},"target_type":{_text(ttype)},'
        f'"tenant":{"null" if tenant_id is None else int(tenant_id)},"verb":{_text(verb)}}}'
    )


def verify_chain(tenant_id: int | None) -> ChainReport:
    """Recompute every hash of one chain in order; report the first event that does not match.

    Streams the rows (COPY), so memory stays flat over millions of events.
    """
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    sha256, report = hashlib.sha256, None
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({select_sql(tenant_id)}) TO STDOUT") as copy,
    ):
        rows = copy.rows()
        for row in rows:
            seq, prev, stored = int(row[1]), row[10], row[11]
            problem = ""
            if seq != expected_seq:
                problem = f"sequence jumps from {expected_seq - 1} to {seq} (an event is missing)"
            elif prev != expected_prev:
                problem = (
                    "its link to the previous event does not match (an earlier event was changed)"
                )
            elif sha256(payload_text(tenant_id, row).encode()).hexdigest() != stored:
                problem = "its content no longer matches its hash (the event was altered)"
            if problem:
                report = ChainReport(False, checked, expected_prev, int(row[0]), seq, problem)
                break
            expected_prev, expected_seq, checked = stored, seq + 1, checked + 1
        # Finish the COPY even after a broken link: a connection left mid-COPY is unusable.
        for _row in rows:
            pass
    return report or ChainReport(True, checked, expected_prev)


def chain_head(tenant_id: int | None) -> str:
    """Return the hash of the newest event in the chain (the genesis hash when empty)."""
    last = AuditEvent.objects.filter(tenant_id=tenant_id).order_by("-seq").values("hash").first()
    return last["hash"] if last else GENESIS_HASH


@dataclass(frozen=True)
class Head:
    seq: int
    event_id: int | None
    created_at: dt.datetime | None
    hash: str


def chain_head_event(tenant_id: int | None) -> Head:
    """Return the newest event of the chain (seq 0 and the genesis hash when it is empty)."""
    last = (
        AuditEvent.objects.filter(tenant_id=tenant_id)
        .order_by("-seq")
        .values("seq", "id", "created_at", "hash")
        .first()
    )
    if last is None:
        return Head(0, None, None, GENESIS_HASH)
    return Head(last["seq"], last["id"], last["created_at"], last["hash"])


HASH_RE = re.compile(r"^[0-9a-f]{64}$")


def expected_head_problem(tenant_id: int | None, expected: str, report: ChainReport) -> str:
    """Return why a verified chain does not hold ``expected`` as a head ("" when it does).

    ``report`` is the chain's ``verify_chain`` result, so every event after the expected head
    is known to chain from it. A head that is no longer in the chain means its event and every
    later one were deleted, or the chain was rewritten.
    """
    if expected == GENESIS_HASH:
        return ""  # stored while the chain was empty: every chain starts there
    found = AuditEvent.objects.filter(tenant_id=tenant_id, hash=expected).values("seq").first()
    if found is None:
        if AuditEvent.objects.filter(hash=expected).exists():
            return f"the expected head {expected} belongs to another chain"
        return (
            f"the expected head {expected} is no longer in the chain (now {report.checked} "
            f"events, head {report.head_hash}): the events from it on were deleted, or the "
            "chain was rewritten"
        )
    if found["seq"] > report.checked:  # appended after the walk: verify again
        return f"the expected head {expected} (seq {found['seq']}) is newer than the walk"
    return ""
