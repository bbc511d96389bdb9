"""django-q2 schedules the apps create for themselves, on migrate."""


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
