"""Review actions through their services: effects, audit events, precedents, refusals."""

import functools

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from catalog.models import Product
from classification import selectors as classification_selectors
from classification.models import ActionKind, EvidenceFile, ReviewAction, ReviewState
from classification.review import selectors, services
from tests.classification.review.conftest import MENS, WOMENS
from workbench.roles import Role


def fresh(state) -> ReviewState:
    return ReviewState.objects.select_related("decision", "product", "tenant").get(pk=state.pk)


def test_a_new_decision_opens_a_review_state_in_its_outcomes_queue(make_decision):
    state = make_decision(outcome="blocked", code="", reasons=("no_candidate",), risk="high")
    assert (state.status, state.queue, state.version, state.risk_rank) == ("open", "blocked", 1, 3)
    assert state.origin == "VN" and state.jurisdiction == "US"


def test_a_newer_decision_supersedes_the_products_open_one(make_decision):
    first = make_decision()
    second = make_decision(first.product)
    assert fresh(first).status == "superseded" and fresh(first).queue == "closed"
    assert second.status == "open"


def test_accept_makes_the_suggestion_final_audits_and_becomes_a_precedent(cast, make_decision):
    broker = cast.users[Role.BROKER]
    state = make_decision()
    action = services.review_accept(actor=broker, state=state, version=1, note="fine")
    state = fresh(state)
    assert (state.status, state.queue, state.final_code, state.version) == (
        "final",
        "final",
        MENS,
        2,
    )
    assert state.decided_by == broker and state.decided_at is not None
    product = Product.objects.get(pk=state.product_id)
    assert (product.classification_status, product.final_code) == ("final", MENS)
    assert action.kind == ActionKind.ACCEPT and action.version == 2
    event = AuditEvent.objects.get(verb="classification.review.accepted")
    assert event.data["final_code"] == MENS and event.actor == broker
    index = classification_selectors.precedents_for(cast.tenant.pk, "US")
    found = index.lookup(state.product.sku, state.decision.product_version.sha256, "")
    assert found and found[0][0].code == MENS and found[0][0].broker == broker.username


def test_precedents_stay_within_the_tenant_and_the_jurisdiction(cast, make_decision):
    state = make_decision(tenant=cast.other_tenant)
    services.review_accept(actor=cast.outsider, state=state, version=1)
    assert len(classification_selectors.precedents_for(cast.tenant.pk, "US")) == 0
    assert len(classification_selectors.precedents_for(cast.other_tenant.pk, "EU")) == 0
    assert len(classification_selectors.precedents_for(cast.other_tenant.pk, "US")) == 1


def test_override_with_a_declarable_code_and_evidence_is_final(cast, make_decision, us_schedule):
    broker = cast.users[Role.BROKER]
    state = make_decision()
    pdf = SimpleUploadedFile("ruling.pdf", b"%PDF-1.7 ruling text", "application/pdf")
    action = services.review_override(
        actor=broker,
        state=state,
        version=1,
        code="6110.20.20.20",
        reason_code="supplier_evidence",
        note="Supplier's spec sheet: women's cut.",
        ruling_reference="ny n312345",
        files=[pdf],
    )
    state = fresh(state)
    assert state.final_code == WOMENS and action.ruling_reference == "NY N312345"
    assert Product.objects.get(pk=state.product_id).final_code == WOMENS
    stored = EvidenceFile.objects.get(action=action)
    assert stored.content_type == "application/pdf" and len(stored.sha256) == 64
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"classification.review.overridden", "classification.evidence.attached"} <= verbs


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"note": "  "}, "note", "Write a note"),
        ({"code": "6110.20.20"}, "code", "not a declarable line"),
        ({"code": "9999.99.99.99"}, "code", "is not in US 2026 Rev 4"),
        ({"reason_code": "hunch"}, "reason_code", "Unknown reason 'hunch'"),
        ({"ruling_reference": "call me"}, "ruling_reference", "not a ruling reference"),
    ],
)
def test_override_refusals_say_what_is_wrong_and_write_nothing(
    cast, make_decision, us_schedule, changes, field, message
):
    state = make_decision()
    events = AuditEvent.objects.count()
    arguments = {
        "code": WOMENS,
        "reason_code": "other",
        "note": "Because.",
        "ruling_reference": "",
        **changes,
    }
    with pytest.raises(ValidationError) as err:
        services.review_override(actor=cast.users[Role.BROKER], state=state, version=1, **arguments)
    assert message in " ".join(err.value.message_dict[field])
    assert fresh(state).version == 1 and not ReviewAction.objects.exists()
    assert AuditEvent.objects.count() == events


