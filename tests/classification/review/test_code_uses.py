"""Codes the tariffs' "no longer valid" check reads come from catalog and classification through
the ``tariff_code_uses`` extension point (tariffs imports neither)."""

from django.urls import reverse

from catalog import services as catalog_services
from classification.review import services
from tariffs import services as tariff_services
from tests.classification.review.conftest import MENS
from workbench.roles import Role


def test_declared_codes_and_final_codes_are_the_records_naming_codes(
    cast, make_decision, make_products
):
    [declared] = make_products(1, prefix="DC")
    catalog_services.product_update_facts(
        actor=cast.users[Role.ANALYST],
        product=declared,
        raw={**declared.current_version.facts, "declared_code": "6109.10.00.12"},
    )
    state = make_decision()
    undecided = make_decision()
    services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    uses = tariff_services.code_uses(cast.tenant, "US")
    by_kind = {(u.kind, u.label.split()[0]): u for u in uses}
    product_use = by_kind[("product", declared.sku)]
    assert product_use.code == "6109100012"
    assert product_use.url == reverse("catalog:product_detail", args=["acme", declared.pk])
    final_use = by_kind[("final decision", state.product.sku)]
    assert final_use.code == MENS
    assert final_use.url == reverse("classification:decision", args=["acme", state.decision_id])
    assert ("final decision", undecided.product.sku) not in by_kind
    assert tariff_services.code_uses(cast.other_tenant, "US") == []
    assert tariff_services.code_uses(cast.tenant, "EU") == []
