"""Rule-pack pages: list, draft, gate report, backtest, diff and impact preview, activation.

Thin views: access helper → form → one service or selector → render. Authoring, backtests and
activation need ``manage_rulepacks``; reading needs ``read_tenant``.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rulepacks import access, cases, forms, selectors, services
from rulepacks.format import parse
from rulepacks.models import RulePack
from workbench.access import has_perm, tenant_view
from workbench.rendering import render_page, wants_partial


def _detail(pack: RulePack):
    return redirect("rulepacks:detail", tenant_slug=pack.tenant.slug, pk=pack.pk)


@tenant_view("read_tenant")
@require_GET
def pack_list(request):
    """List the tenant's packs per jurisdiction with status and hash."""
    context = {
        "groups": selectors.packs_by_jurisdiction(request.tenant),
        "can_author": has_perm(request, "manage_rulepacks"),
    }
    return render(request, "rulepacks/list.html", context)


@tenant_view("manage_rulepacks")
@require_http_methods(["GET", "POST"])
def pack_new(request):
    """Create a draft from the editor or an uploaded file (optionally starting from a pack)."""
    jurisdiction = request.GET.get("jurisdiction", "US")
    initial = {
        "jurisdiction": jurisdiction,
        "source": forms.STARTER.format(jurisdiction=jurisdiction),
    }
    start = request.GET.get("from")
    base = None
    if start and start.isdigit():
        base = access.pack_for_read(request, int(start))
        initial.update(jurisdiction=base.jurisdiction, source=base.source)
    form = forms.SourceForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            pack = services.rulepack_create(
                actor=request.user,
                tenant=request.tenant,
                jurisdiction=form.cleaned_data["jurisdiction"],
                source=form.cleaned_data["source"],
                base=base,
            )
        except ValidationError as err:
            form.add_error(None, err)
        else:
            messages.success(request, "Draft saved. Validate it to run the gates.")
            return _detail(pack)
    status = 422 if form.errors else 200
    # The full path keeps ?from=, so the saved draft inherits the base pack's backtest cases.
    context = {"form": form, "pack": None, "base": base, "save_url": request.get_full_path()}
    return render(request, "rulepacks/edit.html", context, status=status)


@tenant_view("manage_rulepacks")
@require_POST
def source_check(request):
    """Check the editor's source for syntax and schema errors without saving anything."""
    result = parse(request.POST.get("source", ""))
    check = {
        "problems": result.problems,
        "rules": len(result.pack.rules) if result.pack else 0,
        "golden": len(result.pack.golden) if result.pack else 0,
    }
    if wants_partial(request):
        return render_page(request, "rulepacks/edit.html", {"check": check}, partial="check")
    pk = request.POST.get("pack", "")
    pack = access.pack_for_authoring(request, int(pk)) if pk.isdigit() else None
    form = forms.SourceForm(request.POST, with_jurisdiction=pack is None)
    save_url = (
        reverse("rulepacks:edit", args=[request.tenant.slug, pack.pk])
        if pack
        else reverse("rulepacks:new", args=[request.tenant.slug])
    )
    context = {"form": form, "pack": pack, "save_url": save_url, "check": check}
    return render_page(request, "rulepacks/edit.html", context)


@tenant_view("read_tenant")
@require_GET
def pack_detail(request, pk: int):
    """Show a pack: status, hash, gate report with line numbers, backtest summary, source."""
    pack = access.pack_for_read(request, pk)
    active = selectors.active_pack(request.tenant, pack.jurisdiction)
    context = {
        "pack": pack,
        "active": active,
        "can_author": has_perm(request, "manage_rulepacks"),
        "source_lines": list(enumerate(pack.source.splitlines(), start=1)),
        "problem_lines": _problem_lines(pack),
        "cases_form": forms.CasesForm(),
        "to_reclassify": len(selectors.products_to_reclassify(pack)),
    }
    return render(request, "rulepacks/detail.html", context)


def _problem_lines(pack: RulePack) -> set[int]:
    gates = (pack.gate_report or {}).get("gates", [])
    return {p["line"] for g in gates for p in g.get("problems", []) if p.get("line")}


@tenant_view("read_tenant")
@require_GET
def pack_source(request, pk: int):
    """Download a pack's source exactly as stored (its SHA-256 is in the header)."""
    pack = access.pack_for_read(request, pk)
    response = HttpResponse(pack.source, content_type="application/toml; charset=utf-8")
    filename = f"rulepack-{pack.jurisdiction.lower()}-{pack.pk}-{pack.short_hash}.toml"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-SHA256"] = pack.sha256
    return response