def test_evidence_that_is_not_a_pdf_or_image_is_refused(cast, make_decision, us_schedule):
    state = make_decision()
    fake = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    with pytest.raises(ValidationError) as err:
        services.review_override(
            actor=cast.users[Role.BROKER],
            state=state,
            version=1,
            code=WOMENS,
            reason_code="other",
            note="x",
            files=[fake],
        )
    assert "invoice.pdf is not a PDF or an image" in err.value.message_dict["files"][0]
    assert not EvidenceFile.objects.exists()


def test_escalation_moves_the_item_and_only_a_lead_resolves_it(cast, make_decision):
    broker, lead = cast.users[Role.BROKER], cast.users[Role.COMPLIANCE_LEAD]
    state = make_decision()
    services.review_escalate(actor=broker, state=state, version=1, route="legal", note="Dual use?")
    state = fresh(state)
    assert (state.status, state.queue, state.route) == ("escalated", "escalated_legal", "legal")
    assert AuditEvent.objects.filter(verb="classification.review.escalated").exists()
    with pytest.raises(ValidationError) as err:
        services.review_accept(actor=broker, state=state, version=2)
    assert "compliance lead" in str(err.value)
    services.review_accept(actor=lead, state=state, version=2)
    state = fresh(state)
    assert state.status == "final" and state.decided_by == lead
    event = AuditEvent.objects.get(verb="classification.review.accepted")
    assert event.data["resolved_escalation"] is True


def test_a_per_object_grant_lets_one_auditor_decide_one_escalated_item(cast, make_decision):
    lead, auditor = cast.users[Role.COMPLIANCE_LEAD], cast.users[Role.AUDITOR]
    granted, other = make_decision(), make_decision()
    for state in (granted, other):
        services.review_escalate(actor=lead, state=state, version=1, route="legal", note="ask")
    services.review_grant_decider(
        actor=lead, state=fresh(granted), version=2, username=auditor.username
    )
    assert selectors.may_decide(auditor, fresh(granted))
    assert not selectors.may_decide(auditor, fresh(other))
    services.review_accept(actor=auditor, state=fresh(granted), version=3)
    assert fresh(granted).decided_by == auditor


def test_a_grant_to_someone_outside_the_tenant_is_refused(cast, make_decision):
    lead = cast.users[Role.COMPLIANCE_LEAD]
    state = make_decision()
    services.review_escalate(actor=lead, state=state, version=1, route="legal", note="ask")
    with pytest.raises(ValidationError) as err:
        services.review_grant_decider(
            actor=lead, state=fresh(state), version=2, username=cast.outsider.username
        )
    assert "is not a member of Acme Imports" in err.value.message_dict["username"][0]


def test_request_info_flags_the_item_and_a_fact_update_classifies_again(cast, make_decision):
    from classification.models import ClassificationRequest

    broker, analyst = cast.users[Role.BROKER], cast.users[Role.ANALYST]
    state = make_decision()
    services.review_request_info(
        actor=broker,
        state=state,
        version=1,
        missing_facts=["materials"],
        message="Is it cotton or acrylic?",
    )
    state = fresh(state)
    assert (state.status, state.queue, state.missing_facts) == (
        "info_requested",
        "info_requested",
        ["materials"],
    )
    before = ClassificationRequest.objects.count()
    # An unrelated fact does not answer the request.
    services.review_info_received(
        actor=analyst,
        tenant_id=cast.tenant.pk,
        product_id=state.product_id,
        changed_facts=["notes"],
    )
    assert fresh(state).status == "info_requested"
    services.review_info_received(
        actor=analyst,
        tenant_id=cast.tenant.pk,
        product_id=state.product_id,
        changed_facts=["materials", "notes"],
    )
    assert fresh(state).status == "superseded"
    request = ClassificationRequest.objects.order_by("-pk").first()
    assert ClassificationRequest.objects.count() == before + 1
    assert request.source == "info_update"
    assert AuditEvent.objects.filter(verb="classification.review.info_received").exists()


