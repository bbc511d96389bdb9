"""Tariff pages under /t/<tenant>/tariffs/: search, browse, a line, duty estimate, revision diff.

Reference data is global; the pages live under the tenant so the access matrix applies
(``read_tenant``). Views parse a form, call one selector or service, and render a page or, for
htmx requests, the named partial of the same template.
"""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tariffs import codes, forms, lexicon, reference, selectors, services
from workbench.access import tenant_view
from workbench.rendering import render_page

AUTOCOMPLETE_LIMIT = 8


def _rows(ref, lines) -> list[dict]:
    """Pair lines with their flags from the in-memory reference (no query per row)."""
    return [
        {
            "line": line,
            "code": codes.fmt(line.code),
            "flags": ref.flags(line.code) if ref else None,
            "s301": ref.section301_for_china(line.code) if ref and line.declarable else None,
        }
        for line in lines
    ]


@tenant_view("read_tenant")
@require_GET
def index(request):
    """Show the loaded schedules and lists, and the search box."""
    context = {
        "schedules": selectors.schedules(),
        "lists": selectors.current_lists("US").values(),
        "form": forms.SearchForm(),
    }
    return render(request, "tariffs/index.html", context)


def _everyday_terms(query: str) -> tuple[list, list]:
    """Return the lexicon's hits for the query, and related terms when no hit gives a code."""
    index = lexicon.get_lexicon() if query else None
    if index is None:
        return [], []
    hits = index.match(query)
    # "coffee mug" has no code of its own ("too many codes to list"); "glass mug", "steel mug"
    # and the like say what the material decides, which is what the user needs next.
    related = [] if any(hit.codes for hit in hits) else index.related(query)
    return hits, related


@tenant_view("read_tenant")
@require_GET
def search(request):
    """Search the current schedule of a jurisdiction by code prefix or words, and the lexicon."""
    form = forms.SearchForm(request.GET or None)
    jurisdiction, query, schedule, rows = "US", "", None, []
    if form.is_valid():
        jurisdiction, query = form.cleaned_data["jurisdiction"], form.cleaned_data["q"].strip()
        schedule = selectors.current_schedule(jurisdiction) or selectors.current_schedule("HS")
        if schedule and query:
            ref = reference.get_reference(jurisdiction)
            rows = _rows(ref, selectors.search_lines(schedule, query))
    hits, related = _everyday_terms(query)
    context = {
        "form": form,
        "schedule": schedule,
        "rows": rows,
        "query": query,
        "jurisdiction": jurisdiction,
        "lexicon_hits": hits,
        "lexicon_related": related,
    }
    return render_page(request, "tariffs/search.html", context, partial="results")


@tenant_view("read_tenant")
@require_GET
def autocomplete(request):
    """Return the options of the code autocomplete fragment (declarable codes first)."""
    field = request.GET.get("field", "code")
    query = (request.GET.get(field) or request.GET.get("q") or "").strip()
    jurisdiction = (request.GET.get("jurisdiction") or "US").upper()
    schedule = selectors.current_schedule(jurisdiction)
    rows = []
    if schedule and len(query) >= 2:
        ref = reference.get_reference(jurisdiction)
        lines = [
            line for line in selectors.search_lines(schedule, query, limit=40) if line.declarable
        ]
        rows = _rows(ref, lines[:AUTOCOMPLETE_LIMIT])
        for row in rows:  # the end of the path is what tells siblings apart
            path = row["line"].full_description
            row["tail"] = path if len(path) <= 110 else "…" + path[-110:]
    context = {"rows": rows, "query": query, "jurisdiction": jurisdiction, "schedule": schedule}
    return render(request, "tariffs/_autocomplete_options.html", context)


