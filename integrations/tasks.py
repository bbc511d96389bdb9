"""django-q2 tasks for webhooks: thin wrappers; the outbox and delivery tables are the truth."""

from django_q.tasks import async_task

from workbench.schedules import ensure_every

RUN_TASK = "integrations.tasks.run"
SCHEDULE_NAME = "integrations: dispatch the outbox and deliver webhooks"
# Upper bounds of one run, so a backlog is worked in slices and no task runs for hours.
MAX_DISPATCH_ROUNDS = 20
MAX_DELIVERY_ROUNDS = 20


def run() -> dict:
    """Dispatch pending outbox events, then send due deliveries; return the counts."""
    from integrations import delivery, services

    dispatched = 0
    for _ in range(MAX_DISPATCH_ROUNDS):
        n = delivery.dispatch_pending()
        dispatched += n
        if n == 0:
            break
    sent = {"claimed": 0, "succeeded": 0, "retrying": 0, "dead": 0}
    for _ in range(MAX_DELIVERY_ROUNDS):
        report = delivery.deliver_due()
        for key in sent:
            sent[key] += getattr(report, key)
        if report.claimed == 0:
            break
    services.purge_rate_windows()
    return {"dispatched": dispatched, **sent}


def wake() -> None:
    """Queue one run on the cluster (called after commit; never waits for it)."""
    async_task(RUN_TASK, group="integrations", task_name=None)


def ensure_schedule() -> None:
    """Create (or correct) the every-minute run that retries deliveries. Idempotent."""
    ensure_every(name=SCHEDULE_NAME, func=RUN_TASK, minutes=1)
