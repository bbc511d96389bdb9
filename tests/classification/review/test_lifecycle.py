"""The decision lifecycle (issue 17): every decision ends final or in a queue a person owns.

Confirm queue, auto-finalization on a pack's authority with spot checks, reopening and
superseding final codes (announced to ERP systems), and blocked goods released only by
compliance leads (two under ``four_eyes``).
"""

import functools

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent, OutboxEvent
from catalog.models import Product
from classification import runner
from classification import selectors as classification_selectors
from classification import services as classification_services
from classification.engine.calibration import UNCALIBRATED
from classification.models import ActionKind, ReviewAction, ReviewState
from classification.review import selectors, services
from integrations import delivery
from integrations.models import FeedEntry
from rulepacks import services as pack_services
from tests.classification.conftest import import_products
from tests.classification.review.conftest import MENS, WOMENS
from tests.conftest import let_undo_windows_pass
from tests.rulepacks.conftest import cases_toml, load_schedule, real_pack_source
from workbench.roles import Role

DENIED = {
    "code": "denied_goods",
    "message": "Denied goods: dog or cat fur (19 U.S.C. 1308)",
    "detail": {
        "entries": [
            {
                "id": "dog-cat-fur",
                "reason": "dog or cat fur (19 U.S.C. 1308)",
                "risk": "high",
                "action": "block",
                "matched": {"materials": ["dog fur"]},
            }
        ]
    },
}


def fresh(state) -> ReviewState:
    return ReviewState.objects.select_related("decision", "product", "tenant").get(pk=state.pk)


def finalized_events(decision_id: int) -> list[dict]:
    return [
        e.payload
        for e in OutboxEvent.objects.filter(type="decision.finalized").order_by("pk")
        if e.payload["decision_id"] == decision_id
    ]


# --- Confirm queue ---------------------------------------------------------------------------


def test_a_classified_decision_waits_in_the_confirm_queue_and_a_broker_confirms_it(
    cast, make_decision
):
    state = make_decision(outcome="classified", confidence=0.97, reasons=())
    assert (state.status, state.queue) == ("open", "confirm")
    page = selectors.queue_page(
        cast.tenant, cast.users[Role.BROKER], queue="confirm", filters={}, sort="risk"
    )
    assert [row.pk for row in page.rows] == [state.pk]

    services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    state = fresh(state)
    assert (state.status, state.queue, state.final_code) == ("final", "final", MENS)
    assert finalized_events(state.pk)[0]["finalized_by"] == cast.users[Role.BROKER].username


def test_bulk_confirm_takes_the_confirm_queue_but_not_its_high_risk_items(cast, make_decision):
    low = make_decision(outcome="classified", confidence=0.97, reasons=())
    high = make_decision(outcome="classified", confidence=0.97, reasons=(), risk="high")
    result = services.review_bulk_accept(
        actor=cast.users[Role.BROKER],
        tenant=cast.tenant,
        items=[(low.pk, 1), (high.pk, 1)],
        note="checked the batch",
    )
    assert [s.pk for s in result.accepted] == [low.pk]
    assert result.refused == [(high.product.sku, "it is high risk: confirm it on its own")]


def test_decisions_stranded_as_auto_by_earlier_versions_move_to_the_confirm_queue():
    from importlib import import_module

    migration = import_module("classification.migrations.0009_decision_lifecycle")
    assert "SET status = 'open', queue = 'confirm'" in migration.STRANDED
    assert "WHERE status = 'auto'" in migration.STRANDED


# --- Auto-finalization ----------------------------------------------------------------------


@pytest.fixture
def auto_pack(cast):
    """Activate a US pack (the tee rule) that finalizes what it classifies, on a tiny schedule."""

    def make(spot_check: float) -> object:
        load_schedule()
        lead = cast.users[Role.COMPLIANCE_LEAD]
        source = real_pack_source().replace(
            "tie_margin = 0.05\n",
            f"tie_margin = 0.05\n\n[routing]\nauto_finalize = true\nspot_check = {spot_check}\n",
        )
        pack = pack_services.rulepack_create(
            actor=lead, tenant=cast.tenant, jurisdiction="US", source=source
        )
        pack = pack_services.rulepack_cases_upload(
            actor=lead, pack=pack, filename="cases.toml", content=cases_toml(12)
        )
        pack = pack_services.rulepack_validate(actor=lead, pack=pack)
        pack = pack_services.rulepack_backtest(actor=lead, pack=pack)
        pack = pack_services.rulepack_activate(actor=lead, pack=pack)
        assert pack.status == "active"
        return pack

    return make


