"""A broker's final decision becomes a precedent the engine cites for a similar product."""

from classification import engine
from classification import selectors as classification_selectors
from classification.review import services
from tariffs import reference
from tests.classification.review.conftest import WOMENS
from workbench.roles import Role


def test_an_override_is_cited_as_a_precedent_for_the_same_description(
    cast, make_decision, make_products, us_schedule
):
    broker = cast.users[Role.BROKER]
    decided = make_decision()
    services.review_override(
        actor=broker,
        state=decided,
        version=1,
        code=WOMENS,
        reason_code="supplier_evidence",
        note="Women's cut per supplier.",
    )
    similar = make_products(1, prefix="SIM")[0]
    index = classification_selectors.precedents_for(cast.tenant.pk, "US")
    result = engine.classify(
        similar.current_version.facts,
        pack=None,
        reference=reference.get_reference("US"),
        precedents=index,
        facts_sha256=similar.current_version.sha256,
        rank_without_pack=True,
    )
    cited = [
        (c.code, e)
        for c in result.candidates
        for e in c.sources
        if e.kind == "precedent" and e.ref == str(decided.pk)
    ]
    assert cited, result.candidates
    code, evidence = cited[0]
    assert code == WOMENS
    assert evidence.detail["broker"] == broker.username


def test_an_open_or_escalated_decision_is_not_a_precedent(cast, make_decision):
    state = make_decision()
    services.review_escalate(
        actor=cast.users[Role.BROKER], state=state, version=1, route="legal", note="?"
    )
    assert len(classification_selectors.precedents_for(cast.tenant.pk, "US")) == 0


def test_final_decisions_are_offered_as_backtest_cases_one_per_product(cast, make_decision):
    from django.apps import apps

    broker = cast.users[Role.BROKER]
    first = make_decision()
    services.review_accept(actor=broker, state=first, version=1)
    again = make_decision(first.product)  # the product is decided a second time
    services.review_accept(actor=broker, state=again, version=1)
    make_decision()  # open: not a case
    cases = apps.get_app_config("classification").decision_cases(cast.tenant, "US")
    assert [c.id for c in cases] == [f"decision-{again.pk}"]
    case = cases[0]
    assert case.source == "decision" and case.expect_code == again.decision.selected_code
    assert case.facts["sku"] == first.product.sku and broker.username in case.where


def test_rule_pack_backtests_receive_final_decisions_through_the_app_hook(cast, make_decision):
    from rulepacks import selectors as rulepack_selectors

    state = make_decision()
    services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    cases = rulepack_selectors.finalized_decision_cases(cast.tenant, "US")
    assert [c.id for c in cases] == [f"decision-{state.pk}"]
    assert rulepack_selectors.finalized_decision_cases(cast.tenant, "GB") == []


def test_the_index_is_read_again_only_when_final_decisions_change(cast, make_decision):
    """A worker asks for the precedents once a batch: the same index comes back until a final
    decision is added, reopened or changed, then a fresh one with the change."""
    broker = cast.users[Role.BROKER]
    first = make_decision()
    services.review_accept(actor=broker, state=first, version=1)
    # The index is also read again when its vectors change (the schedule's static vectors being
    # built on a thread become ready): settle them first, so only decisions change below.
    schedule = reference.get_reference("US")
    if schedule is not None:
        schedule.semantic(wait=True)
    index = classification_selectors.precedents_for(cast.tenant.pk, "US")
    assert len(index) == 1
    assert classification_selectors.precedents_for(cast.tenant.pk, "US") is index

    second = make_decision()
    services.review_override(
        actor=broker,
        state=second,
        version=1,
        code=WOMENS,
        reason_code="supplier_evidence",
        note="Women's cut per supplier.",
    )
    grown = classification_selectors.precedents_for(cast.tenant.pk, "US")
    assert grown is not index and len(grown) == 2

    first.refresh_from_db()
    services.review_reopen(actor=broker, state=first, version=first.version, note="Re-check.")
    shrunk = classification_selectors.precedents_for(cast.tenant.pk, "US")
    assert [p.decision_id for p in shrunk._all] == [second.pk]
    assert classification_selectors.precedents_for(cast.tenant.pk, "US") is shrunk

    first.refresh_from_db()
    services.review_override(
        actor=broker,
        state=first,
        version=first.version,
        code=WOMENS,
        reason_code="supplier_evidence",
        note="Women's cut after all.",
    )
    again = classification_selectors.precedents_for(cast.tenant.pk, "US")
    assert len(again) == len(grown) == 2  # as many as before, but one code changed
    assert again is not grown
    assert {p.decision_id: p.code for p in again._all}[first.pk] == WOMENS
