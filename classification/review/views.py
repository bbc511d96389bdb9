# Over 500 lines: the queue, its panel and every action share _act and its context.
"""Review workbench pages: queues, the decision panel beside them, and the broker's actions.

Views stay thin: access helper, form, one service or selector, render. With htmx, selecting a
row swaps only the panel (``panel.html#panel``) and pushes its URL; without JavaScript every
panel is a plain page showing the queue beside it. After an action the panel re-renders from
fresh data and ``HX-Trigger: reviewActed`` tells the queue script to move to the next item.
"""

import functools
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_POST

from catalog import facts as catalog_facts
from classification import selectors as classification_selectors
from classification.models import (
    ActionKind,
    EvidenceFile,
    Outcome,
    ReviewQueue,
    ReviewStatus,
    SpotCheck,
)
from classification.review import access, forms, rulings, selectors, services
from rulepacks import routing
from tariffs import codes
from workbench.access import has_perm, tenant_view
from workbench.rendering import render_page, wants_partial

# Form class per action; the key names the form in the panel (and the kept input on a conflict).
ACTION_FORMS = {
    "accept": forms.AcceptForm,
    "override": forms.OverrideForm,
    "escalate": forms.EscalateForm,
    "request_info": forms.RequestInfoForm,
    "assign": forms.VersionedForm,
    "release": forms.VersionedForm,
    "grant": forms.GrantForm,
    "promote": forms.VersionedForm,
    "reopen": forms.ReopenForm,
    "undo": forms.VersionedForm,
}
AUTOCOMPLETE = "tariffs/_code_autocomplete.html"
# The query string keys that describe a queue view, carried from the queue into panel links.
QUEUE_KEYS = (
    "queue",
    "q",
    "source",
    "reason",
    "risk",
    "jurisdiction",
    "pack",
    "origin",
    "assignee",
    "age",
    "sort",
    "rule",
)
# The keys that narrow a queue (the counts per queue follow them).
FILTER_KEYS = ("q", "source", "reason", "risk", "jurisdiction", "pack", "rule", "origin")
FILTER_KEYS += ("assignee", "age")
DENSITIES = ("comfortable", "compact")


def _queue_query(params) -> str:
    kept = [(k, params.get(k)) for k in QUEUE_KEYS if params.get(k)]
    return urlencode(kept)


def _queue_context(request) -> dict:
    params = request.GET.copy()
    if "queue" not in params and params.get("outcome") in (Outcome.NEEDS_REVIEW, Outcome.BLOCKED):
        params["queue"] = params["outcome"]  # dashboard tiles link with ?outcome=
    form = forms.QueueFilterForm(params)
    values = form.values()
    queue = values.get("queue") or ReviewQueue.NEEDS_REVIEW
    if values.get("q"):
        values["search"] = selectors.search_products(request.tenant, values["q"])
    filtering = any(values.get(k) for k in FILTER_KEYS)
    page = selectors.queue_page(
        request.tenant,
        request.user,
        queue=queue,
        filters=values,
        sort=values.get("sort") or "risk",
        cursor=values.get("after", ""),
    )
    query = _queue_query({**params.dict(), "queue": queue})
    panel_base = reverse("classification:index", args=[request.tenant.slug]) + "review/"
    next_query = f"{query}&{urlencode({'after': page.next_cursor})}" if page.next_cursor else ""
    bulk = has_perm(request, "review_decisions") and page.queue.key == ReviewQueue.CONFIRM
    return {
        "filter_form": form,
        "rows": _rows(
            page.rows,
            panel_base,
            query,
            decided=queue == "decided",
            bulk=bulk,
            precedents=selectors.precedent_sources(
                s.decision_id for s in page.rows if s.evidence_source == "precedent"
            ),
        ),
        "page": page,
        "queue": page.queue,
        "queues": selectors.QUEUES,
        "counts": selectors.filtered_counts(request.tenant, request.user, values)
        if filtering
        else selectors.open_counts(request.tenant, request.user, request),
        "filtering": filtering,
        "search": values.get("search"),
        "density": density(request),
        "query": query,
        "next_query": next_query,
        "paged": bool(values.get("after")),
        "bulk": bulk,
        "bulk_eligible": selectors.BULK_ELIGIBLE,
    }


RISK_LABELS = {"low": "Low", "medium": "Medium", "high": "High"}


def density(request) -> str:
    """The reviewer's row density (comfortable or compact), kept in their session."""
    chosen = request.session.get("review_density")
    return chosen if chosen in DENSITIES else DENSITIES[0]


