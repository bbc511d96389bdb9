"""Operator metrics for Prometheus at ``/metrics``: off unless ``METRICS_TOKEN`` is set.

Web and worker are separate processes (and may be many hosts), so every figure but request
latency is read from PostgreSQL when Prometheus scrapes: queue depths and lags from the open
rows' partial indexes, totals from the usage rollup (``metering.counters``), chain lengths from
the per-tenant ``(tenant, seq)`` index. Any web process answers the same. Request latency is a
histogram kept in each web process (Prometheus sums the processes it scrapes; a process that
restarts starts it again from zero, which ``rate()`` handles).
"""

import hmac
import time

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily

from metering import counters, selectors
from workbench.models import Tenant

REGISTRY = CollectorRegistry()
REQUEST_SECONDS = Histogram(
    "workbench_http_request_duration_seconds",
    "Time to answer a request, by method, view name and status (per web process).",
    ["method", "view", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
SYSTEM_CHAIN = "_system"


def _model(app: str, name: str):
    return apps.get_model(app, name)


def _statuses(model, *values: str) -> tuple[str, ...]:
    """``values`` of ``model.status``, checked against the field's choices.

    Metering sits below the apps whose rows it counts (the import contract), so it names their
    statuses by value instead of importing their ``TextChoices``; a renamed status fails the
    scrape (and its test) instead of counting nothing.
    """
    known = {value for value, _ in model._meta.get_field("status").choices}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise LookupError(f"{model._meta.label}.status has no {', '.join(unknown)}")
    return values


class DatabaseCollector:
    """Figures read from the database at scrape time (each an indexed query or the rollup)."""

    def collect(self):
        yield from self._jobs()
        yield from self._django_q()
        yield from self._webhooks()
        yield from self._totals()
        yield self._chains()

    def _jobs(self):
        Job = _model("classification", "Job")
        jobs = GaugeMetricFamily(
            "workbench_classification_jobs", "Classification jobs by status.", labels=["status"]
        )
        queued, leased, dead_status = _statuses(Job, "queued", "leased", "dead")
        open_jobs = Job.objects.filter(status__in=[queued, leased]).aggregate(
            queued=Count("id", filter=Q(status=queued)),
            leased=Count("id", filter=Q(status=leased)),
            expired=Count("id", filter=Q(status=leased, lease_expires_at__lt=timezone.now())),
        )
        # Dead jobs per tenant through the (tenant, status) index: no scan of the done ones.
        dead = Tenant.objects.annotate(
            n=Subquery(
                Job.objects.filter(tenant=OuterRef("pk"), status=dead_status)
                .order_by()
                .values("tenant")
                .annotate(n=Count("id"))
                .values("n")
            )
        ).values_list("n", flat=True)
        jobs.add_metric(["queued"], open_jobs["queued"])
        jobs.add_metric(["leased"], open_jobs["leased"])
        jobs.add_metric(["dead"], sum(n or 0 for n in dead))
        yield jobs
        yield GaugeMetricFamily(
            "workbench_classification_leases_expired",
            "Leased jobs whose lease has expired, waiting to be claimed again.",
            value=open_jobs["expired"],
        )

    def _django_q(self):
        OrmQ = _model("django_q", "OrmQ")
        Failure = _model("django_q", "Failure")
        now = timezone.now()
        tasks = GaugeMetricFamily(
            "workbench_django_q_tasks",
            "django-q2 broker rows: waiting, or taken by a worker (locked).",
            labels=["state"],
        )
        counts = OrmQ.objects.aggregate(
            queued=Count("id", filter=Q(lock__lte=now) | Q(lock__isnull=True)),
            locked=Count("id", filter=Q(lock__gt=now)),
        )
        tasks.add_metric(["queued"], counts["queued"])
        tasks.add_metric(["locked"], counts["locked"])
        yield tasks
        yield GaugeMetricFamily(
            "workbench_django_q_failures",
            "Failed django-q2 tasks kept.",
            value=Failure.objects.count(),
        )

    def _webhooks(self):
        Delivery = _model("integrations", "WebhookDelivery")
        Outbox = _model("audit", "OutboxEvent")
        now = timezone.now()
        open_deliveries = GaugeMetricFamily(
            "workbench_webhook_deliveries_open",
            "Webhook deliveries not yet delivered or given up, by status.",
            labels=["status"],
        )
        unsent = _statuses(Delivery, "pending", "retrying", "sending")
        rows = dict(
            Delivery.objects.filter(status__in=unsent)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for status in unsent:
            open_deliveries.add_metric([status], rows.get(status, 0))
        yield open_deliveries
        oldest = Delivery.objects.filter(status__in=unsent, next_attempt_at__lte=now).aggregate(
            t=Min("created_at")
        )["t"]
        yield GaugeMetricFamily(
            "workbench_webhook_delivery_lag_seconds",
            "Age of the oldest webhook delivery that is due and not yet delivered (0: none).",
            value=(now - oldest).total_seconds() if oldest else 0,
        )
        # Held events (a broker's undo window) count from when they become due.
        (outbox_pending,) = _statuses(Outbox, "pending")
        pending = Outbox.objects.filter(status=outbox_pending, available_at__lte=now).aggregate(
            t=Min("available_at")
        )["t"]
        yield GaugeMetricFamily(
            "workbench_outbox_lag_seconds",
            "Age of the oldest due outbox event not yet fanned out to webhooks (0: none).",
            value=(now - pending).total_seconds() if pending else 0,
        )

    def _totals(self):
        totals: dict[str, int] = {}
        for (metric, _tenant), value in selectors.usage_totals(_TOTAL_METRICS).items():
            totals[metric] = totals.get(metric, 0) + value

        def counter(name, doc, metric):
            return CounterMetricFamily(name, doc, value=totals.get(metric, 0))

        decisions = CounterMetricFamily(
            "workbench_decisions", "Decisions written, by outcome.", labels=["outcome"]
        )
        for outcome in counters.OUTCOMES:
            decisions.add_metric([outcome], totals.get(counters.decisions(outcome), 0))
        yield decisions
        results = CounterMetricFamily(
            "workbench_webhook_deliveries",
            "Webhook delivery attempts, by result (succeeded, retrying, dead).",
            labels=["result"],
        )
        for result in counters.WEBHOOK_RESULTS:
            results.add_metric([result], totals.get(counters.webhook_deliveries(result), 0))
        yield results
        yield counter(
            "workbench_classification_lease_expiries",
            "Job leases that expired (the job was then re-claimed or, on its last attempt, died).",
            counters.LEASES_EXPIRED,
        )
        yield counter(
            "workbench_classification_reclaims",
            "Jobs claimed again after their lease expired.",
            counters.JOBS_RECLAIMED,
        )
        yield counter(
            "workbench_classification_jobs_died",
            "Jobs that became dead (failed or lost on their last attempt).",
            counters.JOBS_DEAD,
        )
        yield counter("workbench_review_actions", "Review actions by people.", "review_actions")
        yield counter("workbench_api_calls", "Authenticated API calls.", counters.API_CALLS)
        yield counter(
            "workbench_products_imported",
            "Products created or changed by catalog imports.",
            counters.PRODUCTS_IMPORTED,
        )
        yield SummaryMetricFamily(
            "workbench_catalog_import_duration_seconds",
            "Time from a catalog import's start to its commit, for completed imports.",
            count_value=totals.get(counters.CATALOG_IMPORTS, 0),
            sum_value=totals.get(counters.IMPORT_MS, 0) / 1000,
        )
        yield SummaryMetricFamily(
            "workbench_audit_export_duration_seconds",
            "Time from an audit export's start to its seal, for ready exports.",
            count_value=totals.get(counters.AUDIT_EXPORTS, 0),
            sum_value=totals.get(counters.EXPORT_MS, 0) / 1000,
        )

    def _chains(self):
        AuditEvent = _model("audit", "AuditEvent")
        chains = GaugeMetricFamily(
            "workbench_audit_chain_length",
            f"Events in each tenant's audit hash chain ({SYSTEM_CHAIN}: events of no tenant).",
            labels=["tenant"],
        )
        heads = Tenant.objects.annotate(
            seq=Subquery(
                AuditEvent.objects.filter(tenant=OuterRef("pk")).order_by("-seq").values("seq")[:1]
            )
        ).values_list("slug", "seq")
        for slug, seq in heads:
            chains.add_metric([slug], seq or 0)
        system = AuditEvent.objects.filter(tenant__isnull=True).aggregate(seq=Max("seq"))["seq"]
        chains.add_metric([SYSTEM_CHAIN], system or 0)
        return chains


_TOTAL_METRICS = [
    *(counters.decisions(o) for o in counters.OUTCOMES),
    *(counters.webhook_deliveries(r) for r in counters.WEBHOOK_RESULTS),
    counters.LEASES_EXPIRED,
    counters.JOBS_RECLAIMED,
    counters.JOBS_DEAD,
    counters.REVIEW_ACTIONS,
    counters.API_CALLS,
    counters.PRODUCTS_IMPORTED,
    counters.CATALOG_IMPORTS,
    counters.IMPORT_MS,
    counters.AUDIT_EXPORTS,
    counters.EXPORT_MS,
]
REGISTRY.register(DatabaseCollector())


class RequestLatencyMiddleware:
    """Observe each request's duration in ``REQUEST_SECONDS`` (labelled by the view's URL name,
    so that the label set stays small whatever the paths)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unmatched"
        REQUEST_SECONDS.labels(request.method, view, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


def _refusal(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@never_cache
@require_GET
def metrics(request):
    """Answer Prometheus in its text format; 404 unless ``METRICS_TOKEN`` is set, then 401
    without ``Authorization: Bearer …`` and 403 for another token (compared in constant time)."""
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404("Metrics are off (METRICS_TOKEN is not set).")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return _refusal(401, "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.")
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        return _refusal(403, "This is not the metrics token.")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
