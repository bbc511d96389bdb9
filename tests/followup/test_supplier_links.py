"""Supplier links: a signed, expiring, single-use page that asks a supplier only the facts a
broker asked for; the answer is a new product version attributed to the link."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from classification.models import ReviewState
from followup import services
from followup.models import SupplierFile, SupplierLink
from tests.followup.conftest import QUESTION
from tests.matrix import check_access_matrix
from workbench.roles import ROLE_PERMISSIONS, Role

EDITORS = {role for role, perms in ROLE_PERMISSIONS.items() if "edit_catalog" in perms}
PDF = b"%PDF-1.4\n% spec sheet\n"


def _link(cast, state, email=""):
    return services.supplier_link_create(
        actor=cast.users[Role.BROKER], state=state, contact_name="Jane Roe", contact_email=email
    )


def _public(signed):
    return reverse("supplier_answer", args=[signed])


def test_creating_a_link_matrix(cast, asked):
    state = asked()
    url = reverse("followup:link_create", args=["acme", state.pk])
    check_access_matrix(
        cast, url, EDITORS, method="post", data={"contact_name": "Jane Roe"}, ok=(200,)
    )


def test_revoking_matrix(cast, asked):
    state = asked()
    link, _ = _link(cast, state)
    url = reverse("followup:link_revoke", args=["acme", link.pk])
    check_access_matrix(cast, url, EDITORS, method="post", ok=(302,))


def test_an_analyst_creates_a_link_shown_once_and_emailed_to_the_contact(
    cast, asked, django_capture_on_commit_callbacks, mailoutbox
):
    state = asked()
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client(Role.ANALYST).post(
            reverse("followup:link_create", args=["acme", state.pk]),
            {"contact_name": "Jane Roe", "contact_email": "jane@supplier.test"},
        )
    body = response.content.decode()
    assert response.status_code == 200 and "it will not be shown again" in body
    shown = re.search(r'<code id="supplier-link">([^<]+)</code>', body).group(1)
    [mail] = mailoutbox
    assert mail.to == ["jane@supplier.test"] and QUESTION in mail.body
    assert shown.split("/supplier/")[1] in mail.body
    link = SupplierLink.objects.get()
    assert shown.split("/supplier/")[1].split(":")[0] not in str(
        SupplierLink.objects.filter(pk=link.pk).values().get()
    )
    assert AuditEvent.objects.filter(verb="followup.supplier_link.created").exists()


def test_the_public_page_needs_no_login_and_asks_only_the_missing_facts(cast, asked):
    state = asked(facts=("materials", "country_of_origin"))
    _, signed = _link(cast, state)
    response = Client().get(_public(signed))
    assert response.status_code == 200
    assert sorted(response.context["form"].fields) == ["country_of_origin", "materials"]
    body = response.content.decode()
    assert QUESTION in body and state.product.sku in body
    assert "Intended use" not in body and "acme-" not in body


def test_the_answer_becomes_a_version_attributed_to_the_link_with_its_file(
    cast, asked, django_capture_on_commit_callbacks
):
    state = asked()
    link, signed = _link(cast, state, email="jane@supplier.test")
    spec = SimpleUploadedFile("spec.pdf", PDF, content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(_public(signed), {"materials": "acrylic", "files": [spec]})
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    state.product.refresh_from_db()
    version = state.product.current_version
    assert version.facts["materials"] == ["acrylic"] and version.created_by is None
    assert version.author_label == f"supplier link #{link.pk}, Jane Roe <jane@supplier.test>"
    assert version.author == version.author_label
    stored = SupplierFile.objects.get(link=link)
    assert stored.content_type == "application/pdf" and len(stored.sha256) == 64
    event = AuditEvent.objects.get(verb="followup.supplier_link.answered")
    assert event.actor_id is None and event.actor_label == version.author_label
    updated = AuditEvent.objects.filter(verb="catalog.product.updated").latest("seq")
    assert updated.actor_label == version.author_label
    assert ReviewState.objects.get(pk=state.pk).status == "superseded"  # classified again
    again = Client().get(_public(signed))
    assert again.status_code == 410 and "used already" in again.content.decode()
    page = cast.client(Role.ANALYST).get(
        reverse("catalog:product_detail", args=["acme", state.product_id])
    )
    assert f"supplier link #{link.pk}, Jane Roe" in page.content.decode()


def test_a_file_that_is_not_a_pdf_or_image_is_refused_and_nothing_is_written(cast, asked):
    state = asked()
    _, signed = _link(cast, state)
    bad = SimpleUploadedFile("spec.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = Client().post(_public(signed), {"materials": "acrylic", "files": [bad]})
    assert response.status_code == 422
    assert "not a PDF or an image" in response.content.decode()
    state.product.refresh_from_db()
    assert state.product.current_version.n == 1
    assert SupplierLink.objects.get().answered_at is None


@pytest.mark.parametrize(
    ("spoil", "status", "message"),
    [
        ("revoke", 410, "withdrawn"),
        ("expire", 410, "expired"),
        ("tamper", 404, "not valid"),
    ],
)
def test_a_revoked_expired_or_tampered_link_does_not_open(cast, asked, spoil, status, message):
    state = asked()
    link, signed = _link(cast, state)
    if spoil == "revoke":
        services.supplier_link_revoke(actor=cast.users[Role.ANALYST], link=link)
    elif spoil == "expire":
        SupplierLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    else:
        signed = signed[:-3] + ("aaa" if not signed.endswith("aaa") else "bbb")
    response = Client().get(_public(signed))
    assert response.status_code == status and message in response.content.decode()


def test_a_link_older_than_its_lifetime_fails_the_signature_check(cast, asked):
    state = asked()
    _, signed = _link(cast, state)
    with override_settings(SUPPLIER_LINK_MAX_AGE_DAYS=1):
        later = timezone.now() + timedelta(days=2)
        import time

        real = time.time
        try:
            time.time = lambda: later.timestamp()
            assert services.supplier_link_token(signed) is None
        finally:
            time.time = real


def test_the_page_is_rate_limited_per_address(cast, asked):
    state = asked()
    _, signed = _link(cast, state)
    client = Client()
    with override_settings(SUPPLIER_LINK_RATE_PER_MINUTE=3):
        codes = [client.get(_public(signed)).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429


def test_the_link_reaches_only_its_own_tenants_item(cast, asked):
    mine = asked()
    theirs = asked(tenant=cast.other_tenant)
    _, signed = _link(cast, mine)
    client = Client()
    # The page shows its own item, and no other tenant's product whatever the visitor posts.
    body = client.get(_public(signed)).content.decode()
    assert theirs.product.sku not in body and "Globex" not in body
    client.post(_public(signed), {"materials": "acrylic", "product": theirs.product_id})
    theirs.product.refresh_from_db()
    assert theirs.product.current_version.n == 1
    # A member of the other tenant cannot list, revoke or download this tenant's links.
    link = SupplierLink.objects.get(state=mine)
    outsider = cast.client("outsider")
    assert (
        outsider.post(reverse("followup:link_revoke", args=["globex", link.pk])).status_code == 404
    )
    assert outsider.get(reverse("followup:question", args=["globex", mine.pk])).status_code == 404


def test_another_tenants_member_cannot_create_a_link_on_this_tenants_item(cast, asked):
    state = asked()
    url = reverse("followup:link_create", args=["globex", state.pk])
    assert cast.client("outsider").post(url, {"contact_name": "Eve"}).status_code == 404
    assert not SupplierLink.objects.exists()


def test_a_link_needs_an_item_waiting_for_information(cast, make_decision):
    from django.core.exceptions import ValidationError

    state = make_decision()
    with pytest.raises(ValidationError, match="not waiting for information"):
        _link(cast, state)