SOURCE_LABELS = {
    "rule": "Rule",
    "precedent": "Precedent",
    "search": "Word search",
    "semantic": "Search by meaning",
    "lexicon": "Everyday term",
    "residual": "Material or parts line",
    "reading": "Structured reading",
}


def _source(s, precedents: dict) -> dict:
    """Where a row's suggestion came from: a short label and the detail (rule id, precedent's
    broker and date)."""
    kind = s.evidence_source
    if not kind:
        return {}
    detail = ""
    if kind == "rule" and s.rule_id:
        detail = s.rule_id
    elif kind == "precedent" and s.decision_id in precedents:
        p = precedents[s.decision_id]
        detail = " ".join(x for x in (f"#{p['ref']}", p["broker"], p["date"]) if x and x != "#")
    return {
        "kind": kind if kind in ("rule", "precedent") else "search",
        "label": SOURCE_LABELS.get(kind, kind),
        "detail": detail,
    }


def waiting_for(missing_facts) -> str:
    """["materials", "product_type"] → "materials, product type" (the catalog's labels)."""
    labels = [catalog_facts.LABELS.get(k, k.replace("_", " ")) for k in missing_facts or []]
    return ", ".join(label if label.isupper() else label.lower() for label in labels)


def _rows(
    states, panel_base: str, query: str, *, decided: bool, bulk: bool = False, precedents=None
) -> list:
    """Queue rows as plain values: 50 rows render several times faster than through filters.

    With ``bulk``, each row says why it may not be confirmed with others ("" when it may)."""
    now = timezone.now()
    rows = []
    for s in states:
        code = s.final_code if decided else s.decision.selected_code
        rows.append(
            {
                "id": s.decision_id,
                "item": f"{s.decision_id}:{s.version}",
                "url": f"{panel_base}{s.decision_id}/?{query}",
                "sku": s.product.sku,
                "name": Truncator(s.product.name).chars(60),
                "assignee": s.assignee.username if s.assignee_id else "",
                "code": codes.fmt(code) if code else "—",
                "overridden": decided and s.final_code != s.decision.selected_code,
                "description": Truncator(s.suggested_description).chars(70),
                "pct": max(0, min(100, round(s.confidence * 100))),
                "reasons": [
                    (r.replace("_", " "), routing.REASON_LABELS.get(r, r)) for r in s.reasons
                ],
                "source": _source(s, precedents or {}),
                "waiting": waiting_for(s.missing_facts)
                if s.status == ReviewStatus.INFO_REQUESTED
                else "",
                "risk": s.decision.risk_band,
                "risk_label": RISK_LABELS.get(s.decision.risk_band, s.decision.risk_band),
                "time_iso": (s.decided_at if decided else s.decision_created_at).isoformat(),
                "when": (
                    timezone.localtime(s.decided_at).strftime("%Y-%m-%d %H:%M")
                    if decided
                    else _age(now - s.decision_created_at)
                ),
                "who": s.decided_by.username if decided and s.decided_by_id else "",
                "refusal": (selectors.bulk_refusal(s) or "") if bulk else "",
            }
        )
    return rows


