import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from catalog import services
from catalog.models import Product, ProductVersion
from workbench.roles import Role


def _raw(sku="API-1", **over):
    raw = {
        "sku": sku,
        "name": "Cotton T-shirt",
        "description": "Men's knitted cotton T-shirt, short sleeves",
        "country_of_origin": "bd",
        "materials": "cotton; elastane",
        "intended_use": "Casual wear",
        "product_type": "T-shirt",
        "destination": "US",
        "customs_value": "4.80",
        "currency": "USD",
    }
    raw.update(over)
    return raw


def test_upsert_creates_a_product_with_its_first_version_and_an_audit_event(cast):
    analyst = cast.users[Role.ANALYST]
    product, status = services.product_upsert(actor=analyst, tenant=cast.tenant, raw=_raw())
    assert status == "created"
    assert product.current_version.n == 1
    assert product.current_version.facts["country_of_origin"] == "BD"
    assert product.current_version.facts["materials"] == ["cotton", "elastane"]
    assert product.name == "Cotton T-shirt" and product.destination == "US"
    event = AuditEvent.objects.get(verb="catalog.product.created", target_id=str(product.pk))
    assert event.actor == analyst and event.data["facts"]["sku"] == "API-1"


def test_upsert_with_changed_facts_writes_a_new_version_and_same_facts_write_nothing(cast):
    analyst = cast.users[Role.ANALYST]
    services.product_upsert(actor=analyst, tenant=cast.tenant, raw=_raw())
    product, status = services.product_upsert(
        actor=analyst, tenant=cast.tenant, raw=_raw(name="Cotton tee")
    )
    assert status == "updated" and product.current_version.n == 2 and product.name == "Cotton tee"
    _, status = services.product_upsert(
        actor=analyst, tenant=cast.tenant, raw=_raw(name="Cotton tee")
    )
    assert status == "unchanged"
    assert ProductVersion.objects.filter(product=product).count() == 2


def test_upsert_refuses_bad_facts_with_the_import_messages_and_writes_nothing(cast):
    with pytest.raises(ValidationError) as info:
        services.product_upsert(
            actor=None, tenant=cast.tenant, raw=_raw(country_of_origin="Chna", materials="")
        )
    errors = info.value.message_dict
    assert "is not an ISO 3166 country code" in errors["country_of_origin"][0]
    assert errors["materials"] == ["at least one material is required"]
    assert not Product.objects.filter(tenant=cast.tenant).exists()
    assert not AuditEvent.objects.filter(verb="catalog.product.created").exists()


def test_the_same_sku_in_two_tenants_is_two_products(cast):
    services.product_upsert(actor=None, tenant=cast.tenant, raw=_raw())
    _, status = services.product_upsert(actor=None, tenant=cast.other_tenant, raw=_raw())
    assert status == "created"
    assert Product.objects.filter(sku="API-1").count() == 2
