"""The demo's dashboard history: weeks of decisions on HIST- products, written once."""

from django.db.models import F
from django.utils import timezone

from audit.models import AuditEvent
from catalog.models import Product
from classification.models import ReviewAction, ReviewState
from classification.review import services as review_services
from insights import demo_history, selectors
from tests.classification.test_calibration_fits import active_pack
from tests.insights.conftest import add_decisions
from workbench.roles import Role


def test_history_spreads_decisions_and_reviews_over_past_weeks(cast):
    broker, lead = cast.users[Role.BROKER], cast.users[Role.COMPLIANCE_LEAD]
    pack = active_pack(cast.tenant, lead)
    n = demo_history.history_create(
        tenant=cast.tenant, pack=pack, broker=broker, lead=lead, days=10, per_day=3
    )
    assert n == Product.objects.filter(tenant=cast.tenant, sku__startswith="HIST-").count() > 10
    states = ReviewState.objects.filter(tenant=cast.tenant)
    days = {s.decision_created_at.date() for s in states}
    assert len(days) >= 5  # spread over the period, not all today
    # Finished history: every item final, none in a live queue (nor a pending spot check).
    assert states.count() == n and not states.exclude(status="final").exists()
    assert set(states.values_list("queue", flat=True)) == {"final"}
    assert not states.filter(spot_check="pending").exists()
    assert not states.filter(decided_at__gt=timezone.now()).exists()
    assert not states.filter(decided_at__lt=F("decision_created_at")).exists()
    # Escalated by the broker, decided by the lead.
    escalated = ReviewAction.objects.filter(tenant=cast.tenant, kind="escalate")
    assert escalated.exists() and not escalated.exclude(actor=broker).exists()
    assert set(
        states.filter(decision_id__in=escalated.values("decision_id")).values_list(
            "decided_by", flat=True
        )
    ) == {lead.pk}
    backlog = selectors.backlog(cast.tenant, selectors.last_days(30))
    assert backlog["open"] == 0 and backlog["to_final"]["n"] == n

    period = selectors.last_days(30)
    mix = selectors.outcome_mix(cast.tenant, period)
    assert sum(d["total"] for d in mix) == n  # the daily tallies count the history
    assert selectors.precision(cast.tenant, period)["n"] > 0
    # Every final code is the right code for the goods the facts describe (no wrong precedent).
    right = {g[1]: g[5] for g in demo_history.GOODS}
    for s in states.filter(status="final").select_related("decision__product_version"):
        assert s.final_code == right[s.decision.product_version.facts["description"]]
    # Audited under the system actor, actions dated in the past.
    events = AuditEvent.objects.filter(tenant=cast.tenant, verb__startswith="classification.")
    assert events.exists() and not events.exclude(actor_label="demo data").exists()
    assert not events.filter(actor__isnull=False).exists()
    first = ReviewAction.objects.filter(tenant=cast.tenant).order_by("created_at").first()
    assert (states.latest("updated_at").updated_at - first.created_at).days >= 3


def test_history_is_written_once_and_never_where_a_person_worked(cast):
    broker = cast.users[Role.BROKER]
    pack = active_pack(cast.tenant, cast.users[Role.COMPLIANCE_LEAD])
    other = cast.other_tenant
    assert demo_history._untouched(other)
    demo_history.history_create(tenant=other, pack=pack, broker=broker, days=3, per_day=2)
    assert not demo_history._untouched(other)  # it has its history

    [decision] = add_decisions(cast.tenant, broker, [{"outcome": "needs_review"}])
    state = ReviewState.objects.select_related("decision", "product", "tenant").get(pk=decision.pk)
    assert demo_history._untouched(cast.tenant)
    review_services.review_escalate(
        actor=broker, state=state, version=state.version, route="legal", note="ask legal"
    )
    assert not demo_history._untouched(cast.tenant)  # a person acted there
