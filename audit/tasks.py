"""Background work of the audit app (django-q2). Tasks take ids, never model instances."""

from django_q.tasks import async_task

from audit import services


def enqueue_export(export_id: int) -> None:
    """Queue the build of one audit export on the django-q2 cluster."""
    async_task("audit.tasks.build_export", export_id, task_name=f"audit-export-{export_id}")


def build_export(export_id: int) -> None:
    """Build one queued audit export; failures are recorded on the export, never raised."""
    services.export_build(export_id=export_id)
