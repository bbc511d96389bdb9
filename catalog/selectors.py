"""Catalog reads: lists with their filters, a product's history, recent imports."""

from django.db.models import F, Q, QuerySet
from django.urls import reverse

from audit import services as audit_services
from catalog.models import ClassificationStatus, ImportBatch, Product, ProductVersion
from workbench.extension_points import CodeUse

# A status filter beyond the statuses: final codes chosen for facts that changed since.
FINAL_FACTS_CHANGED = "final_facts_changed"


def product_list(
    *, tenant, q: str = "", destination: str = "", status: str = ""
) -> QuerySet[Product]:
    """Return the tenant's products matching a search over SKU, name and description."""
    products = Product.objects.filter(tenant=tenant)
    if q:
        products = products.filter(
            Q(sku__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q)
        )
    if destination:
        products = products.filter(destination=destination)
    if status == FINAL_FACTS_CHANGED:
        products = (
            products.filter(classification_status=ClassificationStatus.FINAL)
            .exclude(final_facts_sha256="")
            .exclude(final_facts_sha256=F("current_version__sha256"))
        )
    elif status:
        products = products.filter(classification_status=status)
    return products.annotate(current_sha256=F("current_version__sha256")).order_by("sku")


def product_count(*, tenant) -> int:
    """Return how many products the tenant has."""
    return Product.objects.filter(tenant=tenant).count()


def product_history(*, product: Product) -> list[dict]:
    """Return the product's versions, newest first, each with what changed from the one before."""
    versions = list(
        ProductVersion.objects.filter(product=product)
        .select_related("created_by", "import_batch__created_by")
        .defer("import_batch__refused_rows", "import_batch__headers")
        .order_by("n")
    )
    history, previous = [], {}
    for version in versions:
        changes = audit_services.changes(previous, version.facts) if previous else {}
        history.append({"version": version, "changes": changes})
        previous = version.facts
    return history[::-1]


def import_batch_updates(*, batch: ImportBatch) -> QuerySet[ProductVersion]:
    """Return the versions an import wrote over earlier ones (its updated products), by SKU."""
    return (
        ProductVersion.objects.filter(import_batch=batch, n__gt=1)
        .select_related("product")
        .only("product_id", "product__sku", "n", "facts")
        .order_by("product__sku")
    )


def versions_with_changes(versions) -> list[dict]:
    """Return ``{"version", "changes"}`` for each version: the facts changed from the version
    before it (one query for all of them)."""
    versions = list(versions)
    if not versions:
        return []
    before = Q()
    for version in versions:
        before |= Q(product_id=version.product_id, n=version.n - 1)
    previous = {
        (product_id, n): facts
        for product_id, n, facts in ProductVersion.objects.filter(before).values_list(
            "product_id", "n", "facts"
        )
    }
    return [
        {
            "version": v,
            "changes": audit_services.changes(previous.get((v.product_id, v.n - 1), {}), v.facts),
        }
        for v in versions
    ]


def recent_imports(*, tenant, limit: int = 10) -> QuerySet[ImportBatch]:
    """Return the tenant's latest import batches (without their refused-row payloads)."""
    return (
        ImportBatch.objects.filter(tenant=tenant)
        .select_related("created_by")
        .defer("refused_rows", "headers")
        .order_by("-created_at")[:limit]
    )


def declared_code_uses(*, tenant, jurisdiction: str) -> list[CodeUse]:
    """Return the codes the tenant's products of ``jurisdiction`` declare (their current facts'
    ``declared_code``), for the tariffs' check of codes no longer valid."""
    rows = (
        Product.objects.filter(
            tenant=tenant,
            destination=jurisdiction,
            current_version__facts__has_key="declared_code",
        )
        .order_by("sku")
        .values_list("pk", "sku", "name", "current_version__facts__declared_code")
    )
    return [
        CodeUse(
            "product",
            f"{sku} {name}",
            str(code),
            jurisdiction,
            reverse("catalog:product_detail", args=[tenant.slug, pk]),
        )
        for pk, sku, name, code in rows
        if code
    ]
