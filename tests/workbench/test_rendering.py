"""Every view that answers htmx with a fragment and other requests with the page says so:
``Vary: HX-Request`` on both answers, so that a cache never serves one for the other."""

import uuid

import pytest
from django.urls import reverse

from audit import services as audit_services
from catalog.models import ImportBatch, ImportStatus
from classification.models import ClassificationRequest, RequestSource
from workbench.roles import Role

HTMX = {"HX-Request": "true"}


def _batch(cast):
    return ImportBatch.objects.create(
        tenant=cast.tenant,
        created_by=cast.users[Role.ANALYST],
        filename="c.xlsx",
        file_sha256="0" * 64,
        size_bytes=100,
        status=ImportStatus.DONE,
    )


def _request(cast):
    return ClassificationRequest.objects.create(
        tenant=cast.tenant, group=uuid.uuid4(), source=RequestSource.UI, product_count=0
    )


def _export(cast):
    return audit_services.export_request(actor=None, tenant=cast.tenant, scope={}, background=False)


# (name, role, method, builds the URL's argument or None, query or form data)
VIEWS = [
    ("audit:log", Role.AUDITOR, "get", None, {}),
    ("audit:chain", Role.AUDITOR, "get", None, {}),
    ("audit:export_detail", Role.AUDITOR, "get", lambda c: _export(c).pk, {"poll": "1"}),
    ("catalog:batch_detail", Role.ANALYST, "get", lambda c: _batch(c).pk, {}),
    ("classification:index", Role.BROKER, "get", None, {}),
    ("classification:request", Role.BROKER, "get", lambda c: _request(c).pk, {}),
    ("classification:group", Role.BROKER, "get", lambda c: _request(c).group, {}),
    ("insights:index", Role.COMPLIANCE_LEAD, "get", None, {}),
    ("rulepacks:check", Role.COMPLIANCE_LEAD, "post", None, {"source": ""}),
    ("tariffs:search", Role.ANALYST, "get", None, {"q": "8507"}),
    ("tariffs:duty", Role.ANALYST, "get", None, {}),
]


@pytest.mark.parametrize(
    ("name", "role", "method", "arg", "data"), VIEWS, ids=[v[0] for v in VIEWS]
)
def test_an_htmx_aware_view_varies_on_hx_request(cast, name, role, method, arg, data):
    args = [cast.tenant.slug] if arg is None else [cast.tenant.slug, arg(cast)]
    url = reverse(name, args=args)
    client = cast.client(role)
    page = getattr(client, method)(url, data)
    fragment = getattr(client, method)(url, data, headers=HTMX)
    assert page.status_code == 200, page.status_code
    assert fragment.status_code in (200, 286), fragment.status_code
    assert b"<html" in page.content and b"<html" not in fragment.content
    for response in (page, fragment):
        assert "HX-Request" in response["Vary"], (name, response.get("Vary"))


def test_the_review_queue_also_varies_on_the_htmx_target(cast):
    response = cast.client(Role.BROKER).get(
        reverse("classification:index", args=[cast.tenant.slug]),
        headers={**HTMX, "HX-Target": "review-queue"},
    )
    assert b"<html" not in response.content
    assert {"HX-Request", "HX-Target"} <= {v.strip() for v in response["Vary"].split(",")}
