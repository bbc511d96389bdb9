"""Catalog pages: list, product detail and edit, upload, import result, downloads."""

import re
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from catalog import access, forms, importer, selectors, services, workbooks
from catalog import facts as F
from catalog.models import ImportStatus
from workbench import panels
from workbench.access import has_perm, tenant_view
from workbench.rendering import render_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
ERRORS_SHOWN = 200
CONFLICTS_SHOWN = 200


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@tenant_view("read_tenant")
@require_GET
def product_list(request):
    """List the tenant's products with search, filters and pages."""
    form = forms.ProductFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    products = selectors.product_list(tenant=request.tenant, **filters)
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_edit": has_perm(request, "edit_catalog"),
    }
    return render(request, "catalog/product_list.html", context)


@tenant_view("read_tenant")
@require_GET
def product_detail(request, pk: int):
    """Show a product's current facts and its version history."""
    product = access.product_for_request(request, pk)
    context = {
        "product": product,
        "facts": _fact_rows(product.current_version.facts if product.current_version else {}),
        "history": selectors.product_history(product=product),
        "labels": F.LABELS,
        "can_edit": has_perm(request, "edit_catalog"),
        "panels": panels.collect("product", request, product),
    }
    return render(request, "catalog/product_detail.html", context)


def _fact_rows(facts: dict) -> list[tuple[str, object]]:
    return [(F.LABELS[key], facts.get(key)) for key in F.FACT_KEYS]


@tenant_view("edit_catalog")
@require_http_methods(["GET", "POST"])
def product_edit(request, pk: int):
    """Edit a product's facts; a change writes a new version."""
    product = access.product_for_request(request, pk)
    current = product.current_version.facts if product.current_version else {}
    form = forms.FactsForm(request.POST or None, initial=forms.FactsForm.initial_from(current))
    if request.method == "POST" and form.is_valid():
        try:
            product, changed = services.product_update_facts(
                actor=request.user, product=product, raw=form.cleaned_data
            )
        except ValidationError as err:
            for field, errors in err.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if changed:
                messages.success(
                    request, f"Saved version {product.current_version.n} of {product.sku}."
                )
            else:
                messages.info(request, "Nothing changed; no new version was written.")
            return redirect(
                "catalog:product_detail", tenant_slug=request.tenant.slug, pk=product.pk
            )
    status = 422 if form.errors else 200
    context = {"product": product, "form": form}
    return render(request, "catalog/product_edit.html", context, status=status)


@tenant_view("edit_catalog")
@require_http_methods(["GET", "POST"])
def import_upload(request):
    """Upload a catalog file; small files finish here, large ones continue in the background."""
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = services.import_batch_start(
            actor=request.user, tenant=request.tenant, fileobj=upload.file, filename=upload.name
        )
        return redirect("catalog:batch_detail", tenant_slug=request.tenant.slug, pk=batch.pk)
    status = 422 if form.errors else 200
    context = {"form": form, "batches": selectors.recent_imports(tenant=request.tenant)}
    return render(request, "catalog/import_upload.html", context, status=status)


@tenant_view("read_tenant")
@require_GET
def import_template(request):
    """Download the catalog import template workbook."""
    return _xlsx(workbooks.template_workbook(), "catalog-import-template.xlsx")


@tenant_view("read_tenant")
@require_GET
def batch_detail(request, pk: int):
    """Show an import's progress and result; htmx polls the status fragment until it ends."""
    batch = access.batch_for_request(request, pk)
    lines = importer.row_error_lines(batch.refused_rows[:ERRORS_SHOWN])
    context = {
        "batch": batch,
        "error_lines": lines[:ERRORS_SHOWN],
        "more_errors": batch.refused_count > ERRORS_SHOWN or len(lines) > ERRORS_SHOWN,
        "poll_url": reverse("catalog:batch_detail", args=[request.tenant.slug, batch.pk]),
        "can_edit": has_perm(request, "edit_catalog"),
        "conflicts": _conflict_rows(batch.conflicts[:CONFLICTS_SHOWN]),
        "more_conflicts": len(batch.conflicts) - CONFLICTS_SHOWN,
    }
    if batch.status == ImportStatus.DONE and batch.updated_count:
        page = Paginator(selectors.import_batch_updates(batch=batch), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context["updates_page"] = page
        context["updates"] = [
            {"version": item["version"], "changes": _change_rows(item["changes"])}
            for item in selectors.versions_with_changes(page.object_list)
        ]
    # htmx polls the status fragment until the import ends or waits for someone; the terminal
    # fragment carries no trigger either. A stalled import is still polled: the sweep queues it
    # again or fails it.
    waiting = batch.is_abandoned or batch.needs_confirmation
    return render_page(
        request,
        "catalog/batch_detail.html",
        context,
        partial="status",
        stop_polling=batch.is_terminal or waiting,
    )


def _fact_text(value) -> str:
    if value is None or value == "":
        return "—"
    return "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _change_rows(changes: dict) -> list[tuple[str, str, str]]:
    """``(fact label, before, after)`` for each changed fact, in the template's fact order."""
    return [
        (F.LABELS.get(key, key), _fact_text(changes[key][0]), _fact_text(changes[key][1]))
        for key in F.FACT_KEYS
        if key in changes
    ]


def _conflict_rows(conflicts: list[dict]) -> list[dict]:
    return [
        {
            **c,
            "edited_at": datetime.fromisoformat(c["edited_at"]),
            "changes": _change_rows(c["changes"]),
        }
        for c in conflicts
    ]


@tenant_view("edit_catalog")
@require_http_methods(["POST"])
def batch_choose_edits(request, pk: int):
    """Answer an import that stopped over in-app edits: keep them, or overwrite with the file."""
    batch = access.batch_for_request(request, pk)
    form = forms.EditsChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether to keep the in-app values or use the file.")
    else:
        try:
            services.import_batch_choose_edits(
                actor=request.user, batch=batch, edits=form.cleaned_data["edits"]
            )
        except ValidationError as err:
            messages.error(request, " ".join(err.message_dict.get("edits", err.messages)))
    return redirect("catalog:batch_detail", tenant_slug=request.tenant.slug, pk=batch.pk)


@tenant_view("read_tenant")
@require_GET
def batch_refused(request, pk: int):
    """Download an import's refused rows with an Errors column, ready to fix and re-upload."""
    batch = access.batch_for_request(request, pk)
    if not batch.refused_rows:
        raise Http404("This import refused no rows.")
    return _xlsx(
        workbooks.refused_workbook(batch), f"{_safe_stem(batch.filename)}-refused-rows.xlsx"
    )


def _safe_stem(filename: str) -> str:
    """The uploaded name's stem in safe characters only: it ends up in a download header, and a
    crafted name ('x.html"; filename="report.html') must not choose the saved name or type."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", filename.rsplit(".", 1)[0]).strip("-")
    return stem[:60] or "catalog"
