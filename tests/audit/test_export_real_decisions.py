"""Audit exports over decisions written by the real classification runner."""

from audit import renderers, selectors, services, snapshot
from catalog import services as catalog_services
from classification import runner
from classification import services as classification_services
from classification.models import Decision
from tests.classification.conftest import import_products


def _export(cast, scope=None):
    export = services.export_request(
        actor=cast.users["compliance_lead"],
        tenant=cast.tenant,
        scope=scope or {},
        background=False,
    )
    return services.export_build(export_id=export.pk)


def test_the_classification_section_freezes_real_decisions(cast):
    analyst = cast.users["analyst"]
    products = import_products(cast.tenant, analyst, [{"SKU": "W-1"}, {"SKU": "W-2"}])
    classification_services.request_create(
        actor=analyst, tenant=cast.tenant, product_ids=[p.pk for p in products]
    )
    runner.drain(owner="test")
    decisions = {
        d.product.sku: d for d in Decision.objects.select_related("product_version", "product")
    }
    assert set(decisions) == {"W-1", "W-2"}

    export = _export(cast, {"skus": ["W-1"]})
    assert export.status == "ready", export.failure_reason
    data = selectors.export_bytes(export)
    document = snapshot.parse(data)
    [record] = renderers.decisions(document)
    decision = decisions["W-1"]
    assert record["id"] == decision.pk and record["outcome"] == decision.outcome
    assert record["product"]["version"] == decision.product_version.n
    assert record["product"]["facts"] == decision.product_version.facts
    assert record["reasons"] and record["engine_version"] == decision.engine_version
    targets = {(e["target_type"], e["target_id"]) for e in document["audit_events"]}
    assert ("classification.decision", str(decision.pk)) in targets
    assert all(
        t[1] != str(decisions["W-2"].pk) or t[0] != "classification.decision" for t in targets
    )

    client = cast.client("auditor")
    url = f"/t/acme/audit/exports/{export.pk}/decisions/{decision.pk}/certificate/"
    certificate = client.get(url).content

    # The product's facts change afterwards: the export and its certificate do not.
    product = products[0]
    product.refresh_from_db()
    facts = dict(product.current_version.facts, name="A renamed sweater")
    catalog_services.product_update_facts(actor=analyst, product=product, raw=facts)
    assert selectors.export_bytes(export) == data
    assert client.get(url).content == certificate
    assert "A renamed sweater" not in certificate.decode()
