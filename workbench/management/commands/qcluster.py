"""``manage.py qcluster``: django-q2's cluster, with a stop on SIGTERM or SIGINT that is bounded.

django-q2 alone stops by letting every worker finish its task and then every task already
fetched into its local queue (four with two workers), with no time limit, and a second signal
only starts the same wait again: a cluster running long imports took many minutes to stop. Here
the first signal also raises the flag that tasks check between chunks
(``workbench.worker.check_stop``), so they roll back and queue themselves again, and the tasks
already fetched hand themselves back unstarted; whatever still runs ``WORKER_STOP_SECONDS``
later, or at a second signal, is killed (its transaction rolls back with its connection, and
the stalled-task sweeps hand its row on).
"""

import contextlib
import logging
import os
import signal
import threading

from django.conf import settings
from django_q.cluster import Cluster
from django_q.management.commands import qcluster

from workbench import worker

log = logging.getLogger(__name__)


def _descendants(pid: int) -> list[int]:
    """Return the ids of every living process below ``pid`` (read from ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # "pid (name) state ppid ...": the name may hold spaces and parentheses.
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class BoundedStopCluster(Cluster):
    """A cluster whose stop lasts at most ``WORKER_STOP_SECONDS`` (a second signal: at once)."""

    stop_requested = False

    def sig_handler(self, signum, frame):
        if self.stop_requested:
            log.warning("second stop signal: killing the tasks still running")
            self.kill_tasks()
            return
        self.stop_requested = True
        worker.request_stop()
        stopped = threading.Event()
        threading.Thread(target=self._enforce_deadline, args=(stopped,), daemon=True).start()
        try:
            super().sig_handler(signum, frame)  # no new tasks; wait for the workers to end
        finally:
            stopped.set()

    def _enforce_deadline(self, stopped: threading.Event) -> None:
        if stopped.wait(settings.WORKER_STOP_SECONDS):
            return
        log.warning(
            "tasks still running %s s after the stop signal: killing them",
            settings.WORKER_STOP_SECONDS,
        )
        self.kill_tasks()

    def kill_tasks(self) -> None:
        """Kill every process below the sentinel (workers, their children, pusher, monitor);
        the sentinel then ends its stop by itself."""
        if self.sentinel is None:
            return
        for pid in _descendants(self.sentinel.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class Command(qcluster.Command):
    help = (
        "Start the django-q2 cluster. SIGTERM or SIGINT stops it within WORKER_STOP_SECONDS: "
        "running tasks hand their work back, and are killed if they have not by then."
    )

    def handle(self, *args, **options):
        settings.SECRET_KEY  # noqa: B018 (signing needs it: fail here, not in a worker)
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        worker.arm_stop_flag()  # before the cluster forks, so that every process shares it
        cluster = BoundedStopCluster()
        cluster.start()
        if options.get("run_once", False):
            cluster.stop()
