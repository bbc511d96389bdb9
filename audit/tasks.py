"""Background work of the audit app (django-q2). Tasks take ids, never model instances."""

from django_q.tasks import async_task

from audit import services
from workbench.schedules import ensure_every

SWEEP_TASK = "audit.tasks.fail_stalled_exports"
SWEEP_SCHEDULE = "audit: fail exports whose worker stopped"


def enqueue_export(export_id: int) -> None:
    """Queue the build of one audit export on the django-q2 cluster."""
    async_task("audit.tasks.build_export", export_id, task_name=f"audit-export-{export_id}")


def build_export(export_id: int) -> None:
    """Build one queued audit export; failures are recorded on the export, never raised."""
    services.export_build(export_id=export_id)


def fail_stalled_exports() -> int:
    """Mark exports whose worker died as failed; return how many."""
    return services.exports_fail_stalled()


def ensure_schedule() -> None:
    """Create (or correct) the sweep for stalled exports, every minute (a heartbeat goes stale
    in ``WORKER_STALE_SECONDS``). Idempotent."""
    ensure_every(name=SWEEP_SCHEDULE, func=SWEEP_TASK, minutes=1)
