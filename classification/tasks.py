"""django-q2 tasks: thin wrappers that wake workers. The Job table is the truth."""

from django_q.tasks import async_task

from workbench.schedules import ensure_every

DRAIN_TASK = "classification.tasks.drain_queue"
SCHEDULE_NAME = "classification: drain the job queue"


def drain_queue() -> dict:
    """Work queued classification jobs until none is left; return the counts."""
    from classification import runner

    report = runner.drain()
    return {
        "claimed": report.claimed,
        "done": report.done,
        "failed": report.failed,
        "stale": report.stale,
    }


def wake(count: int = 1) -> None:
    """Queue ``count`` drain tasks so that up to ``count`` worker processes pick up jobs."""
    for _ in range(count):
        async_task(DRAIN_TASK, group="classification")


def ensure_schedule() -> None:
    """Create (or correct) the every-minute safety-net drain. Idempotent."""
    ensure_every(name=SCHEDULE_NAME, func=DRAIN_TASK, minutes=1)
