"""The dashboard's daily tallies follow review actions, and agree with a count from scratch."""

from classification.models import ReviewState, ReviewTally
from classification.review import services, tallies
from tests.classification.review.conftest import MENS, WOMENS
from workbench.roles import Role


def fresh(state):
    return ReviewState.objects.select_related("decision", "product", "tenant").get(pk=state.pk)


def kept(tenant) -> dict:
    # Writers append delta rows; folded, each key has one row (and a key that cancelled, none).
    tallies.tally_compact(tenant.pk)
    return {
        (t.day, t.jurisdiction, t.figure, t.key, t.key2): (t.n, t.kept, t.right6)
        for t in ReviewTally.objects.filter(tenant=tenant).exclude(n=0)
    }


def test_tallies_follow_accept_override_reopen_and_supersede(cast, make_decision):
    broker = cast.users[Role.BROKER]
    first = make_decision(confidence=0.71)
    accepted = make_decision(confidence=0.93)
    services.review_accept(actor=broker, state=accepted, version=accepted.version)
    services.review_override(
        actor=broker,
        state=first,
        version=first.version,
        code=WOMENS,
        reason_code="other",
        note="women's",
    )
    first = fresh(first)
    services.review_reopen(actor=broker, state=first, version=first.version, note="new spec")
    first = fresh(first)
    services.review_accept(actor=broker, state=first, version=first.version)
    newer = make_decision(product=fresh(accepted).product, confidence=0.9)
    services.review_override(
        actor=broker,
        state=newer,
        version=newer.version,
        code=WOMENS,
        reason_code="other",
        note="supersedes the accepted one",
    )

    counted = kept(cast.tenant)
    day = fresh(first).decision_created_at.date()
    assert counted[(day, "US", "outcome", "needs_review", "")] == (3, 0, 0)
    # first (accepted after its reopen: kept), newer (moved); the superseded accept counts no more
    assert counted[(day, "US", "checked_outcome", "needs_review", "")] == (2, 1, 0)
    assert counted[(day, "US", "moved", WOMENS, MENS)] == (1, 0, 0)
    assert counted[(day, "US", "bin", "9", "")][:1] == (1,)
    tallies.tally_rebuild(cast.tenant.pk)
    assert kept(cast.tenant) == counted


def test_an_escalation_moves_the_open_item_and_counts_the_action_only(cast, make_decision):
    broker = cast.users[Role.BROKER]
    state = make_decision()
    before = kept(cast.tenant)
    services.review_escalate(
        actor=broker, state=state, version=state.version, route="legal", note="ask legal"
    )
    after = kept(cast.tenant)
    day = state.decision_created_at.date()
    today = fresh(state).updated_at.date()
    # The backlog: from Needs review to Escalated (legal); the broker's action per day.
    assert before.pop((day, "US", "open", "needs_review", "")) == (1, 0, 0)
    assert after.pop((day, "US", "open", "escalated_legal", "")) == (1, 0, 0)
    assert after.pop((today, "US", "actions", str(broker.pk), "")) == (1, 0, 0)
    assert after == before  # no period figure changes