def _age(delta) -> str:
    """3 d, 5 h, 12 min: how long an item has waited (cheaper than the timesince filter)."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 86400:
        return f"{seconds // 86400} d"
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


@tenant_view("read_tenant")
@require_GET
def queue(request):
    """Show a review queue (filters, sort and page in the URL), the landing page of Review."""
    context = _queue_context(request)
    partial = "queue" if request.headers.get("HX-Target") == "review-queue" else "page"
    return render_page(
        request, "classification/review/queue.html", context, partial=partial, vary=("HX-Target",)
    )


def _panel_context(request, state, *, bound=None, kept=None, conflict="") -> dict:
    """The panel's context from fresh data; ``bound`` is an invalid form to show with errors,
    ``kept`` is what a reviewer typed into an action that lost a conflict."""
    decision = state.decision
    action_forms = {}
    for name, form_class in ACTION_FORMS.items():
        if bound is not None and bound[0] == name:
            action_forms[name] = bound[1]
        else:
            initial = dict(kept or {}) if kept and kept.get("_form") == name else {}
            initial["version"] = state.version
            action_forms[name] = form_class(initial=initial, prefix=name)
    may_decide = access.may_decide(request, state)
    blocked = selectors.blocked_goods(decision) if state.status != ReviewStatus.FINAL else []
    actions = selectors.actions_for(state)
    final = state.status == ReviewStatus.FINAL
    return {
        "selected_id": state.pk,
        "kept": _kept_lines(kept),
        "state": state,
        "decision": decision,
        "ev": decision.evidence,
        "actions": actions,
        "undo": _undo_offer(request, state, actions),
        "history": selectors.product_history(state),
        "duties": selectors.duty_comparison(decision),
        "facts_changed": classification_selectors.facts_changed(decision)
        if state.is_open
        else None,
        "forms": action_forms,
        "conflict": conflict,
        "may_decide": may_decide and state.is_open,
        # Blocked goods: a compliance lead releases them with a justification (two under
        # four_eyes); a broker sees why and may escalate.
        "blocked_goods": blocked,
        "may_release": bool(blocked) and has_perm(request, "resolve_escalations"),
        "four_eyes": bool(blocked) and selectors.four_eyes(decision),
        "sign_off": selectors.pending_sign_off(state) if blocked and state.is_open else None,
        "spot_check_pending": final and state.spot_check == SpotCheck.PENDING,
        "may_correct": final and has_perm(request, "review_decisions"),
        "finalized": selectors.finalizing_action(state) if final else None,
        "may_act": (
            has_perm(request, "review_decisions")
            or has_perm(request, "resolve_escalations")
            or access.has_object_grant(request, state)
        ),
        "may_grant": has_perm(request, "resolve_escalations")
        and state.status == ReviewStatus.ESCALATED,
        "may_promote": has_perm(request, "manage_rulepacks") and state.status == ReviewStatus.FINAL,
        # Said where bulk confirm could be expected (Confirm, Needs review), not on blocked items.
        "bulk_refusal": selectors.bulk_refusal(state)
        if state.status == ReviewStatus.OPEN
        and state.queue in (ReviewQueue.CONFIRM, ReviewQueue.NEEDS_REVIEW)
        else "",
        "ruling_forms": rulings.accepted_forms(state.jurisdiction),
        "query": _queue_query(request.GET),
        "autocomplete_template": _autocomplete_template(),
    }


def _undo_offer(request, state, actions) -> dict | None:
    """The Undo the reviewer is offered for their last action on ``state``, or None."""
    last = actions[-1] if actions else None
    action = selectors.undo_offer(state, request.user, last) if last is not None else None
    if action is None:
        return None
    left = selectors.UNDO_SECONDS - (timezone.now() - action.created_at).total_seconds()
    verbs = {"accept": "accepted", "override": "overridden to", "spot_check": "spot check of"}
    return {
        "pk": state.pk,
        "version": state.version,
        "sku": state.product.sku,
        "what": f"{verbs[action.kind]} {codes.fmt(action.code)}",
        "seconds": max(1, int(left)),
    }


def _kept_lines(kept: dict | None) -> list[tuple[str, str]]:
    """What the reviewer typed into an action that lost a conflict, as (label, text) pairs."""
    if not kept:
        return []
    form = ACTION_FORMS[kept["_form"]]()
    lines = []
    for name, value in kept.items():
        if name.startswith("_") or not value or name not in form.fields:
            continue
        text = ", ".join(value) if isinstance(value, list) else str(value)
        lines.append((str(form.fields[name].label or name.replace("_", " ").capitalize()), text))
    return lines


@functools.cache
def _autocomplete_template() -> str:
    """The tariffs app's code autocomplete partial, when this build has it (else a plain input)."""
    try:
        get_template(AUTOCOMPLETE)
    except TemplateDoesNotExist:
        return ""
    return AUTOCOMPLETE


@tenant_view("read_tenant")
@require_GET
def panel(request, pk: int):
    """Show one decision's panel; a full page (queue beside it) without htmx."""
    state = access.review_state(request, pk)
    context = _panel_context(request, state)
    if not wants_partial(request):
        context.update(_queue_context(request))
    return render_page(request, "classification/review/queue.html", context, partial="panel")


