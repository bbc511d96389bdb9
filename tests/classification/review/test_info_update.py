"""Requests for information: the product page shows the flag; a fact update classifies again."""

from django.urls import reverse

from classification.models import ClassificationRequest, ReviewState
from classification.review import services
from workbench import hooks
from workbench.roles import Role


def _ask(cast, state, facts=("materials",)):
    services.review_request_info(
        actor=cast.users[Role.BROKER],
        state=state,
        version=state.version,
        missing_facts=list(facts),
        message="Is it cotton or acrylic?",
    )


def test_the_product_page_shows_which_facts_a_broker_asked_for(cast, make_decision):
    state = make_decision()
    _ask(cast, state)
    page = cast.client(Role.ANALYST).get(
        reverse("catalog:product_detail", args=["acme", state.product_id])
    )
    body = page.content.decode()
    assert "Information requested" in body and "materials" in body
    assert "Is it cotton or acrylic?" in body


def test_the_product_changed_hook_classifies_the_product_again_after_commit(
    cast, make_decision, django_capture_on_commit_callbacks
):
    state = make_decision()
    _ask(cast, state)
    before = ClassificationRequest.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        hooks.product_changed(
            actor=cast.users[Role.ANALYST],
            product_id=state.product_id,
            tenant_id=cast.tenant.pk,
            changed_facts=["materials"],
        )
    assert ClassificationRequest.objects.count() == before + 1
    assert ClassificationRequest.objects.order_by("-pk").first().source == "info_update"
    assert ReviewState.objects.get(pk=state.pk).status == "superseded"


def test_another_tenants_hook_call_does_not_touch_this_tenants_item(
    cast, make_decision, django_capture_on_commit_callbacks
):
    state = make_decision()
    _ask(cast, state)
    with django_capture_on_commit_callbacks(execute=True):
        hooks.product_changed(
            actor=None,
            product_id=state.product_id,
            tenant_id=cast.other_tenant.pk,
            changed_facts=["materials"],
        )
    assert ReviewState.objects.get(pk=state.pk).status == "info_requested"
