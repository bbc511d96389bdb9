"""Requests for information: the product page shows the flag; a fact update classifies again."""

from django.urls import reverse

from audit.models import AuditEvent
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


def test_an_analysts_fact_update_through_the_catalog_classifies_the_product_again(
    cast, make_decision, django_capture_on_commit_callbacks
):
    from catalog import services as catalog_services

    state = make_decision()
    _ask(cast, state)
    product = state.product
    product.refresh_from_db()
    facts = {**product.current_version.facts, "materials": ["acrylic"]}
    before = ClassificationRequest.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.product_update_facts(
            actor=cast.users[Role.ANALYST], product=product, raw=facts
        )
    request = ClassificationRequest.objects.order_by("-pk").first()
    assert ClassificationRequest.objects.count() == before + 1
    assert request.source == "info_update" and request.requested_by == cast.users[Role.ANALYST]
    assert ReviewState.objects.get(pk=state.pk).status == "superseded"


def _reimport(cast, product, **changes):
    from tests.classification.conftest import import_products

    return import_products(cast.tenant, cast.users[Role.ANALYST], [{"SKU": product.sku, **changes}])


def test_a_re_import_with_the_asked_for_fact_classifies_the_product_again(
    cast, make_decision, django_capture_on_commit_callbacks
):
    state = make_decision()
    _ask(cast, state)
    waiting = make_decision()  # asked too, but not in the file
    _ask(cast, waiting)
    before = ClassificationRequest.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        _reimport(cast, state.product, Materials="acrylic")
    assert ClassificationRequest.objects.count() == before + 1
    request = ClassificationRequest.objects.order_by("-pk").first()
    assert request.source == "info_update" and request.requested_by == cast.users[Role.ANALYST]
    assert list(request.jobs.values_list("product_id", flat=True)) == [state.product_id]
    assert ReviewState.objects.get(pk=state.pk).status == "superseded"
    assert ReviewState.objects.get(pk=waiting.pk).status == "info_requested"
    event = AuditEvent.objects.get(verb="classification.review.info_received")
    assert event.data["updated_facts"] == ["materials"]


def test_a_re_import_that_changes_other_facts_leaves_the_item_waiting(
    cast, make_decision, django_capture_on_commit_callbacks
):
    state = make_decision()
    _ask(cast, state)
    before = ClassificationRequest.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        _reimport(cast, state.product, **{"Intended use": "Outdoor wear"})
    assert ClassificationRequest.objects.count() == before
    assert ReviewState.objects.get(pk=state.pk).status == "info_requested"