def _act(request, pk: int, name: str, call):
    """Run one action: 200 with the fresh panel, 422 with the form's errors, 409 on a conflict."""
    state = access.review_state_to_act(request, pk)
    form = ACTION_FORMS[name](request.POST, request.FILES, prefix=name)
    if not form.is_valid():
        return _panel_response(request, state, bound=(name, form), status=422)
    try:
        message = call(state, form.cleaned_data)
    except services.StaleAction as stale:
        kept = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        kept["_form"] = name
        fresh = access.review_state(request, pk)
        return _panel_response(request, fresh, kept=kept, conflict=str(stale), status=409)
    except ValidationError as err:
        for field, errors in err.message_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
        return _panel_response(request, state, bound=(name, form), status=422)
    fresh = access.review_state(request, pk)
    if not wants_partial(request):
        messages.success(request, message)
        url = reverse("classification:review_panel", args=[request.tenant.slug, pk])
        query = _queue_query(request.GET)
        return redirect(f"{url}?{query}" if query else url)
    response = _panel_response(request, fresh, notice=message)
    response["HX-Trigger"] = json.dumps(
        {
            "reviewActed": {
                "decision": pk,
                "action": name,
                "status": fresh.status,
                "queue": fresh.queue,
                "moved": fresh.queue != state.queue,
            }
        }
    )
    return response


def _panel_response(request, state, *, status=200, notice="", **kwargs):
    context = _panel_context(request, state, **kwargs)
    context["notice"] = notice
    # After an action the Undo toast (outside the panel) is replaced: offered, or cleared.
    context["undo_changed"] = bool(notice) or (kwargs.get("bound") or ("",))[0] == "undo"
    if (kwargs.get("bound") or ("",))[0] == "undo":
        context["undo"] = None
    if not wants_partial(request):
        context.update(_queue_context(request))
        if kwargs.get("conflict"):
            messages.error(request, kwargs["conflict"])
    return render_page(
        request, "classification/review/queue.html", context, partial="panel", status=status
    )


def _code_label(action) -> str:
    return codes.fmt(action.code)


def _outcome_message(state, action) -> str:
    """What an accept or override did: finalized, confirmed a spot check, or signed off."""
    sku, code = state.product.sku, _code_label(action)
    if action.kind == ActionKind.SIGN_OFF:
        return f"{sku}: you signed off {code}; a second compliance lead must confirm it."
    if action.kind == ActionKind.SPOT_CHECK:
        return f"{sku}: spot check confirmed {code}."
    if (action.data or {}).get("supersedes"):
        old = codes.fmt(action.data["supersedes"]["code"])
        return f"{sku}: {code} is final and supersedes {old}."
    verb = "accepted" if action.kind == ActionKind.ACCEPT else "overridden to"
    return f"{sku}: {verb} {code} (final)."


@tenant_view("read_tenant")
@require_POST
def accept(request, pk: int):
    """Accept the suggested code as the final classification."""

    def call(state, data):
        action = services.review_accept(
            actor=request.user, state=state, version=data["version"], note=data["note"]
        )
        return _outcome_message(state, action)

    return _act(request, pk, "accept", call)


@tenant_view("read_tenant")
@require_POST
def override(request, pk: int):
    """Override the suggestion with a declarable code, a reason, a note and evidence."""

    def call(state, data):
        action = services.review_override(
            actor=request.user,
            state=state,
            version=data["version"],
            code=data["code"],
            reason_code=data["reason_code"],
            note=data["note"],
            ruling_reference=data["ruling_reference"],
            files=request.FILES.getlist("override-files"),
        )
        return _outcome_message(state, action)

    return _act(request, pk, "override", call)


@tenant_view("read_tenant")
@require_POST
def reopen(request, pk: int):
    """Take a final decision back into review, with a note saying why."""

    def call(state, data):
        action = services.review_reopen(
            actor=request.user, state=state, version=data["version"], note=data["note"]
        )
        return f"{state.product.sku}: reopened; {_code_label(action)} is no longer final."

    return _act(request, pk, "reopen", call)


UNDONE = {"accept": "accept", "override": "override", "spot_check": "spot-check confirmation"}


@tenant_view("read_tenant")
@require_POST
def undo(request, pk: int):
    """Take back the reviewer's accept, override or spot-check confirmation (a few seconds)."""

    def call(state, data):
        action = services.review_undo(actor=request.user, state=state, version=data["version"])
        undid = action.data["undid"]
        return (
            f"{state.product.sku}: your {UNDONE[undid['kind']]} of {codes.fmt(undid['code'])} "
            "is undone; nothing was announced."
        )

    return _act(request, pk, "undo", call)


@tenant_view("read_tenant")
@require_POST
def density_set(request):
    """Remember the reviewer's row density (comfortable or compact) in their session."""
    chosen = request.POST.get("density")
    if chosen in DENSITIES:
        request.session["review_density"] = chosen
    back = reverse("classification:index", args=[request.tenant.slug])
    query = _queue_query(request.POST)
    return redirect(f"{back}?{query}" if query else back)


