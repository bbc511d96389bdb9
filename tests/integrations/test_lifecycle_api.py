"""The API's view of the decision lifecycle: superseded codes named, reopened codes not final."""

from classification.models import ReviewState
from classification.review import services
from integrations import delivery
from tests.conftest import let_undo_windows_pass
from tests.integrations.conftest import make_decision
from workbench.roles import Role


def state_of(decision) -> ReviewState:
    return ReviewState.objects.select_related("decision", "product", "tenant").get(pk=decision.pk)


def test_the_feed_names_what_a_correction_supersedes_and_reopened_codes_are_not_final(
    cast, api_for
):
    broker = cast.users[Role.BROKER]
    decision = make_decision(cast.tenant, "SKU-1")
    services.review_accept(actor=broker, state=state_of(decision), version=1)
    state = state_of(decision)
    services.review_override(
        actor=broker,
        state=state,
        version=state.version,
        code="6109100040",
        reason_code="other",
        note="women's cut",
    )
    let_undo_windows_pass()
    delivery.dispatch_pending()
    client = api_for("read")
    items = client.get("/api/v1/final-classifications", {"limit": 10}).json()["items"]
    assert [(i["final_code"], i["supersedes"], i["finalized_by"]) for i in items] == [
        ("6109100012", None, broker.username),
        ("6109100040", {"decision": decision.pk, "code": "6109100012"}, broker.username),
    ]
    detail = client.get(f"/api/v1/decisions/{decision.pk}").json()
    assert detail["final"]["final_code"] == "6109100040"

    state = state_of(decision)
    services.review_reopen(actor=broker, state=state, version=state.version, note="recheck")
    assert client.get(f"/api/v1/decisions/{decision.pk}").json()["final"] is None
    unfinal = client.get("/api/v1/decisions", {"final": "false"}).json()["items"]
    assert [d["id"] for d in unfinal] == [decision.pk]


def test_the_feed_carries_the_ruling_an_override_cites(cast, api_for):
    decision = make_decision(cast.tenant, "SKU-1")
    services.review_override(
        actor=cast.users[Role.BROKER],
        state=state_of(decision),
        version=1,
        code="6109100040",
        reason_code="binding_ruling",
        note="CBP ruled on this T-shirt.",
        ruling_reference="n301511",
    )
    let_undo_windows_pass()
    delivery.dispatch_pending()
    [item] = api_for("read").get("/api/v1/final-classifications").json()["items"]
    assert item["ruling_reference"] == "NY N301511"
