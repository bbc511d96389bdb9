"""Pages of the audit app: the log, object history, exports, downloads and certificates."""

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from audit import access, forms, renderers, selectors, services, snapshot
from audit.xlsx import XLSX_CONTENT_TYPE
from workbench.access import has_perm, tenant_view


def _fragment_or_page(request, template: str, fragment: str, context: dict, status=200):
    """Render the whole page, or only ``fragment`` for an htmx request (Vary: HX-Request)."""
    name = f"{template}#{fragment}" if request.htmx else template
    response = render(request, name, context, status=status)
    response["Vary"] = "HX-Request"
    return response


def _log_filters(request):
    form = forms.LogFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.filters(), form.cleaned_data.get("before")
    return form, {}, None


@tenant_view("view_audit_log")
@require_GET
def log(request):
    """List the tenant's audit events with filters and keyset pagination."""
    form, filters, before = _log_filters(request)
    page = selectors.log_page(selectors.audit_log(request.tenant, **filters), before=before)
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "actors": selectors.actor_labels(request.tenant),
    }
    status = 422 if form.errors else 200
    return _fragment_or_page(request, "audit/log.html", "results", context, status)


@tenant_view("view_audit_log")
@require_GET
def log_xlsx(request):
    """Download the filtered audit log as a spreadsheet."""
    _form, filters, _before = _log_filters(request)
    events = selectors.audit_log(request.tenant, **filters).iterator(chunk_size=2000)
    buffer = io.BytesIO()
    renderers.render_log_xlsx(events, buffer)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    name = f"audit-log-{request.tenant.slug}-{stamp}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@tenant_view("view_audit_log")
@require_GET
def chain(request):
    """Show whether the tenant's hash chain verifies (loaded lazily by the log page)."""
    context = {"report": selectors.chain_status(request.tenant)}
    return _fragment_or_page(request, "audit/chain.html", "chain", context)


@tenant_view("view_audit_log")
@require_GET
def history(request, target_type: str, target_id: str):
    """Show the history panel of one object (for pages that load it lazily)."""
    events = selectors.events_for_target(request.tenant, target_type, target_id)
    return render(request, "audit/_history.html", {"history_events": events})


def _exports_page(request, form, status=200):
    context = {
        "form": form,
        "can_export": has_perm(request, "export_audit"),
        "exports": selectors.exports_for_tenant(request.tenant)[:100],
    }
    return render(request, "audit/exports.html", context, status=status)


@tenant_view("download_audit_exports")
@require_GET
def exports(request):
    """List the tenant's audit exports; compliance leads also see the form to start one."""
    return _exports_page(request, forms.ExportForm())


@tenant_view("export_audit")
@require_POST
def export_create(request):
    """Start an audit export for the submitted scope (built in the background)."""
    form = forms.ExportForm(request.POST)
    if form.is_valid():
        try:
            export = services.export_request(
                actor=request.user, tenant=request.tenant, scope=form.scope()
            )
        except ValidationError as err:
            for field, errors in err.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Audit export #{export.pk} is being prepared.")
            return redirect("audit:export_detail", tenant_slug=request.tenant.slug, pk=export.pk)
    return _exports_page(request, form, status=422)


@tenant_view("download_audit_exports")
@require_GET
def export_detail(request, pk: int):
    """Show one export: progress while it runs, then its digest, downloads and certificates.

    An htmx poll gets only the progress fragment; 286 stops the polling once it is finished.
    """
    export = access.export_for_user(request, pk)
    context = {"export": export, "decisions": [], "tampered": ""}
    if request.htmx and request.GET.get("poll"):
        status = 286 if export.is_terminal else 200
        return render(request, "audit/export_detail.html#progress", context, status=status)
    if export.status == "ready":
        try:
            document = selectors.export_snapshot(export)
        except selectors.SnapshotTampered as err:
            context["tampered"] = str(err)
        else:
            context["decisions"] = renderers.decisions(document)[:500]
            context["decision_count"] = len(renderers.decisions(document))
    return render(request, "audit/export_detail.html", context)


def _ready_bytes(export) -> bytes:
    if export.status != "ready":
        raise Http404("This export is not ready.")
    return selectors.export_bytes(export)


@tenant_view("download_audit_exports")
@require_GET
def export_download(request, pk, fmt: str):
    """Download a ready export as its canonical JSON or as a spreadsheet rendered from it."""
    export = access.export_for_user(request, pk)
    try:
        data = _ready_bytes(export)
    except selectors.SnapshotTampered as err:
        return HttpResponse(str(err), status=409, content_type="text/plain")
    name = f"audit-export-{request.tenant.slug}-{export.pk}-{export.sha256[:12]}"
    if fmt == "json":
        response = HttpResponse(data, content_type="application/json")
    else:
        buffer = io.BytesIO()
        renderers.render_xlsx(snapshot.parse(data), export.sha256, buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["X-Snapshot-SHA256"] = export.sha256
    services.export_record_download(actor=request.user, export=export, rendering=fmt)
    return response


@tenant_view("download_audit_exports")
@require_GET
def certificate(request, pk: int, decision_id: int):
    """Show the printable classification certificate of one decision of a ready export."""
    export = access.export_for_user(request, pk)
    try:
        data = _ready_bytes(export)
    except selectors.SnapshotTampered as err:
        return HttpResponse(str(err), status=409, content_type="text/plain")
    context = renderers.certificate_context(snapshot.parse(data), export.sha256, decision_id)
    if context is None:
        raise Http404("This export holds no such decision.")
    services.export_record_download(
        actor=request.user, export=export, rendering=f"certificate:{decision_id}"
    )
    return render(request, "audit/certificate.html", {**context, "export": export})
