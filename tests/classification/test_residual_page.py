"""The decision page shows a candidate proposed by the product's material (residual evidence)."""

import pytest
from django.urls import reverse

from classification import runner, services
from classification.models import Decision
from tariffs import reference as tariff_reference
from tariffs import tasks as tariff_tasks
from tests.rulepacks.conftest import REVISION, SCHEDULE, lead, load_schedule, make_pack  # noqa: F401
from workbench.roles import Role

PLASTICS = [
    (
        "3926",
        0,
        "Other articles of plastics and articles of other materials of headings 3901 to 3914:",
        "",
    ),
    ("3926.90", 1, "Other:", ""),
    ("3926.90.99", 2, "Other", "5.3%"),
    ("3926.90.99.90", 3, "Other", ""),
]


@pytest.fixture
def us_schedule(db):
    """The tiny test schedule with the plastics residual heading."""
    return load_schedule(rows=PLASTICS + SCHEDULE)


@pytest.fixture(autouse=True)
def _active_pack(make_pack):  # noqa: F811 (the imported fixture)
    tariff_reference.clear_cache()
    make_pack(stage="active")
    assert tariff_tasks.schedule_embed("US", REVISION) == "ready"
    yield
    tariff_reference.clear_cache()


def test_a_candidate_proposed_by_its_material_shows_as_such(cast, make_products):
    (product,) = make_products(
        1,
        prefix="BIN",
        Name="Laundry bin 40 l",
        Description="Laundry bin with a hinged lid",
        Materials="plastic",
        **{"Product type": "Laundry bin"},
    )
    services.request_create(actor=None, tenant=product.tenant, product_ids=[product.pk])
    runner.drain(owner="test")
    decision = Decision.objects.filter(product=product).latest("pk")
    (candidate,) = [c for c in decision.evidence["candidates"] if c["code"] == "3926909990"]
    (evidence,) = [s for s in candidate["sources"] if s["kind"] == "residual"]
    assert evidence["detail"]["material"] == "plastics"
    url = reverse("classification:decision", args=[cast.tenant.slug, decision.pk])
    body = cast.client(Role.BROKER).get(url).content.decode()
    assert 'data-evidence="residual"' in body
    assert "residual heading 3926 of plastics" in body
