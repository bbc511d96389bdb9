"""Usage pages: a tenant's months for its admin (with downloads), every tenant for operators."""

import csv
import datetime as dt
import io

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from metering import counters, selectors
from workbench.access import tenant_view

MONTHS_SHOWN = 12
HEADER = ["month", "metric", "label", "unit", "value"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@tenant_view("manage_members")
@require_GET
def usage(request):
    """Show the tenant's usage of the last twelve months, this month first."""
    months = selectors.months_back(selectors.current_month(), MONTHS_SHOWN)
    rows = selectors.tenant_usage(request.tenant, months=months)
    return render(request, "metering/usage.html", {"months": months, "rows": rows})


@tenant_view("manage_members")
@require_GET
def usage_download(request, fmt: str):
    """Download every month of the tenant's usage as CSV or XLSX (one row per month and metric)."""
    if fmt not in ("csv", "xlsx"):
        raise Http404("Usage downloads are CSV or XLSX.")
    rows = [
        [month.strftime("%Y-%m"), metric, label, unit, value]
        for month, metric, label, unit, value in selectors.tenant_usage_history(request.tenant)
    ]
    stem = f"usage-{request.tenant.slug}-{selectors.current_month():%Y-%m}"
    if fmt == "csv":
        body = io.StringIO()
        writer = csv.writer(body, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
        response = HttpResponse(body.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(_workbook(rows), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


def _workbook(rows: list[list]) -> bytes:
    # Imported here: the URLconf imports every view, and a classification worker loads it for
    # its first ``reverse`` (an outbox event's link); openpyxl was a fifth of a second of that.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    # Every text cell is one of our own labels or keys: nothing a user typed reaches the sheet.
    wb = Workbook()
    ws = wb.active
    ws.title = "Usage"
    ws.append(HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    ws.column_dimensions["C"].width = 42
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _month_param(value: str | None) -> tuple[dt.date, str]:
    current = selectors.current_month()
    if not value:
        return current, ""
    try:
        return dt.datetime.strptime(value, "%Y-%m").date(), ""
    except ValueError:
        return current, f"“{value[:20]}” is not a month: use YYYY-MM, e.g. {current:%Y-%m}."


@require_GET
def operators_usage(request):
    """Show every tenant's usage in one month (``?month=YYYY-MM``); Django staff only."""
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied("Only operators (staff accounts) see every tenant's usage.")
    month, error = _month_param(request.GET.get("month"))
    units = [unit for _metric, _label, unit in counters.USAGE]
    context = {
        "month": month,
        "error": error,
        "previous": selectors.months_back(month, 2)[1],
        "columns": counters.USAGE,
        "tenants": [
            (tenant, list(zip(values, units, strict=True)))
            for tenant, values in selectors.all_tenants_usage(month=month)
        ],
    }
    return render(request, "metering/operators_usage.html", context, status=400 if error else 200)