@pytest.fixture
def rules_trusted(monkeypatch):
    """Route with the rule's own confidence: the shipped calibration keeps a rule alone in review
    until a tenant fit trusts it, which is not what these lifecycle tests are about."""
    classify = runner.engine.classify

    def uncalibrated(*args, **kwargs):
        kwargs["calibration"] = UNCALIBRATED
        return classify(*args, **kwargs)

    monkeypatch.setattr(runner.engine, "classify", uncalibrated)


def classify_tees(cast, n: int) -> list[ReviewState]:
    analyst = cast.users[Role.ANALYST]
    rows = [
        {
            "SKU": f"TEE-{i:03d}",
            "Name": f"Men's cotton tee {i}",
            "Description": f"Men's knitted cotton t-shirt {i}, short sleeves",
            "Product type": "apparel",
            "Intended use": "casual wear",
            "Country of origin": "BD",
        }
        for i in range(n)
    ]
    products = import_products(cast.tenant, analyst, rows)
    classification_services.request_create(
        actor=analyst, tenant=cast.tenant, product_ids=[p.pk for p in products]
    )
    runner.drain(owner="test")
    return list(
        ReviewState.objects.select_related("decision", "product", "tenant")
        .filter(product__in=products)
        .order_by("product__sku")
    )


def test_auto_finalize_makes_classified_decisions_final_on_the_packs_authority(
    cast, auto_pack, rules_trusted
):
    pack = auto_pack(spot_check=0)
    states = classify_tees(cast, 3)
    assert [s.decision.outcome for s in states] == ["classified"] * 3
    for state in states:
        assert (state.status, state.queue, state.final_code) == ("final", "final", "6109100012")
        assert state.decided_by is None and state.spot_check == ""
        action = ReviewAction.objects.get(decision_id=state.pk)
        assert action.kind == ActionKind.SYSTEM_FINALIZE and action.actor is None
        authority = action.data["authority"]
        assert (authority["pack"], authority["version"], authority["sha256"]) == (
            pack.pk,
            pack.version,
            pack.sha256,
        )
        (payload,) = finalized_events(state.pk)
        assert payload["finalized_by"] == "system" and payload["authority"] == authority
        product = Product.objects.get(pk=state.product_id)
        assert (product.classification_status, product.final_code) == ("final", "6109100012")
    event = AuditEvent.objects.filter(verb="classification.review.finalized").first()
    assert event.actor is None and pack.version in event.actor_label
    # An unchecked automatic code teaches nothing: it is not a precedent.
    assert len(classification_selectors.precedents_for(cast.tenant.pk, "US")) == 0
    # And it reaches the ERP feed like a broker's decision.
    let_undo_windows_pass()
    delivery.dispatch_pending()
    assert FeedEntry.objects.filter(decision_id=states[0].pk, final_code="6109100012").exists()


def test_a_spot_check_share_of_auto_finalized_decisions_waits_for_a_broker(
    cast, auto_pack, rules_trusted
):
    auto_pack(spot_check=1.0)
    first, second = classify_tees(cast, 2)
    assert (first.status, first.queue, first.spot_check) == ("final", "spot_check", "pending")
    broker = cast.users[Role.BROKER]

    services.review_accept(actor=broker, state=first, version=first.version)
    first = fresh(first)
    assert (first.queue, first.spot_check, first.final_code) == ("final", "confirmed", "6109100012")
    services.review_override(
        actor=broker,
        state=second,
        version=second.version,
        code="6109100040",
        reason_code="other",
        note="women's cut",
    )
    second = fresh(second)
    assert (second.queue, second.spot_check, second.final_code) == (
        "final",
        "corrected",
        "6109100040",
    )
    assert finalized_events(second.pk)[-1]["supersedes"] == {
        "decision": second.pk,
        "code": "6109100012",
    }
    counted = selectors.spot_checks(cast.tenant)
    assert (counted.pending, counted.confirmed, counted.corrected) == (0, 1, 1)
    assert counted.precision == 0.5
    # A confirmed automatic code is a precedent now; the corrected one teaches the broker's code.
    codes = {p.code for p in classification_selectors.precedents_for(cast.tenant.pk, "US")._all}
    assert codes == {"6109100012", "6109100040"}


def test_the_spot_check_sample_is_fixed_by_decision_and_pack_and_near_its_share():
    drawn = [selectors.spot_check_sampled(i, "a" * 64, 0.05) for i in range(4000)]
    assert drawn == [selectors.spot_check_sampled(i, "a" * 64, 0.05) for i in range(4000)]
    assert 0.035 < sum(drawn) / len(drawn) < 0.065
    assert not any(selectors.spot_check_sampled(i, "b" * 64, 0) for i in range(200))
    assert all(selectors.spot_check_sampled(i, "b" * 64, 1) for i in range(200))


