"""Background tasks (django-q2): thin wrappers that load ids and call a service."""

from catalog import services


def import_batch_task(batch_id: int) -> str:
    """Run a queued catalog import; return its final status."""
    return services.import_batch_process(batch_id=batch_id).status
