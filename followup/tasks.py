"""django-q2 tasks of follow-up: the daily digest of overdue review items."""

from django_q.tasks import async_task

from workbench.schedules import ensure_every

DIGEST_TASK = "followup.tasks.send_digests"
DIGEST_TENANT_TASK = "followup.tasks.send_tenant_digest"
DIGEST_SCHEDULE = "followup: daily digest of overdue review items"
DIGEST_EVERY_MINUTES = 24 * 60


def send_digests() -> int:
    """Queue one digest per tenant with overdue items (each its own task); purge old rate
    counters. Return how many tenants."""
    from followup import selectors, services

    services.rate_windows_purge()
    tenants = selectors.tenants_with_overdue_items()
    for tenant_id in tenants:
        async_task(DIGEST_TENANT_TASK, tenant_id, group="followup")
    return len(tenants)


def send_tenant_digest(tenant_id: int) -> int:
    """Send one tenant's digest; return how many people were told."""
    from followup import services

    return services.digest_send(tenant_id=tenant_id)


def ensure_schedule() -> None:
    """Create (or correct) the daily digest schedule. Idempotent."""
    ensure_every(name=DIGEST_SCHEDULE, func=DIGEST_TASK, minutes=DIGEST_EVERY_MINUTES)
