"""Usage per tenant and month, kept as a rollup that the work itself increments."""

from django.db import models


class UsageCounter(models.Model):
    """How much of one metric a tenant used in one calendar month (UTC).

    Incremented by ``metering.counters`` in the transaction that does the counted work, so a
    rolled-back import or review action never counts; read as it is (no scan of the work's rows).
    """

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="First day of the month (UTC).")
    metric = models.CharField(max_length=40)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "month", "metric"], name="usage_counter_once_per_month"
            )
        ]
        indexes = [models.Index(fields=["month", "metric"], name="usage_counter_month")]
        ordering = ["-month", "metric"]

    def __str__(self) -> str:
        return f"{self.metric} {self.month:%Y-%m}: {self.value}"
