"""Claiming jobs from PostgreSQL: short transactions, leases by the database clock, fencing tokens.

Any number of workers on any number of hosts call ``claim``; ``FOR UPDATE SKIP LOCKED`` hands each
open job to exactly one of them. A claim increments the job's ``token``; the worker commits its
result only if the token is still the one it was given (``classification.runner``), so a worker
that stalled past its lease and was overtaken can never write a second result.
"""

import os
import socket
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from classification.models import JobStatus
from metering import counters

_REAP_SQL = """
UPDATE classification_job
   SET status = 'dead', finished_at = now(), lease_owner = '', lease_expires_at = NULL,
       last_error = CASE WHEN last_error = ''
                         THEN 'The worker holding this job stopped answering (lease expired) '
                              || attempts || ' times.'
                         ELSE last_error END
 WHERE status = 'leased' AND lease_expires_at < now() AND attempts >= max_attempts
RETURNING tenant_id
"""

_CLAIM_SQL = """
WITH picked AS (
    SELECT id, status AS was FROM classification_job
     WHERE (status = 'queued' OR (status = 'leased' AND lease_expires_at < now()))
       AND attempts < max_attempts
     ORDER BY id
     LIMIT %(limit)s
     FOR UPDATE SKIP LOCKED
)
UPDATE classification_job AS job
   SET status = 'leased', attempts = job.attempts + 1, token = job.token + 1,
       lease_owner = %(owner)s, lease_expires_at = now() + make_interval(secs => %(secs)s)
  FROM picked
 WHERE job.id = picked.id
RETURNING job.id, job.token, job.attempts, job.max_attempts, job.tenant_id, picked.was
"""


@dataclass(frozen=True)
class Lease:
    job_id: int
    token: int
    attempt: int
    max_attempts: int


def worker_name() -> str:
    """Return a name for this worker that is unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_seconds() -> int:
    return int(settings.CLASSIFICATION_LEASE_SECONDS)


def claim(*, owner: str, limit: int, seconds: int | None = None) -> list[Lease]:
    """Lease up to ``limit`` open jobs to ``owner`` and return them, oldest first.

    Jobs whose lease expired on their last attempt are first marked dead. One short transaction;
    the lease expiry is computed by the database clock, never the worker's. Expired leases (dead
    or re-claimed) are metered in it, and cost nothing when there are none.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_REAP_SQL)
        reaped = [tenant_id for (tenant_id,) in cursor.fetchall()]
        cursor.execute(
            _CLAIM_SQL, {"limit": limit, "owner": owner[:200], "secs": seconds or lease_seconds()}
        )
        rows = cursor.fetchall()
        retaken = [row[4] for row in rows if row[5] == JobStatus.LEASED]
        counters.add_many(
            [(t, counters.LEASES_EXPIRED, 1) for t in reaped + retaken]
            + [(t, counters.JOBS_DEAD, 1) for t in reaped]
            + [(t, counters.JOBS_RECLAIMED, 1) for t in retaken]
        )
    return sorted((Lease(*row[:4]) for row in rows), key=lambda lease: lease.job_id)