def test_pack_lifecycle_settings_are_checked_with_their_line():
    from rulepacks.format.parser import parse

    source = real_pack_source().replace(
        "tie_margin = 0.05\n",
        'tie_margin = 0.05\n\n[routing]\nauto_finalize = "yes"\nspot_check = 2\nfour_eyes = true\n',
    )
    result = parse(source)
    messages = [p.message for p in result.problems]
    assert any("auto_finalize must be true or false" in m for m in messages), messages
    assert any("spot_check 2 is not a share between 0 and 1" in m for m in messages), messages
    assert parse(real_pack_source()).pack.auto_finalize is False


# --- Reopen and supersede -------------------------------------------------------------------


def test_overriding_a_final_decision_supersedes_it_once_in_the_feed(cast, make_decision):
    broker = cast.users[Role.BROKER]
    state = make_decision()
    services.review_accept(actor=broker, state=state, version=1)
    state = fresh(state)
    services.review_override(
        actor=broker,
        state=state,
        version=state.version,
        code=WOMENS,
        reason_code="binding_ruling",
        note="ruling says women's",
        ruling_reference="NY N301511",
    )
    state = fresh(state)
    assert (state.status, state.final_code) == ("final", WOMENS)
    first, second = finalized_events(state.pk)
    assert first["final_code"] == MENS and "supersedes" not in first
    assert second["supersedes"] == {"decision": state.pk, "code": MENS}
    assert Product.objects.get(pk=state.product_id).final_code == WOMENS
    let_undo_windows_pass()
    delivery.dispatch_pending()
    feed = list(FeedEntry.objects.filter(decision_id=state.pk).order_by("pk"))
    assert [(e.final_code, e.data.get("supersedes")) for e in feed] == [
        (MENS, None),
        (WOMENS, {"decision": state.pk, "code": MENS}),
    ]
    with pytest.raises(ValidationError, match="already the final code"):
        services.review_override(
            actor=broker,
            state=state,
            version=state.version,
            code=WOMENS,
            reason_code="other",
            note="again",
        )


def test_reopen_takes_a_final_code_back_and_the_next_decision_names_it(cast, make_decision):
    broker = cast.users[Role.BROKER]
    state = make_decision()
    services.review_accept(actor=broker, state=state, version=1)
    state = fresh(state)
    with pytest.raises(ValidationError, match="Say why"):
        services.review_reopen(actor=broker, state=state, version=state.version, note=" ")
    services.review_reopen(
        actor=broker, state=state, version=state.version, note="supplier sent a new spec"
    )
    state = fresh(state)
    assert (state.status, state.queue, state.final_code) == ("open", "needs_review", "")
    product = Product.objects.get(pk=state.product_id)
    assert (product.classification_status, product.final_code) == ("needs_review", "")
    reopened = OutboxEvent.objects.get(type="decision.reopened")
    assert reopened.payload["reopened_code"] == MENS
    assert AuditEvent.objects.filter(verb="classification.review.reopened").count() == 1

    services.review_accept(actor=broker, state=state, version=state.version)
    assert finalized_events(state.pk)[-1].get("supersedes") is None  # the same code again
    state = fresh(state)
    services.review_reopen(actor=broker, state=state, version=state.version, note="wrong gender")
    state = fresh(state)
    services.review_override(
        actor=broker,
        state=state,
        version=state.version,
        code=WOMENS,
        reason_code="other",
        note="women's",
    )
    assert finalized_events(state.pk)[-1]["supersedes"] == {"decision": state.pk, "code": MENS}


def test_finalizing_a_newer_decision_supersedes_the_products_older_final_one(cast, make_decision):
    broker = cast.users[Role.BROKER]
    older = make_decision()
    services.review_accept(actor=broker, state=older, version=1)
    newer = make_decision(older.product, code=WOMENS)
    assert fresh(older).status == "final"  # still the product's final code meanwhile
    services.review_accept(actor=broker, state=newer, version=1)
    older = fresh(older)
    assert (older.status, older.queue) == ("superseded", "closed")
    superseded = ReviewAction.objects.get(decision_id=older.pk, kind=ActionKind.SUPERSEDED)
    assert superseded.data == {"by": newer.pk} and superseded.code == MENS
    assert finalized_events(newer.pk)[0]["supersedes"] == {"decision": older.pk, "code": MENS}
    assert AuditEvent.objects.filter(verb="classification.review.superseded").count() == 1


# --- Blocked goods ----------------------------------------------------------------------------


def blocked_parka(make_decision, **kw):
    return make_decision(
        outcome="blocked",
        code="",
        reasons=("denied_goods",),
        risk="high",
        reason_details=(DENIED,),
        **kw,
    )


def test_a_broker_cannot_release_denied_goods(cast, make_decision):
    state = blocked_parka(make_decision)
    with pytest.raises(ValidationError, match="Only a compliance lead may release them"):
        services.review_override(
            actor=cast.users[Role.BROKER],
            state=state,
            version=1,
            code=MENS,
            reason_code="other",
            note="the collar is faux fur according to the supplier",
        )
    assert fresh(state).status == "open"
    assert not OutboxEvent.objects.filter(type="decision.finalized").exists()


