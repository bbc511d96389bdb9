"""Classification pages: requests and their progress, decisions and their evidence, dead jobs."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from classification import calibrations, forms, selectors, services, tasks
from classification.models import ClassificationRequest, Decision, Job
from classification.review import selectors as review_selectors
from workbench.access import tenant_object, tenant_view
from workbench.rendering import render_page

# The outcome chips of a request's page: (outcome, chip text).
OUTCOME_CHIPS = (
    ("classified", "classified"),
    ("needs_review", "need review"),
    ("blocked", "blocked"),
)
NONE_WITH_OUTCOME = {
    "classified": "None of these decisions is classified.",
    "needs_review": "None of these decisions needs review.",
    "blocked": "None of these decisions is blocked.",
}


def _render_progress(request, template, context):
    """Render the page, or for htmx polling only its progress fragment, which holds the
    decisions table too, so the table fills as the work does (286 stops polling)."""
    return render_page(
        request,
        template,
        context,
        partial="progress",
        stop_polling=context["progress"].finished,
    )


def _progress_context(request, requests, decisions) -> dict:
    """Progress of ``requests`` and their decisions, filtered by ``?outcome=`` (the chips)."""
    form = forms.DecisionFilterForm(request.GET or None)
    outcome = form.cleaned_data["outcome"] if form.is_valid() else ""
    if outcome:
        decisions = decisions.filter(outcome=outcome)
    return {
        "progress": selectors.progress(requests),
        "decisions": decisions,
        "outcome": outcome,
        "outcome_label": dict(form.fields["outcome"].choices).get(outcome, ""),
        "outcome_chips": OUTCOME_CHIPS,
        "empty": NONE_WITH_OUTCOME.get(outcome, "No decisions yet."),
    }


@tenant_view("read_tenant")
def index(request):
    """List recent requests and decisions, filterable by outcome."""
    form = forms.DecisionFilterForm(request.GET or None)
    decisions = selectors.decisions_for_tenant(request.tenant)
    if form.is_valid() and form.cleaned_data["outcome"]:
        decisions = decisions.filter(outcome=form.cleaned_data["outcome"])
    page = Paginator(decisions, 50).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "requests": selectors.requests_for_tenant(request.tenant)[:10],
        "catalog_form": forms.ClassifyCatalogForm(),
        "calibrations": calibrations.calibrations_in_use(request.tenant),
    }
    return render(request, "classification/index.html", context)


def _back_to_catalog(request) -> str:
    """The page the selection came from (same host only), else the catalog list."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("catalog:product_list", args=[request.tenant.slug])


@tenant_view("request_classification")
@require_POST
def classify_selected(request):
    """Create one request for the products ticked in the catalog list."""
    form = forms.ClassifySelectedForm(request.POST)
    form.is_valid()
    try:
        created = services.request_create(
            actor=request.user,
            tenant=request.tenant,
            product_ids=form.cleaned_data.get("product") or [],
        )
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
        return redirect(_back_to_catalog(request))
    messages.success(request, f"Classifying {created.product_count} products.")
    return redirect("classification:request", tenant_slug=request.tenant.slug, pk=created.pk)


@tenant_view("request_classification")
@require_POST
def classify_catalog(request):
    """Classify all unclassified products, or all of one destination, in requests of 100."""
    form = forms.ClassifyCatalogForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("classification:index", tenant_slug=request.tenant.slug)
    scope = form.cleaned_data["scope"]
    created = services.catalog_classify(
        actor=request.user,
        tenant=request.tenant,
        jurisdiction=form.cleaned_data["jurisdiction"] or None,
        only_unclassified=scope == "unclassified",
    )
    if not created:
        messages.info(request, "Nothing to classify: no product matches that scope.")
        return redirect("classification:index", tenant_slug=request.tenant.slug)
    return redirect("classification:group", tenant_slug=request.tenant.slug, group=created[0].group)


@tenant_view("read_tenant")
def request_detail(request, pk: int):
    """Show one request's progress (polled while running) and its decisions."""
    obj = tenant_object(
        request, ClassificationRequest.objects.select_related("requested_by"), pk=pk
    )
    requests = ClassificationRequest.objects.filter(pk=obj.pk)
    decisions = selectors.decisions_for_tenant(request.tenant).filter(job__request=obj)
    return _render_progress(
        request,
        "classification/request.html",
        {
            "req": obj,
            "requests": [obj],
            "dead": selectors.dead_jobs(request.tenant).filter(request=obj),
            **_progress_context(request, requests, decisions),
        },
    )


@tenant_view("read_tenant")
def group_detail(request, group):
    """Show the combined progress of the requests of one 'Classify catalog' run."""
    requests = selectors.requests_for_tenant(request.tenant).filter(group=group)
    if not requests.exists():
        from django.http import Http404

        raise Http404("No such classification run.")
    decisions = selectors.decisions_for_tenant(request.tenant).filter(job__request__in=requests)
    context = _progress_context(request, requests, decisions)
    context["decisions"] = context["decisions"][:200]
    return _render_progress(
        request,
        "classification/request.html",
        {
            "req": None,
            "group": group,
            "requests": list(requests),
            "dead": selectors.dead_jobs(request.tenant).filter(request__in=requests),
            **context,
        },
    )


@tenant_view("read_tenant")
def decision_detail(request, pk: int):
    """Show a decision's full evidence: its review (final code, reason, ruling), facts as
    classified, candidates, rejected, duty."""
    decision = tenant_object(
        request,
        Decision.objects.select_related("product", "product_version", "rule_pack", "job"),
        pk=pk,
    )
    history = selectors.decisions_for_product(decision.product).exclude(pk=decision.pk)[:20]
    return render(
        request,
        "classification/decision.html",
        {
            "decision": decision,
            "ev": decision.evidence,
            "history": history,
            "facts_changed": selectors.facts_changed(decision),
            "review": review_selectors.decision_review(decision),
        },
    )


@tenant_view("read_tenant")
def dead_jobs(request):
    """List jobs that failed every attempt, with their last error, and re-classifications after a
    catalog change that failed and wait for the sweep."""
    page = Paginator(selectors.dead_jobs(request.tenant), 50).get_page(request.GET.get("page"))
    failures = selectors.failed_reclassifications(request.tenant)[:50]
    return render(
        request,
        "classification/dead_jobs.html",
        {"page": page, "failures": failures, "sweep_minutes": tasks.SWEEP_EVERY_MINUTES},
    )


@tenant_view("retry_jobs")
@require_POST
def job_retry(request, pk: int):
    """Retry one dead job (compliance leads)."""
    job = tenant_object(request, Job.objects.all(), pk=pk)
    try:
        services.job_retry(actor=request.user, job=job)
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
    else:
        messages.success(request, f"Job #{job.pk} is queued again.")
    return redirect("classification:dead_jobs", tenant_slug=request.tenant.slug)