@tenant_view("read_tenant")
@require_GET
def cases_template(request):
    """Download an empty backtest-set workbook with the expected columns."""
    response = HttpResponse(
        cases.template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="rulepack-backtest-cases.xlsx"'
    return response


@tenant_view("manage_rulepacks")
@require_http_methods(["GET", "POST"])
def pack_edit(request, pk: int):
    """Edit a draft's source in the editor (or replace it by upload)."""
    pack = access.pack_for_authoring(request, pk)
    if not pack.is_editable:
        messages.error(request, f"This pack is {pack.status} and read-only.")
        return _detail(pack)
    form = forms.SourceForm(
        request.POST or None,
        request.FILES or None,
        initial={"source": pack.source},
        with_jurisdiction=False,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.rulepack_update(
                actor=request.user, pack=pack, source=form.cleaned_data["source"]
            )
        except ValidationError as err:
            form.add_error(None, err)
        else:
            messages.success(request, "Draft saved. Validate it again to run the gates.")
            return _detail(pack)
    status = 422 if form.errors else 200
    context = {"form": form, "pack": pack, "save_url": request.path}
    return render(request, "rulepacks/edit.html", context, status=status)


def _run(request, pk: int, service, done: str):
    pack = access.pack_for_authoring(request, pk)
    try:
        pack = service(actor=request.user, pack=pack)
    except ValidationError as err:
        for message in err.messages:
            messages.error(request, message)
    else:
        messages.success(request, done.format(pack=pack))
    return pack


@tenant_view("manage_rulepacks")
@require_POST
def pack_validate(request, pk: int):
    """Run the gates; the detail page shows the report."""
    pack = _run(request, pk, services.rulepack_validate, "Gates run: the pack is {pack.status}.")
    return _detail(pack)


@tenant_view("manage_rulepacks")
@require_POST
def pack_discard(request, pk: int):
    """Discard a draft (never an active or retired pack)."""
    pack = access.pack_for_authoring(request, pk)
    try:
        services.rulepack_discard(actor=request.user, pack=pack)
    except ValidationError as err:
        for message in err.messages:
            messages.error(request, message)
        return _detail(pack)
    messages.success(request, f"Draft #{pk} discarded.")
    return redirect("rulepacks:list", tenant_slug=request.tenant.slug)


@tenant_view("manage_rulepacks")
@require_POST
def pack_cases(request, pk: int):
    """Upload a backtest set (xlsx or TOML) for a draft."""
    pack = access.pack_for_authoring(request, pk)
    form = forms.CasesForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return _detail(pack)
    upload = form.cleaned_data["file"]
    try:
        pack = services.rulepack_cases_upload(
            actor=request.user, pack=pack, filename=upload.name, content=upload.read()
        )
    except ValidationError as err:
        for message in err.messages:
            messages.error(request, f"{upload.name}: {message}")
    else:
        messages.success(request, f"{len(pack.backtest_cases)} backtest cases attached.")
    return _detail(pack)


@tenant_view("manage_rulepacks")
@require_POST
def pack_backtest_run(request, pk: int):
    """Run the backtest and show its report."""
    pack = _run(request, pk, services.rulepack_backtest, "Backtest run.")
    if pack.backtest_report:
        return redirect("rulepacks:backtest", tenant_slug=request.tenant.slug, pk=pack.pk)
    return _detail(pack)


@tenant_view("read_tenant")
@require_GET
def pack_backtest(request, pk: int):
    """Show the backtest report: the activation checks, per-rule precision, every case."""
    pack = access.pack_for_read(request, pk)
    report = pack.backtest_report or {}
    context = {
        "pack": pack,
        "report": report,
        "stale": bool(report) and report.get("sha256") != pack.sha256,
        "can_author": has_perm(request, "manage_rulepacks"),
    }
    return render(request, "rulepacks/backtest.html", context)


@tenant_view("manage_rulepacks")
@require_GET
def pack_diff(request, pk: int):
    """Compare a pack with the active one: source diff and impact over the tenant's products."""
    pack = access.pack_for_authoring(request, pk)
    active = selectors.active_pack(request.tenant, pack.jurisdiction)
    is_active = active is not None and active.pk == pack.pk
    context = {
        "pack": pack,
        "active": active,
        "is_active": is_active,
        "diff": [] if is_active else selectors.source_diff(active, pack),
    }
    try:
        context["impact"] = selectors.impact_preview(pack)
    except ValueError as err:
        context["impact_error"] = str(err)
    return render(request, "rulepacks/diff.html", context)


@tenant_view("manage_rulepacks")
@require_http_methods(["GET", "POST"])
def pack_activate(request, pk: int):
    """Confirm, then activate a pack (the active one is retired in the same transaction)."""
    pack = access.pack_for_authoring(request, pk)
    if request.method == "POST":
        if request.POST.get("confirm") == pack.short_hash:
            pack = _run(request, pk, services.rulepack_activate, "Pack #{pack.pk} is active.")
            return _detail(pack)
        messages.error(request, "Type the pack's short hash to confirm the activation.")
    active = selectors.active_pack(request.tenant, pack.jurisdiction)
    context = {
        "pack": pack,
        "active": active,
        "problems": selectors.activation_problems(pack),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "rulepacks/activate.html", context, status=status)


@tenant_view("manage_rulepacks")
@require_POST
def pack_reclassify(request, pk: int):
    """Classify again, with the active pack, the products whose open decision predates it."""
    pack = access.pack_for_authoring(request, pk)
    try:
        requests = services.rulepack_reclassify(actor=request.user, pack=pack)
    except ValidationError as err:
        for message in err.messages:
            messages.error(request, message)
    else:
        count = sum(r.product_count for r in requests)
        messages.success(
            request,
            f"{count} product{'s' if count != 1 else ''} queued for classification with pack "
            f"#{pack.pk} in {len(requests)} request{'s' if len(requests) != 1 else ''}.",
        )
    return _detail(pack)
