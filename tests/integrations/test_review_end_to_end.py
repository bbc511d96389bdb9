"""With the review workbench: brokers' accepts reach the feed and the webhook receiver."""

from classification.models import ReviewState
from classification.review import services as review_services
from integrations import delivery, tasks
from tests.conftest import let_undo_windows_pass
from tests.integrations.conftest import make_decision
from workbench.roles import Role


def _accept(cast, decision):
    state = ReviewState.objects.get(pk=decision.pk)
    review_services.review_accept(
        actor=cast.users[Role.BROKER], state=state, version=state.version, note=""
    )


def test_brokers_accepting_while_the_erp_pages_show_each_decision_exactly_once(cast, api_for):
    client = api_for("read")
    decisions = [make_decision(cast.tenant, f"SKU-{i}") for i in range(7)]
    seen, cursor = [], None
    for chunk in (decisions[:3], decisions[3:4], [], decisions[4:]):
        for decision in chunk:
            _accept(cast, decision)
        let_undo_windows_pass()
        delivery.dispatch_pending()
        has_more = True
        while has_more:
            params = {"limit": 2, **({"after": cursor} if cursor else {})}
            body = client.get("/api/v1/final-classifications", params).json()
            seen += body["items"]
            cursor, has_more = body["next_cursor"], body["has_more"]
    assert [i["decision_id"] for i in seen] == [d.pk for d in decisions]
    assert {i["finalized_by"] for i in seen} == {"acme-broker"}
    assert {i["final_code"] for i in seen} == {"6109100012"}
    detail = client.get(f"/api/v1/decisions/{decisions[0].pk}").json()
    assert detail["final"]["final_code"] == "6109100012"
    product = client.get(f"/api/v1/products/{decisions[0].product_id}").json()
    assert product["classification_status"] == "final"
    assert product["final_code"] == "6109100012"


def test_an_accept_arrives_at_the_receiver_signed_after_commit(
    cast, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint_for()
    decision = make_decision(cast.tenant, "SKU-1")
    with django_capture_on_commit_callbacks(execute=True):
        _accept(cast, decision)
    # The commit woke the worker (inline in tests), but the finalization is held for the
    # broker's undo window: nothing has left yet.
    assert receiver.accepted == []
    # The next run after the window (the every-minute schedule) sends it, signed.
    let_undo_windows_pass()
    tasks.run()
    assert receiver.bad_signatures == 0
    assert len(receiver.accepted) == 1
    data = receiver.accepted[0]["data"]
    assert receiver.accepted[0]["type"] == "decision.finalized"
    assert data["decision_id"] == decision.pk and data["final_code"] == "6109100012"
    assert data["decided_by"] == "acme-broker"
