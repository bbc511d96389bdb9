"""What a background task needs from the worker that runs it: a heartbeat, progress, and a stop
request.

A long task (a catalog import, an audit export) writes a **heartbeat**, a timestamp on its row,
every ``WORKER_HEARTBEAT_SECONDS`` from a thread with its own database connection, so that the
row shows a sign of life while the task's own transaction is still open. A row whose heartbeat
is older than ``WORKER_STALE_SECONDS`` has lost its worker: its page says "stalled" and the
app's sweep hands it on.

A worker asked to stop (SIGTERM or SIGINT to ``manage.py qcluster``) sets a flag every process
of the cluster shares; tasks call ``check_stop()`` between chunks of work and, on
``WorkerStopping``, roll back and queue themselves again. Outside a cluster the flag is never
set.
"""

import contextlib
import logging
import multiprocessing
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils import timezone

log = logging.getLogger(__name__)

# Created by the qcluster command before the cluster forks, so every worker shares it.
_stop_flag = None


class WorkerStopping(Exception):
    """The worker is stopping: the task rolls back its work and queues itself again."""


def arm_stop_flag() -> None:
    """Create the stop flag; call in the cluster's first process, before it forks workers."""
    global _stop_flag
    _stop_flag = multiprocessing.get_context("fork").Event()


def request_stop() -> None:
    """Ask every task of this cluster to stop at its next check."""
    if _stop_flag is not None:
        _stop_flag.set()


def stopping() -> bool:
    """Whether this process's cluster has been asked to stop."""
    return _stop_flag is not None and _stop_flag.is_set()


def check_stop() -> None:
    """Raise ``WorkerStopping`` when the cluster has been asked to stop."""
    if stopping():
        raise WorkerStopping("the worker is stopping")


def stale_after() -> timedelta:
    """How old a heartbeat may be before its task counts as stalled (its worker is gone)."""
    return timedelta(seconds=settings.WORKER_STALE_SECONDS)


def is_stale(heartbeat_at) -> bool:
    """Whether a running task with this heartbeat (None: none yet) has shown no sign of life
    for longer than ``stale_after()``."""
    return heartbeat_at is None or timezone.now() - heartbeat_at > stale_after()


class Heartbeat:
    """Run ``sql`` (with the current time, then ``params``) every ``WORKER_HEARTBEAT_SECONDS``
    from a thread with its own connection, while the ``with`` block runs.

    The statement should set the row's heartbeat to its first parameter only while the row is
    still this run's (``status = 'running'`` and the run's number), and skip a locked row
    rather than wait. A failed beat is logged and retried on a new connection at the next one:
    a heartbeat never stops the task it reports on.
    """

    def __init__(self, sql: str, params: list, *, enabled: bool = True):
        self.sql, self.params, self.enabled = sql, params, enabled
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> "Heartbeat":
        if self.enabled:
            self.thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join(timeout=settings.WORKER_HEARTBEAT_SECONDS)

    def _run(self) -> None:
        conn = None
        try:
            while not self.done.wait(settings.WORKER_HEARTBEAT_SECONDS):
                try:
                    if conn is None:
                        conn = connections.create_connection(DEFAULT_DB_ALIAS)
                    with conn.cursor() as cursor:
                        cursor.execute(self.sql, [timezone.now(), *self.params])
                except DatabaseError as err:
                    log.warning("heartbeat not written: %s", err)
                    _close(conn)
                    conn = None
        finally:
            _close(conn)


class ProgressWriter:
    """Run one statement (``UPDATE … SET progress …``) on a connection of its own, so that the
    row shows a task's progress while the task's own transaction is still open.

    Enabled only when that transaction is the outermost one (``connection.in_atomic_block`` is
    false when the writer is made): inside a caller's transaction, as in a test, the task's row
    may not be committed yet and a second connection would wait on it. The statement should
    change the row only while it is still running. ``close()`` ends the connection.
    """

    def __init__(self, sql: str):
        self.sql, self.conn = sql, None
        self.enabled = not connections[DEFAULT_DB_ALIAS].in_atomic_block

    def write(self, params: list) -> None:
        if not self.enabled:
            return
        if self.conn is None:
            self.conn = connections.create_connection(DEFAULT_DB_ALIAS)
        with self.conn.cursor() as cursor:
            cursor.execute(self.sql, params)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _close(conn) -> None:
    if conn is not None:
        with contextlib.suppress(DatabaseError):
            conn.close()
