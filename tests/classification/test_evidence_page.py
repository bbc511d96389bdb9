"""The decision page shows the new evidence a worker records: meaning, everyday terms, a
broker's precedent by meaning, and how the candidates were searched and calibrated."""

import pytest
from django.urls import reverse

from classification import runner, services
from classification.models import Decision, OverrideReason, ReviewState
from classification.review import services as review_services
from tariffs import lexicon as tariff_lexicon
from tariffs import parsers
from tariffs import reference as tariff_reference
from tariffs import services as tariff_services
from tariffs import tasks as tariff_tasks

# A tiny US schedule and an active test pack, as the eval tests use them.
from tests.rulepacks.conftest import REVISION, lead, make_pack, us_schedule  # noqa: F401
from workbench.roles import Role

BATTERY = "8507600020"
LEXICON = (
    b"term,message,commodity_codes,subheadings,headings,chapters,too_generic\n"
    b"power bank,Portable batteries: heading 8507.,,,8507,,False\n"
)
POWER_BANK = {
    "Name": "Power bank 10000 mAh",
    "Description": "Portable power bank with lithium-ion cells and two USB ports",
    "Materials": "lithium-ion cells; aluminium",
    "Intended use": "Charging phones on the go",
    "Product type": "Power bank",
}


@pytest.fixture(autouse=True)
def _pack_and_lexicon(make_pack):  # noqa: F811 (the imported fixture)
    tariff_reference.clear_cache()
    tariff_lexicon.clear_cache()
    make_pack(stage="active")
    # What the task queued after a schedule load does (tests never commit, so it is run here).
    assert tariff_tasks.schedule_embed("US", REVISION) == "ready"
    tariff_services.lexicon_load(actor=None, source=parsers.Source("lexicon.csv", LEXICON))
    yield
    tariff_lexicon.clear_cache()
    tariff_reference.clear_cache()


def classify(products) -> list[Decision]:
    services.request_create(
        actor=None, tenant=products[0].tenant, product_ids=[p.pk for p in products]
    )
    runner.drain(owner="test")
    return [Decision.objects.filter(product=p).latest("pk") for p in products]


def page(cast, decision) -> str:
    url = reverse("classification:decision", args=[cast.tenant.slug, decision.pk])
    return cast.client(Role.BROKER).get(url).content.decode()


def test_a_decision_shows_meaning_everyday_terms_search_and_calibration(cast, make_products):
    (decision,) = classify(make_products(1, prefix="PB", **POWER_BANK))
    evidence = decision.evidence
    assert evidence["retrieval"]["semantic"] == "on"
    assert evidence["retrieval"]["lexicon"][0]["term"] == "power bank"
    best = evidence["candidates"][0]
    assert best["code"].startswith("8507")
    assert {"semantic", "lexicon"} <= {s["kind"] for s in best["sources"]}
    body = page(cast, decision)
    assert 'data-evidence="semantic"' in body and "nearest in meaning" in body
    assert 'data-evidence="lexicon"' in body and "“power bank”" in body
    assert "word search and meaning (all-MiniLM-L6-v2)" in body
    assert evidence["calibration"]["version"] in body


def test_a_brokers_decision_is_cited_for_a_product_similar_in_meaning(cast, make_products):
    (first,) = classify(make_products(1, prefix="OLD", **POWER_BANK))
    state = ReviewState.objects.get(decision=first)
    broker = cast.users[Role.BROKER]
    if first.selected_code == BATTERY:
        review_services.review_accept(actor=broker, state=state, version=state.version)
    else:
        review_services.review_override(
            actor=broker,
            state=state,
            version=state.version,
            code=BATTERY,
            reason_code=OverrideReason.OTHER,
            note="Portable power banks are lithium-ion accumulators of 8507.60.",
        )
    similar = {
        **POWER_BANK,
        "Name": "Slim power bank 5000 mAh",
        "Description": "Slim portable power bank with lithium-ion cells and a USB-C port",
    }
    (decision,) = classify(make_products(1, prefix="NEW", **similar))
    best = decision.evidence["candidates"][0]
    assert best["code"] == BATTERY
    (precedent,) = [s for s in best["sources"] if s["kind"] == "precedent"]
    assert precedent["detail"]["kind"] == "similar_meaning"
    matching = decision.evidence["retrieval"]["precedents"]
    assert matching["meaning"]  # the transformer's space, or the static one without it
    assert precedent["detail"]["similarity"] >= matching["min_similarity"]
    body = page(cast, decision)
    assert "data-precedent-matching" in body
    assert f"compared by meaning ({matching['meaning']}" in body
    assert f"precedent #{first.pk}" in body
    assert f"decided by {broker.username} on" in body
