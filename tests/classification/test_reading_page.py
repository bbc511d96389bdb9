"""The decision page shows a structured reading as evidence, and a similar product's precedent
that the reading contradicts as set aside."""

import pytest
from django.urls import reverse

from classification import runner, services
from classification.models import Decision, OverrideReason, ReviewState
from classification.review import services as review_services
from tariffs import reference as tariff_reference
from tariffs import tasks as tariff_tasks
from tests.rulepacks.conftest import REVISION, lead, make_pack, us_schedule  # noqa: F401
from workbench.roles import Role

COTTON, SYNTHETIC = "6110202079", "6110303059"  # the test schedule's sweaters
SWEATER = {
    "Name": "Women's pullover sweater",
    "Description": "Women's knitted pullover sweater of cotton",
    "Materials": "cotton",
    "Intended use": "Casual wear",
    "Product type": "Sweater",
}


@pytest.fixture(autouse=True)
def _active_pack(make_pack):  # noqa: F811 (the imported fixture)
    tariff_reference.clear_cache()
    make_pack(stage="active")
    assert tariff_tasks.schedule_embed("US", REVISION) == "ready"
    yield
    tariff_reference.clear_cache()


def classify(product) -> Decision:
    services.request_create(actor=None, tenant=product.tenant, product_ids=[product.pk])
    runner.drain(owner="test")
    return Decision.objects.filter(product=product).latest("pk")


def test_a_reading_shows_and_a_contradicting_precedent_is_set_aside(cast, make_products):
    (cotton,) = make_products(1, prefix="COT", **SWEATER)
    first = classify(cotton)
    state = ReviewState.objects.get(decision=first)
    broker = cast.users[Role.BROKER]
    review_services.review_override(
        actor=broker,
        state=state,
        version=state.version,
        code=COTTON,
        reason_code=OverrideReason.OTHER,
        note="Of cotton: 6110.20.",
    )
    polyester = {**SWEATER, "Description": "Women's knitted pullover sweater of polyester"}
    (product,) = make_products(1, prefix="PES", **{**polyester, "Materials": "polyester"})
    decision = classify(product)
    best = decision.evidence["candidates"][0]
    assert best["code"] == SYNTHETIC
    (reading,) = [s for s in best["sources"] if s["kind"] == "reading"]
    assert reading["detail"]["basis"] == "garment"
    assert reading["detail"]["material"] == "synthetic"
    (cited,) = [c for c in decision.evidence["candidates"] if c["code"] == COTTON]
    (precedent,) = [s for s in cited["sources"] if s["kind"] == "precedent"]
    assert precedent["weight"] == 0.0 and precedent["detail"]["set_aside_by"] == "garment"
    url = reverse("classification:decision", args=[cast.tenant.slug, decision.pk])
    body = cast.client(Role.BROKER).get(url).content.decode()
    assert 'data-evidence="reading"' in body and "garment reading" in body
    assert "pullover, synthetic (polyester) → heading 6110" in body
    assert "data-reading" in body and "(6110.30.30.59)" in body
    assert f"precedent #{first.pk}" in body
    assert "set aside: contradicts the garment reading" in body


def test_read_as_names_each_reading_once_with_its_lines():
    from django.template.loader import render_to_string

    label = "4,4'-diaminodiphenylsulfone: amine (29.21), organo-sulphur compound (29.30)"
    read_as = [
        {"code": "2930902900", "basis": "chemical", "reading": label},
        {"code": "2930306000", "basis": "chemical", "reading": label},
        {"code": "2921591700", "basis": "chemical", "reading": f"{label}; also heading 2921"},
    ]
    html = render_to_string(
        "classification/decision.html#read-as", {"ev": {"retrieval": {"reading": read_as}}}
    )
    text = " ".join(html.replace("&#x27;", "'").split())
    assert text.count("organo-sulphur compound (29.30) (") == 1
    assert f"chemical: {label} (2930.90.29.00, 2930.30.60.00); " in text
    assert text.endswith(f"chemical: {label}; also heading 2921 (2921.59.17.00)</dd>")
