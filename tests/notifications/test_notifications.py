"""Notifications: who is told what, in the app and by email after commit, and preferences."""

from django.db import transaction
from django.urls import reverse

from audit.models import AuditEvent
from classification.review import services as review_services
from notifications import services
from notifications.models import Notification
from tests.factories import UserFactory
from workbench.roles import Role


def _email(user, address):
    user.email = address
    user.save()


def _ask(cast, state):
    review_services.review_request_info(
        actor=cast.users[Role.BROKER],
        state=state,
        version=state.version,
        missing_facts=["materials"],
        message="Cotton or acrylic?",
    )


def test_a_request_for_information_tells_the_analyst_who_imported_the_product(
    cast, make_decision, django_capture_on_commit_callbacks, mailoutbox
):
    _email(cast.users[Role.ANALYST], "analyst@acme.test")
    state = make_decision()
    with django_capture_on_commit_callbacks(execute=True):
        _ask(cast, state)
    note = Notification.objects.get(kind="info_requested")
    assert note.recipient == cast.users[Role.ANALYST]
    assert "Cotton or acrylic?" in note.text and note.link == f"/t/acme/questions/{state.pk}/"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["analyst@acme.test"]
    assert "http://127.0.0.1:8000/t/acme/questions/" in mailoutbox[0].body


def test_without_the_author_every_analyst_of_the_tenant_is_told(cast, make_decision):
    from workbench import services as workbench_services
    from workbench.models import Membership

    state = make_decision()
    importer = cast.users[Role.ANALYST]
    workbench_services.membership_remove(
        actor=None, membership=Membership.objects.get(tenant=cast.tenant, user=importer)
    )
    other = Membership.objects.get(tenant=cast.tenant, role=Role.BROKER).user
    second = UserFactory(username="acme-analyst-2")
    workbench_services.membership_set(
        actor=None, tenant=cast.tenant, user=second, role=Role.ANALYST
    )
    _ask(cast, state)
    told = set(
        Notification.objects.filter(kind="info_requested").values_list("recipient", flat=True)
    )
    assert told == {second.pk}
    assert other.pk not in told


def test_a_rolled_back_action_sends_nothing(cast, make_decision, mailoutbox):
    _email(cast.users[Role.ANALYST], "analyst@acme.test")
    state = make_decision()

    class Boom(Exception):
        pass

    try:
        with transaction.atomic():
            _ask(cast, state)
            raise Boom
    except Boom:
        pass
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_an_escalation_tells_the_compliance_leads(cast, make_decision):
    state = make_decision()
    review_services.review_escalate(
        actor=cast.users[Role.BROKER],
        state=state,
        version=state.version,
        route="legal",
        note="Dual use?",
    )
    note = Notification.objects.get(kind="escalated")
    assert note.recipient == cast.users[Role.COMPLIANCE_LEAD] and "Dual use?" in note.text


def test_a_grant_tells_the_person_granted(cast, make_decision):
    state = make_decision()
    review_services.review_escalate(
        actor=cast.users[Role.BROKER],
        state=state,
        version=state.version,
        route="legal",
        note="Dual use?",
    )
    state.refresh_from_db()
    review_services.review_grant_decider(
        actor=cast.users[Role.COMPLIANCE_LEAD],
        state=state,
        version=state.version,
        username="acme-broker",
    )
    note = Notification.objects.get(kind="assigned")
    assert note.recipient == cast.users[Role.BROKER]


def test_muted_kinds_are_not_emailed_but_still_listed(
    cast, make_decision, django_capture_on_commit_callbacks, mailoutbox
):
    analyst = cast.users[Role.ANALYST]
    _email(analyst, "analyst@acme.test")
    services.email_preferences_set(user=analyst, emailed_kinds=["info_received"])
    state = make_decision()
    with django_capture_on_commit_callbacks(execute=True):
        _ask(cast, state)
    assert mailoutbox == []
    assert Notification.objects.filter(recipient=analyst, kind="info_requested").exists()
    assert AuditEvent.objects.filter(verb="notifications.preferences.changed").exists()


def test_the_nav_shows_the_unread_count_and_opening_marks_read(cast, make_decision):
    state = make_decision()
    _ask(cast, state)
    client = cast.client(Role.ANALYST)
    page = client.get(reverse("notifications")).content.decode()
    assert 'title="unread notifications">1<' in page and "Cotton or acrylic?" in page
    note = Notification.objects.get(recipient=cast.users[Role.ANALYST])
    response = client.get(reverse("notification_open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == note.link
    note.refresh_from_db()
    assert note.read_at is not None
    assert (
        'title="unread notifications"' not in client.get(reverse("notifications")).content.decode()
    )


def test_another_persons_notification_is_404_and_stays_unread(cast, make_decision):
    state = make_decision()
    _ask(cast, state)
    note = Notification.objects.get(recipient=cast.users[Role.ANALYST])
    assert (
        cast.client(Role.BROKER).get(reverse("notification_open", args=[note.pk])).status_code
        == 404
    )
    cast.client(Role.BROKER).post(reverse("notifications_read"), {"id": note.pk})
    note.refresh_from_db()
    assert note.read_at is None


def test_preferences_are_saved_from_the_page(cast):
    client = cast.client(Role.BROKER)
    response = client.post(reverse("notifications"), {"emailed": ["digest"]})
    assert response.status_code == 302
    from notifications import selectors

    assert selectors.emailed_kinds(cast.users[Role.BROKER]) == {"digest"}


def test_the_notifications_page_requires_login(cast):
    response = cast.client("anonymous").get(reverse("notifications"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