def test_a_compliance_lead_releases_denied_goods_only_with_a_justification(cast, make_decision):
    lead = cast.users[Role.COMPLIANCE_LEAD]
    state = blocked_parka(make_decision)
    with pytest.raises(ValidationError, match="written justification"):
        services.review_override(
            actor=lead, state=state, version=1, code=MENS, reason_code="other", note="ok"
        )
    services.review_override(
        actor=lead,
        state=state,
        version=1,
        code=MENS,
        reason_code="supplier_evidence",
        note="Lab report 2026-118 shows the collar is polyester, not fur.",
    )
    assert fresh(state).final_code == MENS


def test_four_eyes_needs_a_second_compliance_lead_for_the_same_code(cast, make_decision):
    from tests.factories import MembershipFactory, UserFactory

    load_schedule()
    lead = cast.users[Role.COMPLIANCE_LEAD]
    second = UserFactory(username="acme-lead-2")
    MembershipFactory(tenant=cast.tenant, user=second, role=Role.COMPLIANCE_LEAD)
    source = real_pack_source().replace(
        "tie_margin = 0.05\n", "tie_margin = 0.05\n\n[routing]\nfour_eyes = true\n"
    )
    pack = pack_services.rulepack_create(
        actor=lead, tenant=cast.tenant, jurisdiction="US", source=source
    )
    state = blocked_parka(make_decision, rule_pack=pack)
    parka = "6110303059"  # a line of the schedule loaded above
    why = "Lab report 2026-118 shows the collar is polyester, not fur."
    override = functools.partial(
        services.review_override, state=state, code=parka, reason_code="supplier_evidence"
    )
    action = override(actor=lead, version=1, note=why)
    assert action.kind == ActionKind.SIGN_OFF
    state = fresh(state)
    assert (state.status, state.final_code) == ("open", "")
    assert selectors.pending_sign_off(state).actor == lead
    with pytest.raises(ValidationError, match="second compliance lead must confirm"):
        override(actor=lead, version=state.version, note=why)
    action = override(actor=second, version=state.version, note="Checked the lab report too.")
    assert action.kind == ActionKind.OVERRIDE and action.data["signed_off_by"] == lead.username
    state = fresh(state)
    assert (state.status, state.final_code, state.decided_by) == ("final", parka, second)
    assert AuditEvent.objects.filter(verb="classification.review.signed_off").count() == 1


# --- Opening reviews: one mapping in Python, supersedes recorded, the database a guard ---------


def test_a_newer_decision_supersedes_the_open_one_with_an_audited_action(cast, make_decision):
    first = make_decision()
    second = make_decision(first.product)
    first = fresh(first)
    assert (first.status, first.queue, first.version) == ("superseded", "closed", 2)
    action = ReviewAction.objects.get(decision_id=first.pk)
    assert (action.kind, action.data, action.actor) == (
        ActionKind.SUPERSEDED,
        {"by": second.pk},
        None,
    )
    event = AuditEvent.objects.get(verb="classification.review.superseded")
    assert event.data == {"by_decision": second.pk, "product": first.product_id}
    assert event.actor is None and event.actor_label == "test"


def test_each_outcome_starts_in_the_queue_of_the_one_mapping(make_decision):
    from classification.review.states import REVIEW_START

    for outcome, (status, queue) in REVIEW_START.items():
        state = make_decision(outcome=outcome, reasons=() if outcome == "classified" else ("tie",))
        assert (state.status, state.queue) == (status, queue)


def test_a_decision_committed_without_its_review_state_is_refused(cast, make_decision):
    from django.db import IntegrityError, connection, transaction

    from classification.models import Decision

    state = make_decision()
    decision = state.decision
    with pytest.raises(IntegrityError, match="without its review state"), transaction.atomic():
        decision.pk = None
        decision.job = classification_services.request_create(
            actor=None, tenant=cast.tenant, product_ids=[state.product_id]
        ).jobs.get()
        decision.save()
        # The guard is deferred to the commit; make it fire inside this test's transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Decision.objects.filter(product_id=state.product_id).count() == 1


def test_blocked_goods_list_each_reason_once(make_decision):
    entry = DENIED["detail"]["entries"][0]
    twice = {**DENIED, "detail": {"entries": [entry, {**entry, "id": "cat-fur"}]}}
    state = make_decision(
        outcome="blocked", code="", reasons=("denied_goods",), risk="high", reason_details=(twice,)
    )
    assert [e["id"] for e in selectors.blocked_goods(state.decision)] == ["dog-cat-fur"]
