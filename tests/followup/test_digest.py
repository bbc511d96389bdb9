"""The daily digest of overdue review items, and its schedule."""

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from classification.models import ReviewState
from classification.review import services as review_services
from followup import services, tasks
from notifications.models import Notification
from workbench.roles import Role


def _age(state, days):
    ReviewState.objects.filter(pk=state.pk).update(
        decision_created_at=timezone.now() - timedelta(days=days)
    )


@override_settings(REVIEW_OVERDUE_DAYS=3)
def test_overdue_items_go_to_their_assignee_and_unassigned_ones_to_every_reviewer(
    cast, make_decision
):
    old, held, fresh = make_decision(), make_decision(), make_decision()
    review_services.review_assign(actor=cast.users[Role.BROKER], state=held, version=held.version)
    for state in (old, held):
        _age(state, 5)
    _age(fresh, 1)
    assert services.digest_send(tenant_id=cast.tenant.pk) == 2
    broker = Notification.objects.get(recipient=cast.users[Role.BROKER], kind="digest")
    lead = Notification.objects.get(recipient=cast.users[Role.COMPLIANCE_LEAD], kind="digest")
    assert "2 review items are overdue" in broker.text
    assert held.product.sku in broker.text and fresh.product.sku not in broker.text
    assert "1 review items are overdue" in lead.text and held.product.sku not in lead.text


def test_nothing_overdue_sends_nothing(cast, make_decision):
    make_decision()
    assert services.digest_send(tenant_id=cast.tenant.pk) == 0
    assert not Notification.objects.exists()


def test_the_digest_is_scheduled_daily(db):
    from django_q.models import Schedule

    tasks.ensure_schedule()
    schedule = Schedule.objects.get(name=tasks.DIGEST_SCHEDULE)
    assert schedule.func == tasks.DIGEST_TASK and schedule.minutes == 24 * 60
