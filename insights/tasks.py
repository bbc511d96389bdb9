"""django-q2 tasks of the insights app: the hourly policy drift evaluation."""

from django_q.tasks import async_task

from workbench.schedules import ensure_every

DRIFT_TASK = "insights.tasks.evaluate_drift"
DRIFT_TENANT_TASK = "insights.tasks.evaluate_tenant_drift"
DRIFT_SCHEDULE = "insights: evaluate policy drift"
DRIFT_EVERY_MINUTES = 60


def evaluate_drift() -> int:
    """Queue one drift evaluation per tenant with an active pack; return how many. Each is its
    own task, so one tenant's failure leaves the others evaluated."""
    from rulepacks import selectors as rulepack_selectors

    tenants = sorted({tenant_id for tenant_id, _ in rulepack_selectors.active_pack_keys()})
    for tenant_id in tenants:
        async_task(DRIFT_TENANT_TASK, tenant_id, group="insights")
    return len(tenants)


def evaluate_tenant_drift(tenant_id: int) -> int:
    """Evaluate one tenant's drift conditions; return how many alerts are new."""
    from insights import services

    return len(services.drift_evaluate(tenant_id=tenant_id))


def ensure_schedule() -> None:
    """Create (or correct) the hourly drift evaluation. Idempotent."""
    ensure_every(name=DRIFT_SCHEDULE, func=DRIFT_TASK, minutes=DRIFT_EVERY_MINUTES)
