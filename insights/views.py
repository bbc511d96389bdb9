"""The compliance dashboard and the acknowledgement of drift alerts."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from insights import dashboard, forms, selectors, services
from insights.models import DriftAlert
from workbench.access import has_perm, tenant_view
from workbench.rendering import render_page


@tenant_view("read_tenant")
@require_GET
def index(request):
    """Show the dashboard for the period and jurisdiction in the URL (htmx: the body only).

    Compliance leads and auditors see every section; a broker sees the figures of their own
    queue (the items they hold, their actions); other roles get 403."""
    full = has_perm(request, "view_insights")
    if not full and not has_perm(request, "review_decisions"):
        raise PermissionDenied("Your role does not allow this (view insights).")
    form = forms.PeriodForm(request.GET or None, jurisdictions=settings.JURISDICTIONS)
    period = form.period_value()
    slug = request.tenant.slug
    links = {
        "review": reverse("classification:index", args=[slug]),
        "decision": lambda pk: reverse("classification:decision", args=[slug, pk]),
    }
    context = {
        "form": form,
        "period": period,
        "full": full,
        "sections": dashboard.build(
            request.tenant, period, links=links, full=full, user=request.user
        ),
        "alerts": list(selectors.open_alerts(request.tenant, period.jurisdiction)) if full else [],
        "may_acknowledge": has_perm(request, "manage_rulepacks"),
    }
    return render_page(request, "insights/index.html", context, partial="body")


@tenant_view("manage_rulepacks")
@require_POST
def acknowledge(request, pk: int):
    """Acknowledge a drift alert (compliance lead); back to the dashboard with the same filters."""
    try:
        services.alert_acknowledge(actor=request.user, tenant=request.tenant, alert_id=pk)
        messages.success(request, "Alert acknowledged.")
    except DriftAlert.DoesNotExist as err:
        raise Http404("No such alert.") from err
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
    back = reverse("insights:index", args=[request.tenant.slug])
    query = QueryDict(request.POST.get("query", "")).urlencode()
    return redirect(f"{back}?{query}" if query else back)
