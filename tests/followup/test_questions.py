"""The analysts' Questions inbox: the broker's question beside a form for exactly those facts;
answering saves a new version, classifies the product again and tells the broker."""

from django.urls import reverse

from audit.models import AuditEvent
from classification.models import ClassificationRequest, ReviewState
from notifications.models import Notification
from tests.followup.conftest import QUESTION
from tests.matrix import check_access_matrix
from workbench.roles import ROLE_PERMISSIONS, Role

EDITORS = {role for role, perms in ROLE_PERMISSIONS.items() if "edit_catalog" in perms}


def test_inbox_matrix(cast):
    check_access_matrix(cast, reverse("followup:inbox", args=["acme"]), EDITORS)


def test_question_page_matrix(cast, asked):
    state = asked()
    check_access_matrix(cast, reverse("followup:question", args=["acme", state.pk]), EDITORS)


def test_the_inbox_lists_items_waiting_for_facts_with_the_brokers_question(cast, asked):
    state = asked()
    body = cast.client(Role.ANALYST).get(reverse("followup:inbox", args=["acme"])).content
    body = body.decode()
    assert state.product.sku in body and QUESTION in body
    assert "Materials" in body and "acme-broker" in body


def test_the_question_page_asks_exactly_the_facts_requested(cast, asked):
    state = asked(facts=("materials", "country_of_origin"))
    response = cast.client(Role.ANALYST).get(reverse("followup:question", args=["acme", state.pk]))
    form = response.context["answer_form"]
    assert sorted(form.fields) == ["country_of_origin", "materials"]
    assert QUESTION in response.content.decode()


def test_answering_saves_a_version_classifies_again_and_tells_the_broker(
    cast, asked, django_capture_on_commit_callbacks, mailoutbox
):
    state = asked()
    cast.users[Role.BROKER].email = "broker@acme.test"
    cast.users[Role.BROKER].save()
    url = reverse("followup:question", args=["acme", state.pk])
    before = ClassificationRequest.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client(Role.ANALYST).post(url, {"materials": "acrylic 80%; wool 20%"})
    assert response.status_code == 302
    state.product.refresh_from_db()
    assert state.product.current_version.facts["materials"] == ["acrylic 80%", "wool 20%"]
    assert state.product.current_version.created_by == cast.users[Role.ANALYST]
    assert ClassificationRequest.objects.count() == before + 1
    assert ReviewState.objects.get(pk=state.pk).status == "superseded"
    told = Notification.objects.get(recipient=cast.users[Role.BROKER], kind="info_received")
    assert state.product.sku in told.text and "acme-analyst" in told.text
    assert [m.to for m in mailoutbox] == [["broker@acme.test"]]
    assert AuditEvent.objects.filter(verb="catalog.product.updated").exists()


def test_an_unchanged_answer_is_refused_with_a_message(cast, asked):
    state = asked()
    current = state.product.current_version.facts["materials"]
    response = cast.client(Role.ANALYST).post(
        reverse("followup:question", args=["acme", state.pk]), {"materials": "; ".join(current)}
    )
    assert response.status_code == 422
    assert "change what was asked" in response.content.decode()


def test_a_bad_fact_is_refused_with_the_catalogs_message(cast, asked):
    state = asked(facts=("country_of_origin",))
    response = cast.client(Role.ANALYST).post(
        reverse("followup:question", args=["acme", state.pk]), {"country_of_origin": "Atlantis"}
    )
    assert response.status_code == 422
    assert "Country of origin" in response.content.decode()
    state.product.refresh_from_db()
    assert state.product.current_version.n == 1


def test_another_tenants_item_is_404(cast, asked):
    state = asked()
    response = cast.client("outsider").get(reverse("followup:question", args=["globex", state.pk]))
    assert response.status_code == 404
