"""django-q2 tasks: thin wrappers that wake workers. The Job table is the truth."""

from django_q.tasks import async_task

from workbench.schedules import ensure_every

DRAIN_TASK = "classification.tasks.drain_queue"
SCHEDULE_NAME = "classification: drain the job queue"
REFIT_ALL_TASK = "classification.tasks.refit_calibrations"
REFIT_TASK = "classification.tasks.refit_calibration"
REFIT_SCHEDULE_NAME = "classification: refit each tenant's calibration"
REFIT_EVERY_MINUTES = 24 * 60
SWEEP_TASK = "classification.tasks.sweep_stale_items"
SWEEP_SCHEDULE = "classification: classify again products whose facts changed under review"
SWEEP_EVERY_MINUTES = 5
COMPACT_TASK = "classification.tasks.compact_tallies"
COMPACT_SCHEDULE = "classification: fold the dashboard's tally rows"
COMPACT_EVERY_MINUTES = 10


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


def refit_calibrations() -> int:
    """Queue one calibration refit per tenant and jurisdiction with an active pack; return how
    many. Each refit is its own task, so one tenant's failure leaves the others fitted."""
    from rulepacks import selectors as rulepack_selectors

    keys = rulepack_selectors.active_pack_keys()
    for tenant_id, jurisdiction in keys:
        async_task(REFIT_TASK, tenant_id, jurisdiction, group="calibration")
    return len(keys)


def refit_calibration(tenant_id: int, jurisdiction: str) -> str:
    """Refit one tenant's calibration for ``jurisdiction`` as the schedule; return the result's
    message (what was fitted, or why the fit in use stays)."""
    from classification import services
    from workbench.models import Tenant

    tenant = Tenant.objects.get(pk=tenant_id)
    return services.calibration_refit(actor=None, tenant=tenant, jurisdiction=jurisdiction).message


def sweep_stale_items() -> dict:
    """Classify again the products whose facts changed under an open review item and that no
    reaction re-classified (``classification.sweep``); return the counts."""
    from classification import sweep

    report = sweep.sweep()
    return {
        "queued": len(report.queued),
        "failed_tenants": report.failed_tenants,
        "recovered": report.recovered,
    }


def compact_tallies() -> int:
    """Fold the dashboard's delta tally rows, one row per key (``review.tallies``); return the
    rows written."""
    from classification.review import tallies

    return tallies.tally_compact()


def ensure_schedule() -> None:
    """Create (or correct) the every-minute safety-net drain, the daily calibration refit and
    the sweep of items whose facts changed and the folding of the dashboard's tallies.
    Idempotent."""
    ensure_every(name=SCHEDULE_NAME, func=DRAIN_TASK, minutes=1)
    ensure_every(name=REFIT_SCHEDULE_NAME, func=REFIT_ALL_TASK, minutes=REFIT_EVERY_MINUTES)
    ensure_every(name=SWEEP_SCHEDULE, func=SWEEP_TASK, minutes=SWEEP_EVERY_MINUTES)
    ensure_every(name=COMPACT_SCHEDULE, func=COMPACT_TASK, minutes=COMPACT_EVERY_MINUTES)