def test_request_info_needs_a_known_fact_and_a_message(cast, make_decision):
    state = make_decision()
    with pytest.raises(ValidationError) as err:
        services.review_request_info(
            actor=cast.users[Role.BROKER], state=state, version=1, missing_facts=[], message=""
        )
    assert set(err.value.message_dict) == {"missing_facts", "message"}
    with pytest.raises(ValidationError) as err:
        services.review_request_info(
            actor=cast.users[Role.BROKER],
            state=state,
            version=1,
            missing_facts=["colour"],
            message="?",
        )
    assert "Unknown facts: colour" in err.value.message_dict["missing_facts"][0]


def test_assign_and_release(cast, make_decision):
    broker, other = cast.users[Role.BROKER], cast.users[Role.COMPLIANCE_LEAD]
    state = make_decision()
    services.review_assign(actor=broker, state=state, version=1)
    assert fresh(state).assignee == broker
    analyst_cannot = cast.users[Role.ANALYST]
    with pytest.raises(ValidationError):
        services.review_assign(actor=analyst_cannot, state=fresh(state), version=2, release=True)
    services.review_assign(actor=other, state=fresh(state), version=2, release=True)
    assert fresh(state).assignee is None
    assert list(ReviewAction.objects.values_list("kind", flat=True)) == ["assign", "release"]


def test_a_stale_version_is_refused_and_says_who_did_what(cast, make_decision):
    broker, lead = cast.users[Role.BROKER], cast.users[Role.COMPLIANCE_LEAD]
    state = make_decision()
    services.review_accept(actor=lead, state=state, version=1)
    with pytest.raises(services.StaleAction) as err:
        services.review_escalate(actor=broker, state=state, version=1, route="legal", note="x")
    assert f"{lead.username} accepted 6110.20.20.10 at" in str(err.value)
    assert ReviewAction.objects.count() == 1


def test_review_actions_are_append_only_in_the_database(cast, make_decision):
    state = make_decision()
    action = services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewAction.objects.filter(pk=action.pk).update(note="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewAction.objects.filter(pk=action.pk).delete()


def test_bulk_confirm_takes_confirm_items_and_refuses_the_rest_with_reasons(cast, make_decision):
    broker = cast.users[Role.BROKER]
    classified = functools.partial(make_decision, outcome="classified", reasons=())
    ok1, ok2 = classified(confidence=0.95), classified(confidence=0.9, risk="medium")
    risky = classified(risk="high")
    low = make_decision(risk="medium")  # needs review for low confidence, as routing makes it
    tie = make_decision(reasons=("tie",), risk="low")
    restricted = make_decision(reasons=("low_confidence", "restricted_goods"))
    stale = classified()
    services.review_assign(actor=broker, state=stale, version=1)
    items = [(s.pk, 1) for s in (ok1, ok2, risky, low, tie, restricted, stale)]
    result = services.review_bulk_accept(
        actor=broker, tenant=cast.tenant, items=items, note="Checked against catalog."
    )
    assert {s.pk for s in result.accepted} == {ok1.pk, ok2.pk}
    why = dict(result.refused)
    assert why[risky.product.sku] == "it is high risk: confirm it on its own"
    assert why[low.product.sku] == (
        "it needs review (confidence below the pack's minimum): decide it on its own"
    )
    assert "needs review (runner-up within the tie margin)" in why[tie.product.sku]
    assert "restricted goods" in why[restricted.product.sku]
    assert "assigned" in why[stale.product.sku]
    assert fresh(ok1).final_code == MENS and fresh(risky).status == "open"
    assert fresh(low).status == "open" and fresh(tie).status == "open"
    assert AuditEvent.objects.filter(verb="classification.review.accepted").count() == 2


def test_bulk_accept_needs_a_note_and_ignores_other_tenants_items(cast, make_decision):
    broker = cast.users[Role.BROKER]
    theirs = make_decision(tenant=cast.other_tenant)
    with pytest.raises(ValidationError):
        services.review_bulk_accept(
            actor=broker, tenant=cast.tenant, items=[(theirs.pk, 1)], note=""
        )
    result = services.review_bulk_accept(
        actor=broker, tenant=cast.tenant, items=[(theirs.pk, 1)], note="ok"
    )
    assert not result.accepted and fresh(theirs).status == "open"
    assert "not in this tenant" in result.refused[0][1]
