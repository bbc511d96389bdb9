"""Two reviewers acting on one decision at the same moment: exactly one action is applied."""

import threading

import pytest
from django.db import connection

from classification.models import ReviewAction, ReviewState
from classification.review import services
from workbench.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_actions_apply_exactly_one_and_refuse_the_other(cast, make_decision):
    state = make_decision()
    barrier = threading.Barrier(2)
    outcomes = {}

    def act(name, call):
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[name] = "applied"
        except services.StaleAction as stale:
            outcomes[name] = str(stale)
        finally:
            connection.close()

    lead, broker = cast.users[Role.COMPLIANCE_LEAD], cast.users[Role.BROKER]
    threads = [
        threading.Thread(
            target=act,
            args=("accept", lambda: services.review_accept(actor=lead, state=state, version=1)),
        ),
        threading.Thread(
            target=act,
            args=(
                "escalate",
                lambda: services.review_escalate(
                    actor=broker, state=state, version=1, route="legal", note="Dual use?"
                ),
            ),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["accept", "escalate"]
    applied = [name for name, result in outcomes.items() if result == "applied"]
    assert len(applied) == 1, outcomes
    loser = "escalate" if applied == ["accept"] else "accept"
    assert "after you opened this decision" in outcomes[loser]
    assert ReviewAction.objects.filter(decision_id=state.pk).count() == 1
    assert ReviewState.objects.get(pk=state.pk).version == 2
