"""Who is told what about a review item (``notifications``), in the action's transaction.

Information requested goes to the analyst who wrote the product's current facts (edited or
imported them) while they still edit this tenant's catalog, else to every analyst of the
tenant: the person who knows the product first, and never nobody. Escalations go to the
tenant's compliance leads, who resolve them; a grant to the person granted; answers to the
broker who asked.
"""

from django.urls import reverse

from catalog import facts as catalog_facts
from catalog.models import ProductVersion
from classification.models import ActionKind, ReviewAction
from notifications import selectors as recipients
from notifications import services as notification_services
from notifications.models import Kind
from workbench.roles import Role

_EDITORS = (Role.ANALYST, Role.BROKER, Role.COMPLIANCE_LEAD)


def _facts(keys) -> str:
    return ", ".join(catalog_facts.LABELS.get(k, k).lower() for k in keys)


def _panel(state) -> str:
    return reverse("classification:review_panel", args=[state.tenant.slug, state.pk])


def _send(state, users, kind, text, link, actor) -> None:
    users = [u for u in users if u is not None and (actor is None or u.pk != actor.pk)]
    notification_services.notify(
        recipients=users, tenant=state.tenant, kind=kind, text=text, link=link
    )


def assigned(state, *, actor) -> None:
    """Tell the assignee, when someone else assigned the item to them."""
    who = actor.get_username() if actor else "The system"
    text = f"{who} assigned {state.product.sku} to you."
    _send(state, [state.assignee], Kind.ASSIGNED, text, _panel(state), actor)


def granted(state, *, actor, user) -> None:
    """Tell a member they may now decide an escalated item."""
    text = f"{actor.get_username()} asked you to decide the escalated item {state.product.sku}."
    _send(state, [user], Kind.ASSIGNED, text, _panel(state), actor)


def escalated(state, *, actor, note: str) -> None:
    """Tell the tenant's compliance leads an item waits in an escalation queue."""
    text = (
        f"{actor.get_username()} escalated {state.product.sku} to "
        f"{state.get_route_display().lower()}: {note}"
    )
    leads = recipients.members_with_roles(state.tenant, [Role.COMPLIANCE_LEAD])
    _send(state, leads, Kind.ESCALATED, text, _panel(state), actor)


def info_requested(state, *, actor, facts, message: str) -> None:
    """Tell the analyst who wrote the product's facts (else every analyst) what is asked."""
    version = (
        ProductVersion.objects.select_related("import_batch")
        .filter(pk=state.product.current_version_id)
        .first()
    )
    author = version.author if version is not None else None
    users = [recipients.member(state.tenant, getattr(author, "pk", None), _EDITORS)]
    if users[0] is None or (actor is not None and users[0].pk == actor.pk):
        users = recipients.members_with_roles(state.tenant, [Role.ANALYST])
    text = (
        f"{actor.get_username()} asks for facts of {state.product.sku} ({_facts(facts)}): {message}"
    )
    link = reverse("followup:question", args=[state.tenant.slug, state.pk])
    _send(state, users, Kind.INFO_REQUESTED, text, link, actor)


def info_received(state, *, actor, facts) -> None:
    """Tell the broker who asked that the facts arrived and the product is classified again."""
    asked = (
        ReviewAction.objects.filter(decision_id=state.pk, kind=ActionKind.REQUEST_INFO)
        .select_related("actor")
        .order_by("-version")
        .first()
    )
    if asked is None or asked.actor is None:
        return
    if actor is not None:
        who = actor.get_username()
    else:  # a supplier link writes the version without a user; its label names it
        version = ProductVersion.objects.filter(pk=state.product.current_version_id).first()
        who = (version.author_label if version else "") or "The system"
    text = (
        f"{who} answered your question on {state.product.sku} ({_facts(facts)}); "
        "it is being classified again."
    )
    link = reverse("catalog:product_detail", args=[state.tenant.slug, state.product_id])
    _send(state, [asked.actor], Kind.INFO_RECEIVED, text, link, None)
