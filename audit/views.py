"""Pages of the audit app: the log, object history, exports, downloads and certificates."""

import io
import itertools

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit import access, forms, renderers, selectors, services, snapshot
from audit.models import ExportStatus
from audit.xlsx import XLSX_CONTENT_TYPE
from workbench.access import has_perm, tenant_view
from workbench.rendering import render_page, wants_partial

# The filtered log is built in memory; beyond this many events, an audit export is the tool.
LOG_XLSX_MAX = 200_000


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
        "can_download": has_perm(request, "download_audit_exports"),
        "query": query.urlencode(),
        "actors": selectors.actor_labels(request.tenant),
    }
    status = 422 if form.errors else 200
    return render_page(request, "audit/log.html", context, partial="results", status=status)


@tenant_view("view_audit_log")
@require_GET
def log_xlsx(request):
    """Download the filtered audit log as a spreadsheet."""
    _form, filters, _before = _log_filters(request)
    events = selectors.audit_log(request.tenant, **filters)
    count = events.count()
    if count > LOG_XLSX_MAX:
        messages.error(
            request,
            f"{count:,} events match: a download holds at most {LOG_XLSX_MAX:,}. Narrow the "
            "filters (a date range, a verb), or use an audit export for a full snapshot.",
        )
        query = request.GET.urlencode()
        return redirect(f"{request.path.removesuffix('log.xlsx')}?{query}")
    events = events.iterator(chunk_size=2000)
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
    return render_page(request, "audit/chain.html", context, partial="chain")


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
    if request.GET.get("poll") and wants_partial(request):
        stop = export.is_terminal or export.is_stalled
        return render_page(
            request, "audit/export_detail.html", context, partial="progress", stop_polling=stop
        )
    if export.status == ExportStatus.READY:
        try:
            document = snapshot.open_lazily(selectors.export_bytes(export))
        except selectors.SnapshotTampered as err:
            context["tampered"] = str(err)
        else:
            decisions = renderers.decisions(document)
            context["decisions"] = list(itertools.islice(decisions, 500))
            context["decision_count"] = len(decisions)
    return render_page(request, "audit/export_detail.html", context)


# Differences listed on the verification page.
VERIFY_DIFFERENCES_SHOWN = 50


@tenant_view("download_audit_exports")
@require_http_methods(["GET", "POST"])
def export_verify(request):
    """Check an uploaded export JSON against the export of this tenant it names.

    The record is the authority: the file is valid only when its SHA-256 is the recorded one;
    otherwise the page lists where it differs from the recorded snapshot. Only this tenant's
    exports are looked up, and another tenant's export id gets the unknown-id message.
    """
    if request.method == "GET":
        return _verify_page(request, forms.VerifyUploadForm())
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > settings.UPLOAD_MAX_BYTES:  # refused before the body is parsed
        form = forms.VerifyUploadForm()
        error = forms.too_large_message(declared, settings.UPLOAD_MAX_BYTES)
        return _verify_page(request, form, error=error, status=413)
    form = forms.VerifyUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _verify_page(request, form, status=422)
    try:
        check = selectors.export_file_check(
            request.tenant, form.snapshot_bytes, form.document, limit=VERIFY_DIFFERENCES_SHOWN
        )
    except selectors.ExportFileRefused as err:
        claimed = (form.document.get("tenant") or {}).get("slug")
        if isinstance(claimed, str) and claimed != request.tenant.slug:
            err = f"{err} The file itself names the tenant {claimed!r}: verify it there."
        return _verify_page(request, form, error=str(err), status=422)
    return _verify_page(request, forms.VerifyUploadForm(), check=check)


def _verify_page(request, form, *, check=None, error="", status=200):
    context = {"form": form, "check": check, "error": error}
    return render(request, "audit/export_verify.html", context, status=status)


def _ready_bytes(export) -> bytes:
    if export.status != ExportStatus.READY:
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
        renderers.render_xlsx(snapshot.open_lazily(data), export.sha256, buffer)
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
    context = renderers.certificate_context(snapshot.open_lazily(data), export.sha256, decision_id)
    if context is None:
        raise Http404("This export holds no such decision.")
    services.export_record_download(
        actor=request.user, export=export, rendering=f"certificate:{decision_id}"
    )
    return render(request, "audit/certificate.html", {**context, "export": export})
