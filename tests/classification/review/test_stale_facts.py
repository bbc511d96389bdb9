"""A decision on facts that changed afterwards is advice about another product: it cannot become
final, and every page that shows it says so."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from catalog import services as catalog_services
from catalog.models import Product
from classification.models import ClassificationRequest, ReviewAction, ReviewState
from classification.review import services
from tests.classification.review.conftest import WOMENS
from workbench.roles import Role


def _change_materials(cast, state, materials=("acrylic",)):
    product = Product.objects.get(pk=state.product_id)
    facts = {**product.current_version.facts, "materials": "; ".join(materials)}
    catalog_services.product_update_facts(
        actor=cast.users[Role.ANALYST], product=product, raw=facts
    )


def _nothing_final(state, events_before):
    fresh = ReviewState.objects.get(pk=state.pk)
    assert fresh.status == "open" and fresh.version == 1 and not fresh.final_code
    assert not ReviewAction.objects.filter(decision_id=state.pk).exists()
    assert Product.objects.get(pk=state.product_id).classification_status != "final"
    assert AuditEvent.objects.count() == events_before


def test_accepting_a_decision_whose_facts_changed_is_refused_and_says_what_changed(
    cast, make_decision
):
    state = make_decision()
    _change_materials(cast, state)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as err:
        services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    message = " ".join(err.value.message_dict["__all__"])
    assert "it classified version 1, the catalog now holds version 2 (Materials)" in message
    assert "Classify the product again" in message
    _nothing_final(state, events)


def test_overriding_a_decision_whose_facts_changed_is_refused(cast, make_decision, us_schedule):
    state = make_decision()
    _change_materials(cast, state)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as err:
        services.review_override(
            actor=cast.users[Role.BROKER],
            state=state,
            version=1,
            code=WOMENS,
            reason_code="supplier_evidence",
            note="Spec sheet.",
        )
    assert "facts changed after this decision" in " ".join(err.value.message_dict["__all__"])
    _nothing_final(state, events)


def test_bulk_accept_leaves_out_items_whose_facts_changed(cast, make_decision):
    current = make_decision(outcome="classified", reasons=())
    changed = make_decision(outcome="classified", reasons=())
    _change_materials(cast, changed)
    result = services.review_bulk_accept(
        actor=cast.users[Role.BROKER],
        tenant=cast.tenant,
        items=[(current.pk, 1), (changed.pk, 1)],
        note="Checked.",
    )
    assert [s.pk for s in result.accepted] == [current.pk]
    why = dict(result.refused)[changed.product.sku]
    assert "the catalog now holds version 2 (Materials)" in why
    assert ReviewState.objects.get(pk=changed.pk).status == "open"


def test_facts_changed_back_to_the_classified_ones_make_the_decision_current_again(
    cast, make_decision
):
    state = make_decision()
    original = list(Product.objects.get(pk=state.product_id).current_version.facts["materials"])
    _change_materials(cast, state)
    _change_materials(cast, state, materials=original)  # version 3, the facts of version 1
    services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    assert ReviewState.objects.get(pk=state.pk).status == "final"


def test_the_decision_page_and_the_review_panel_warn_about_changed_facts(cast, make_decision):
    state = make_decision()
    client = cast.client(Role.BROKER)
    decision_url = reverse("classification:decision", args=["acme", state.pk])
    panel_url = reverse("classification:review_panel", args=["acme", state.pk])
    for url in (decision_url, panel_url):
        assert b"data-facts-changed" not in client.get(url).content
    _change_materials(cast, state)
    for url in (decision_url, panel_url):
        body = client.get(url).content.decode()
        assert "data-facts-changed" in body
        assert "the catalog now holds version 2 (Materials)" in body


def test_an_edit_queues_a_new_classification_for_an_item_awaiting_review(
    cast, make_decision, django_capture_on_commit_callbacks
):
    state, untouched = make_decision(), make_decision()
    before = ClassificationRequest.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        _change_materials(cast, state)
    assert ClassificationRequest.objects.count() == before + 1
    request = ClassificationRequest.objects.order_by("-pk").first()
    assert request.source == "facts_changed" and request.requested_by == cast.users[Role.ANALYST]
    assert list(request.jobs.values_list("product_id", flat=True)) == [state.product_id]
    assert ReviewState.objects.get(pk=untouched.pk).status == "open"
    event = AuditEvent.objects.filter(verb="classification.request.created").latest("seq")
    assert event.data.get("source") == "facts_changed"


def test_a_re_import_queues_new_classifications_only_for_changed_items_awaiting_review(
    cast, make_decision, django_capture_on_commit_callbacks
):
    from tests.classification.conftest import import_products

    changed, same, final = make_decision(), make_decision(), make_decision()
    services.review_accept(actor=cast.users[Role.BROKER], state=final, version=1)
    before = ClassificationRequest.objects.count()
    rows = [
        {"SKU": changed.product.sku, "Materials": "acrylic"},
        {"SKU": same.product.sku},
        {"SKU": final.product.sku, "Materials": "acrylic"},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        import_products(cast.tenant, cast.users[Role.ANALYST], rows)
    assert ClassificationRequest.objects.count() == before + 1
    request = ClassificationRequest.objects.order_by("-pk").first()
    assert request.source == "facts_changed"
    assert list(request.jobs.values_list("product_id", flat=True)) == [changed.product_id]
    # The final decision stays final; its page says the facts moved on.
    assert ReviewState.objects.get(pk=final.pk).status == "final"
    page = cast.client(Role.BROKER).get(reverse("classification:decision", args=["acme", final.pk]))
    assert b"data-facts-changed" in page.content


def test_a_broker_accepting_in_the_panel_sees_why_it_was_refused(cast, make_decision):
    state = make_decision()
    _change_materials(cast, state)
    response = cast.client(Role.BROKER).post(
        reverse("classification:review_accept", args=["acme", state.pk]),
        {"accept-version": 1, "accept-note": ""},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 422
    # Once in the panel's warning, once as the refused action's error.
    assert body.count("the catalog now holds version 2 (Materials)") == 2
    assert 'class="errorlist nonfield"' in body
    assert ReviewState.objects.get(pk=state.pk).status == "open"


def test_the_catalog_finds_final_codes_chosen_for_facts_that_changed_since(cast, make_decision):
    final, current = make_decision(), make_decision()
    for state in (final, current):
        services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    product = Product.objects.get(pk=final.product_id)
    assert product.final_facts_sha256 == final.decision.product_version.sha256
    client = cast.client(Role.COMPLIANCE_LEAD)
    listing = reverse("catalog:product_list", args=["acme"])
    assert b"data-final-facts-changed" not in client.get(listing).content
    _change_materials(cast, final)

    page = client.get(listing, {"status": "final_facts_changed"}).content.decode()
    assert final.product.sku in page and current.product.sku not in page
    assert page.count("data-final-facts-changed") == 1
    detail = reverse("catalog:product_detail", args=["acme", final.product_id])
    assert "data-final-facts-changed" in client.get(detail).content.decode()
    # Changed back to the facts the broker decided on: nothing to flag.
    original = final.decision.product_version.facts["materials"]
    _change_materials(cast, final, materials=original)
    page = client.get(listing, {"status": "final_facts_changed"}).content.decode()
    assert final.product.sku not in page
