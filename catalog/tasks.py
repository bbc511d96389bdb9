"""Background tasks (django-q2): thin wrappers that load ids and call a service."""

from catalog import services
from workbench.schedules import ensure_every

SWEEP_TASK = "catalog.tasks.fail_stalled_imports"
SWEEP_SCHEDULE = "catalog: fail imports whose worker stopped"


def import_batch_task(batch_id: int) -> str:
    """Run a queued catalog import; return its final status."""
    return services.import_batch_process(batch_id=batch_id).status


def fail_stalled_imports() -> int:
    """Queue again or fail the imports whose worker stopped; return how many."""
    return services.import_batches_fail_stalled()


def ensure_schedule() -> None:
    """Create (or correct) the sweep for stalled imports, every minute (a heartbeat goes stale
    in ``WORKER_STALE_SECONDS``). Idempotent."""
    ensure_every(name=SWEEP_SCHEDULE, func=SWEEP_TASK, minutes=1)