@tenant_view("read_tenant")
@require_GET
def browse(request, code: str = ""):
    """Browse chapter → heading → subheading → national lines of a jurisdiction's schedule."""
    form = forms.JurisdictionForm(request.GET or None)
    jurisdiction = form.cleaned_data["jurisdiction"] if form.is_valid() else "US"
    schedule = selectors.current_schedule(jurisdiction) or selectors.current_schedule("HS")
    if code and not code.isdigit():
        raise Http404("No such code.")
    if schedule is None:
        lines, path = [], []
    elif not code:
        lines, path = selectors.hs_chapters(), []
    else:
        lines, path = selectors.children(schedule, code), selectors.line_path(schedule, code)
        if not path and len(code) == 2:
            path = [c for c in selectors.hs_chapters() if c.code == code]
    ref = reference.get_reference(jurisdiction)
    context = {
        "schedule": schedule,
        "jurisdiction": jurisdiction,
        "code": code,
        "path": path,
        "rows": _rows(ref, lines),
        "form": form,
    }
    return render(request, "tariffs/browse.html", context)


@tenant_view("read_tenant")
@require_GET
def line_detail(request, code: str):
    """Show one line: full description, rates, flags, and whether it is declarable."""
    form = forms.JurisdictionForm(request.GET or None)
    jurisdiction = form.cleaned_data["jurisdiction"] if form.is_valid() else "US"
    ref = reference.get_reference(jurisdiction)
    line = ref.line(code) if ref else None
    if line is None:
        raise Http404("This code is not in the current schedule.")
    context = {
        "ref": ref,
        "line": line,
        "code": codes.fmt(code),
        "flags": ref.flags(code),
        "s301": ref.section301_for_china(code) if line.declarable else None,
        "hs": ref.hs_description(code),
        "check": services.code_validate(jurisdiction=jurisdiction, code=code),
        "jurisdiction": jurisdiction,
        "children": [
            line for line in ref.lines() if line.code.startswith(code) and line.code != code
        ][:200],
    }
    return render(request, "tariffs/line.html", context)


@tenant_view("read_tenant")
@require_GET
def duty(request):
    """Estimate duty for a code, origin, value, quantity and weight, line by line."""
    form = forms.DutyForm(request.GET or None, initial={"currency": "USD", "jurisdiction": "US"})
    estimate, check = None, None
    if form.is_valid():
        data = form.cleaned_data
        check = services.code_validate(jurisdiction=data["jurisdiction"], code=data["code"])
        ref = reference.get_reference(data["jurisdiction"])
        if ref is not None:
            estimate = ref.duty(
                data["code"],
                origin=data["origin"],
                customs_value=data["customs_value"],
                currency=data["currency"],
                quantity=data["quantity"],
                quantity_unit=data["quantity_unit"] or None,
                net_weight_kg=data["net_weight_kg"],
            )
    status = 422 if form.is_bound and form.errors else 200
    context = {"form": form, "estimate": estimate, "check": check}
    return render_page(request, "tariffs/duty.html", context, partial="estimate", status=status)


@tenant_view("read_tenant")
@require_GET
def diff(request):
    """Compare two revisions of a schedule: codes added, removed, split and re-rated."""
    jurisdiction = (request.GET.get("jurisdiction") or "US").upper()
    revisions = list(
        selectors.schedules().filter(jurisdiction=jurisdiction).values_list("revision", flat=True)
    )
    initial = {"jurisdiction": jurisdiction}
    if len(revisions) >= 2:
        initial.update(from_revision=revisions[1], to_revision=revisions[0])
    data = request.GET if "from_revision" in request.GET else None
    form = forms.DiffForm(data, initial=initial, revisions=revisions)
    result = None
    if data is not None and form.is_valid():
        result = selectors.schedule_diff(
            jurisdiction, form.cleaned_data["from_revision"], form.cleaned_data["to_revision"]
        )
    elif data is None and len(revisions) >= 2:
        result = selectors.schedule_diff(jurisdiction, revisions[1], revisions[0])
    context = {"form": form, "diff": result, "jurisdiction": jurisdiction, "revisions": revisions}
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "tariffs/diff.html", context, status=status)


@tenant_view("read_tenant")
@require_GET
def invalid_codes(request):
    """List this tenant's records that name codes no longer valid in the current revision."""
    form = forms.JurisdictionForm(request.GET or None)
    jurisdiction = form.cleaned_data["jurisdiction"] if form.is_valid() else "US"
    context = {
        "jurisdiction": jurisdiction,
        "schedule": selectors.current_schedule(jurisdiction),
        "uses": services.invalid_code_uses(tenant=request.tenant, jurisdiction=jurisdiction),
        "form": form,
    }
    return render(request, "tariffs/invalid_codes.html", context)
