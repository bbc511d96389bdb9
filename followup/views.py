"""Follow-up pages: the analysts' Questions inbox, one question with its answer form and
supplier links, and the public page where a supplier answers through a link."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import audit
from catalog import facts as catalog_facts
from catalog import services as catalog_services
from classification.models import ReviewStatus
from followup import access, forms, selectors, services
from workbench.access import tenant_view


@tenant_view("edit_catalog")
@require_GET
def inbox(request):
    """List the items where a broker asked for facts, oldest question first."""
    items = list(selectors.questions(request.tenant))
    for item in items:
        item.asked_labels = [catalog_facts.LABELS.get(k, k) for k in item.missing_facts]
    return render(request, "followup/inbox.html", {"items": items})


def _question_context(request, state, answer_form=None, link_form=None, new_link=None):
    current = state.product.current_version.facts if state.product.current_version else {}
    waiting = state.status == ReviewStatus.INFO_REQUESTED
    return {
        "state": state,
        "waiting": waiting,
        "asked_labels": [catalog_facts.LABELS.get(k, k) for k in state.missing_facts],
        "answer_form": answer_form
        or forms.AskedFactsForm(
            asked=state.missing_facts, initial=forms.AskedFactsForm.initial_from(current)
        ),
        "link_form": link_form or forms.SupplierContactForm(),
        "links": selectors.links_for(state),
        "new_link": new_link,
    }


@tenant_view("edit_catalog")
@require_http_methods(["GET", "POST"])
def question(request, pk: int):
    """Show the broker's question beside a form for exactly the facts asked; POST answers it
    through the catalog's facts update, which classifies the product again."""
    state = access.question_for_request(request, pk)
    if request.method == "GET":
        return render(request, "followup/question.html", _question_context(request, state))
    product = state.product
    current = dict(product.current_version.facts) if product.current_version else {}
    form = forms.AskedFactsForm(request.POST, asked=state.missing_facts)
    if state.status != ReviewStatus.INFO_REQUESTED:
        form.add_error(None, "This question has been answered already.")
    elif form.is_valid():
        try:
            product, changed = catalog_services.product_update_facts(
                actor=request.user, product=product, raw={**current, **form.cleaned_data}
            )
        except ValidationError as err:
            for field, errors in err.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if changed:
                messages.success(
                    request,
                    f"Saved version {product.current_version.n} of {product.sku}; it is being "
                    "classified again and the broker is told.",
                )
                return redirect("followup:inbox", tenant_slug=request.tenant.slug)
            form.add_error(None, "These are the facts as they stand; change what was asked.")
    context = _question_context(request, state, answer_form=form)
    return render(request, "followup/question.html", context, status=422)


@tenant_view("edit_catalog")
@require_POST
def link_create(request, pk: int):
    """Create a supplier link for the item and show it once."""
    state = access.question_for_request(request, pk)
    form = forms.SupplierContactForm(request.POST)
    new_link = None
    if form.is_valid():
        try:
            link, signed = services.supplier_link_create(
                actor=request.user, state=state, **form.cleaned_data
            )
        except ValidationError as err:
            for field, errors in err.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            new_link = (link, request.build_absolute_uri(reverse("supplier_answer", args=[signed])))
            form = None
    context = _question_context(request, state, link_form=form, new_link=new_link)
    status = 422 if form is not None and form.errors else 200
    return render(request, "followup/question.html", context, status=status)


@tenant_view("edit_catalog")
@require_POST
def link_revoke(request, pk: int):
    """Revoke a supplier link of this tenant: it stops opening."""
    link = access.link_for_request(request, pk)
    try:
        services.supplier_link_revoke(actor=request.user, link=link)
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
    else:
        messages.success(request, f"{link.label} is revoked.")
    return redirect("followup:question", tenant_slug=request.tenant.slug, pk=link.state_id)


@tenant_view("read_tenant")
@require_GET
def supplier_file(request, pk: int):
    """Download a file a supplier sent to this tenant."""
    row = access.file_for_request(request, pk)
    return FileResponse(
        row.file.open("rb"),
        as_attachment=row.content_type == "application/pdf",
        filename=row.name,
        content_type=row.content_type,
    )


# The holder of a link learns why it cannot be used, never anything of another item.
_REFUSAL_STATUS = {"unknown": 404, "answered": 410, "revoked": 410, "expired": 410}


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


@never_cache
@require_http_methods(["GET", "POST"])
def supplier_answer(request, signed: str):
    """The public page of a supplier link: the broker's question and the facts asked, a spec
    sheet or photo; no login. Rate-limited per client address."""
    wait = services.rate_check(
        key=f"supplier:{_client_address(request)}", limit=settings.SUPPLIER_LINK_RATE_PER_MINUTE
    )
    if wait is not None:
        response = HttpResponse(
            f"Too many requests; try again in {wait} seconds.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(wait)
        return response
    token = services.supplier_link_token(signed)
    link = selectors.link_by_token_digest(services.supplier_link_digest(token)) if token else None
    refusal = services.supplier_link_refusal(link)
    if refusal is not None:
        context = {"refusal": refusal}
        status = _REFUSAL_STATUS.get(refusal.code, 410)
        return render(request, "followup/supplier_answer.html", context, status=status)
    form = forms.AskedFactsForm(
        request.POST or None,
        asked=link.missing_facts,
        initial=forms.AskedFactsForm.initial_from(link.product.current_version.facts),
    )
    if request.method == "POST" and form.is_valid():
        try:
            # The catalog's update, the re-classification it triggers and their audit events
            # all name the link, not a user.
            with audit.as_system(link.label):
                services.supplier_link_answer(
                    token=token, raw=form.cleaned_data, files=request.FILES.getlist("files")
                )
        except ValidationError as err:
            for field, errors in err.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return render(request, "followup/supplier_answer.html", {"done": link})
    context = {
        "link": link,
        "form": form,
        "asked_labels": [catalog_facts.LABELS.get(k, k) for k in link.missing_facts],
    }
    status = 422 if form.errors else 200
    return render(request, "followup/supplier_answer.html", context, status=status)
