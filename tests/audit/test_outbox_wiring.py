"""The services that announce changes write their outbox events with the change, or not at all."""

import io

import pytest

from audit.models import OutboxEvent
from catalog import services as catalog_services
from classification import runner
from classification import services as classification_services
from tests.classification.conftest import import_products
from workbench.roles import Role


def _events(type_):
    return list(OutboxEvent.objects.filter(type=type_).order_by("id"))


def test_a_completed_import_is_announced_with_its_counts(cast):
    csv = (
        b"SKU,Name,Description,Country of origin,Materials,Intended use,Product type,Destination\n"
        b"A-1,Tee,Men's knitted cotton T-shirt,BD,cotton,Casual wear,T-shirt,US\n"
        b"A-2,Tee,Men's knitted cotton T-shirt,Chna,cotton,Casual wear,T-shirt,US\n"
    )
    batch = catalog_services.import_batch_start(
        actor=cast.users[Role.ANALYST],
        tenant=cast.tenant,
        fileobj=io.BytesIO(csv),
        filename="c.csv",
        background=False,
    )
    (event,) = _events("catalog.import_completed")
    assert event.tenant == cast.tenant
    assert (event.payload["import_id"], event.payload["created"], event.payload["refused"]) == (
        batch.pk,
        1,
        1,
    )
    assert event.payload["link"] == f"/t/acme/catalog/import/{batch.pk}/"


def test_each_decision_is_announced_in_the_batch_that_writes_it(cast):
    products = import_products(
        cast.tenant, cast.users[Role.ANALYST], [{"SKU": "D-1"}, {"SKU": "D-2"}]
    )
    classification_services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[p.pk for p in products]
    )
    runner.drain(owner="test")
    events = _events("decision.created")
    assert sorted(e.payload["sku"] for e in events) == ["D-1", "D-2"]
    assert all(e.payload["link"].startswith("/t/acme/classification/decisions/") for e in events)


def test_a_decision_batch_that_rolls_back_announces_nothing(cast, monkeypatch):
    products = import_products(cast.tenant, cast.users[Role.ANALYST], [{"SKU": "R-1"}])
    classification_services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[products[0].pk]
    )

    def fail(*args, **kwargs):
        raise RuntimeError("database went away mid-commit")

    monkeypatch.setattr(runner.catalog_services, "products_set_classification", fail)
    with pytest.raises(RuntimeError):
        runner.drain(owner="test")
    assert _events("decision.created") == []
