"""Reads of the usage rollup: a tenant's months, every tenant's month (operators)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from metering import counters
from metering.models import UsageCounter
from workbench.models import Tenant


@dataclass(frozen=True)
class UsageRow:
    metric: str
    label: str
    unit: str
    values: list[int]


def current_month() -> dt.date:
    """The first day of this month (UTC), the month counters are adding to now."""
    return timezone.now().astimezone(dt.UTC).date().replace(day=1)


def months_back(last: dt.date, count: int) -> list[dt.date]:
    """``count`` first-of-month dates ending with ``last``, newest first."""
    months, year, month = [], last.year, last.month
    for _ in range(count):
        months.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def tenant_usage(tenant, *, months: list[dt.date]) -> list[UsageRow]:
    """Return one row per usage metric with its value in each of ``months`` (0 when none).

    One indexed query on the rollup, however much work the months hold.
    """
    found = {
        (c.metric, c.month): c.value
        for c in UsageCounter.objects.filter(
            tenant=tenant, month__in=months, metric__in=counters.USAGE_METRICS
        ).only("metric", "month", "value")
    }
    return [
        UsageRow(metric, label, unit, [found.get((metric, m), 0) for m in months])
        for metric, label, unit in counters.USAGE
    ]


def tenant_usage_history(tenant) -> list[tuple[dt.date, str, str, str, int]]:
    """Every month the tenant used anything, newest first: (month, metric, label, unit, value)."""
    labels = {metric: (label, unit) for metric, label, unit in counters.USAGE}
    rows = UsageCounter.objects.filter(tenant=tenant, metric__in=counters.USAGE_METRICS)
    order = {metric: i for i, metric in enumerate(counters.USAGE_METRICS)}
    return sorted(
        ((c.month, c.metric, *labels[c.metric], c.value) for c in rows),
        key=lambda r: (-r[0].toordinal(), order[r[1]]),
    )


def all_tenants_usage(*, month: dt.date) -> list[tuple[Tenant, list[int]]]:
    """Every tenant with its value of each usage metric in ``month`` (operators' view)."""
    found: dict[int, dict[str, int]] = {}
    for tenant_id, metric, value in UsageCounter.objects.filter(
        month=month, metric__in=counters.USAGE_METRICS
    ).values_list("tenant_id", "metric", "value"):
        found.setdefault(tenant_id, {})[metric] = value
    return [
        (tenant, [found.get(tenant.pk, {}).get(m, 0) for m in counters.USAGE_METRICS])
        for tenant in Tenant.objects.order_by("name")
    ]


def usage_totals(metrics) -> dict[tuple[str, int], int]:
    """Sum of each metric over every month, by (metric, tenant id): for operators' metrics."""
    rows = (
        UsageCounter.objects.filter(metric__in=list(metrics))
        .values_list("metric", "tenant_id")
        .annotate(total=Sum("value"))
        .order_by()
    )
    return {(metric, tenant_id): total for metric, tenant_id, total in rows}
