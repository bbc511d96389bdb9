"""django-q2 schedules the apps create for themselves on migrate, and the worker's time limits."""

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db.models.signals import post_migrate


def ensure_every(*, name: str, func: str, minutes: int) -> None:
    """Create (or correct) schedule ``name``: run ``func`` every ``minutes``. Idempotent."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )


def ensure_on_migrate(app_config) -> None:
    """Call ``<app>.tasks.ensure_schedule()`` after each ``migrate`` of ``app_config``."""

    def ensure(sender, **kwargs):
        import_module(f"{app_config.name}.tasks").ensure_schedule()

    # A strong reference: the receiver is a closure nobody else holds.
    post_migrate.connect(ensure, sender=app_config, weak=False)


def retry_window() -> timedelta:
    """How long after a task started the cluster would have retried it: a background run still
    unfinished by then has lost its worker (tasks are not retried, ``max_attempts`` 1)."""
    return timedelta(seconds=settings.Q_CLUSTER.get("retry", 660))
