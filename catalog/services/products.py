"""Catalog product writes: fact edits, API upserts, and the classification status other apps set.

Every write but the classification status (whose caller records its decision) is audited in the
same transaction, serialised with imports by the tenant's catalog lock (``loader``).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from audit import services as audit_services
from catalog import facts as F
from catalog import loader
from catalog.models import ClassificationStatus, Product, ProductVersion
from workbench import hooks


@transaction.atomic
def product_update_facts(
    *, actor, product: Product, raw: dict, actor_label: str = ""
) -> tuple[Product, bool]:
    """Validate new facts for ``product`` and write a new version if they changed.

    The SKU cannot change (it is the product's identity). Returns ``(product, changed)``;
    identical facts write nothing. Raises ``ValidationError({fact: message})`` for bad facts.
    Audited as ``catalog.product.updated`` with the changed facts. ``actor_label`` names who
    wrote the version when no user did (a supplier link); it is kept on the version.
    """
    facts, errors = F.validate_row({**raw, "sku": product.sku})
    if errors:
        raise ValidationError({e.field: ValidationError(e.message, code="invalid") for e in errors})
    loader.lock_tenant_catalog(product.tenant_id)
    product = (
        Product.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .get(pk=product.pk)
    )
    current = product.current_version
    sha = F.facts_sha256(facts)
    if current is not None and current.sha256 == sha:
        return product, False
    version = ProductVersion(
        product=product,
        n=(current.n if current else 0) + 1,
        facts=facts,
        sha256=sha,
        created_by=actor,
        author_label=actor_label[:300],
    )
    version.full_clean()
    version.save()
    product.current_version = version
    _denormalise(product, facts)
    product.full_clean()
    product.save()
    audit.record(
        actor=actor,
        actor_label=actor_label or None,
        verb="catalog.product.updated",
        target=product,
        data={
            "sku": product.sku,
            "version": version.n,
            "changes": audit_services.changes(current.facts if current else {}, facts),
        },
    )
    hooks.product_changed(
        actor=actor,
        product_id=product.pk,
        tenant_id=product.tenant_id,
        changed_facts=audit_services.changes(current.facts if current else {}, facts),
        subject=f"product {product.sku}",
    )
    return product, True


@transaction.atomic
def product_upsert(*, actor, tenant, raw: dict) -> tuple[Product, str]:
    """Create or update one product of ``tenant`` from raw facts, with the import's validation.

    Returns ``(product, "created" | "updated" | "unchanged")``; identical facts write nothing.
    Raises ``ValidationError({fact: message})`` with ``validate_row``'s messages, writing
    nothing. Serialised with imports and edits by the tenant's catalog lock. Audited as
    ``catalog.product.created`` (with the facts) or ``catalog.product.updated`` (the changes).
    """
    facts, errors = F.validate_row(raw)
    if errors:
        raise ValidationError({e.field: ValidationError(e.message, code="invalid") for e in errors})
    loader.lock_tenant_catalog(tenant.pk)
    product = Product.objects.filter(tenant=tenant, sku=facts["sku"]).first()
    if product is not None:
        product, changed = product_update_facts(actor=actor, product=product, raw=raw)
        return product, "updated" if changed else "unchanged"
    product = Product(tenant=tenant, sku=facts["sku"])
    _denormalise(product, facts)
    product.full_clean(exclude=["current_version"])
    product.save()
    version = ProductVersion(
        product=product, n=1, facts=facts, sha256=F.facts_sha256(facts), created_by=actor
    )
    version.full_clean()
    version.save()
    product.current_version = version
    product.save(update_fields=["current_version", "updated_at"])
    audit.record(
        actor=actor,
        verb="catalog.product.created",
        target=product,
        data={"sku": product.sku, "version": 1, "facts": facts},
    )
    return product, "created"


def _denormalise(product: Product, facts: dict) -> None:
    product.name = facts["name"]
    product.description = facts["description"]
    product.destination = facts["destination"]
    product.country_of_origin = facts["country_of_origin"]


@transaction.atomic
def product_set_classification(
    *, product: Product, status: str, final_code: str = "", final_facts_sha256: str = ""
) -> Product:
    """Set a product's classification status and final code (the classification app's call),
    with the SHA-256 of the facts the final decision classified.

    Writes no audit event: the caller records its own decision. Raises ``ValidationError`` for
    an unknown status or a code that is not digits.
    """
    if status not in ClassificationStatus.values:
        raise ValidationError({"classification_status": f"Unknown status {status!r}."})
    if final_code and not final_code.isdigit():
        raise ValidationError({"final_code": "A tariff code is stored as digits only."})
    product.classification_status = status
    product.final_code = final_code
    product.final_facts_sha256 = final_facts_sha256 if final_code else ""
    product.save(
        update_fields=["classification_status", "final_code", "final_facts_sha256", "updated_at"]
    )
    return product


def products_set_classification(*, product_ids, status: str) -> int:
    """Set the classification status of many products at once (the classification app's call).

    Runs in the caller's transaction and writes no audit event: the caller records its own
    (one per decision or request). Returns the number of products updated. Raises
    ``ValidationError`` for an unknown status.
    """
    if status not in ClassificationStatus.values:
        raise ValidationError({"classification_status": f"Unknown status {status!r}."})
    return Product.objects.filter(pk__in=list(product_ids)).update(
        classification_status=status, updated_at=timezone.now()
    )