@tenant_view("read_tenant")
@require_POST
def escalate(request, pk: int):
    """Escalate the item to a route's queue with a reason."""

    def call(state, data):
        action = services.review_escalate(
            actor=request.user,
            state=state,
            version=data["version"],
            route=data["route"],
            note=data["note"],
        )
        return f"{state.product.sku}: escalated to {action.get_route_display().lower()}."

    return _act(request, pk, "escalate", call)


@tenant_view("read_tenant")
@require_POST
def request_info(request, pk: int):
    """Ask an analyst for missing or doubtful facts."""

    def call(state, data):
        services.review_request_info(
            actor=request.user,
            state=state,
            version=data["version"],
            missing_facts=data["missing_facts"],
            message=data["message"],
        )
        return f"{state.product.sku}: information requested; it is classified again when updated."

    return _act(request, pk, "request_info", call)


@tenant_view("read_tenant")
@require_POST
def assign(request, pk: int):
    """Assign the item to the current user."""

    def call(state, data):
        services.review_assign(actor=request.user, state=state, version=data["version"])
        return f"{state.product.sku} is assigned to you."

    return _act(request, pk, "assign", call)


@tenant_view("read_tenant")
@require_POST
def release(request, pk: int):
    """Release the item's assignment."""

    def call(state, data):
        services.review_assign(
            actor=request.user, state=state, version=data["version"], release=True
        )
        return f"{state.product.sku} is released."

    return _act(request, pk, "release", call)


@tenant_view("resolve_escalations")
@require_POST
def grant(request, pk: int):
    """Grant one member the right to decide this escalated item (compliance leads)."""

    def call(state, data):
        services.review_grant_decider(
            actor=request.user, state=state, version=data["version"], username=data["username"]
        )
        return f"{data['username']} may now decide {state.product.sku}."

    return _act(request, pk, "grant", call)


@tenant_view("manage_rulepacks")
@require_POST
def promote(request, pk: int):
    """Add this final decision to a draft of the tenant's rule pack as a golden case."""

    def call(state, data):
        action = services.review_promote_golden(
            actor=request.user, state=state, version=data["version"]
        )
        version = action.data.get("rule_pack_version") or "draft"
        return f"{state.product.sku} is a golden case of rule pack {version}."

    return _act(request, pk, "promote", call)


def refusal_summary(refused, shown: int = 5) -> str:
    """One message for every item a bulk confirm left out, grouped by reason, naming a few
    SKUs of each group ("… and 35 more")."""
    groups: dict[str, list[str]] = {}
    for sku, why in refused:
        groups.setdefault(why, []).append(sku)
    parts = []
    for why, skus in groups.items():
        named = [s for s in skus if s]
        listed = ", ".join(named[:shown])
        if len(named) > shown:
            listed += f" and {len(named) - shown} more"
        count = f"{len(skus)} item{'s' if len(skus) != 1 else ''}"
        parts.append(f"{why[:1].upper()}{why[1:]} — {count}{': ' + listed if listed else ''}.")
    total = len(refused)
    return f"{total} item{'s were' if total != 1 else ' was'} not confirmed. " + " ".join(parts)


@tenant_view("review_decisions")
@require_POST
def bulk_accept(request):
    """Confirm the selected Confirm-queue items with one shared note; summarise the refusals
    in one message."""
    form = forms.BulkAcceptForm(request.POST)
    form.is_valid()
    back = reverse("classification:index", args=[request.tenant.slug])
    query = _queue_query(request.POST)
    back = f"{back}?{query}" if query else back
    try:
        result = services.review_bulk_accept(
            actor=request.user,
            tenant=request.tenant,
            items=form.items(),
            note=form.cleaned_data.get("note", ""),
        )
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
        return redirect(back)
    if result.accepted:
        n = len(result.accepted)
        messages.success(request, f"Confirmed {n} item{'s' if n != 1 else ''} as final.")
    if result.refused:
        messages.warning(request, refusal_summary(result.refused))
    return redirect(back)


@tenant_view("read_tenant")
@require_GET
def evidence_file(request, pk: int):
    """Download an evidence file attached to a review action of this tenant."""
    try:
        evidence = EvidenceFile.objects.get(tenant=request.tenant, pk=pk)
    except EvidenceFile.DoesNotExist:
        raise Http404("No such file.") from None
    return FileResponse(
        evidence.file.open("rb"),
        as_attachment=evidence.content_type == "application/pdf",
        filename=evidence.name,
        content_type=evidence.content_type,
    )
