"""Demo: a season of earlier broker decisions, then the demo catalog queued for classification.

The earlier season (``demo_data/acme_history.csv``, seven products) is imported, classified and
finalized through the real services, so the catalog's decisions can cite precedents, by meaning
among them; the worker started by `make run` then drains the catalog.

Those final codes are history the demo tells: each review record names the demo broker as the
decider, with a note saying it is demo history, because precedents are only final codes a person
stands behind. Their audit events, like everything ``seed_demo`` writes, name the system actor
"demo data": nobody acted in this workbench.
"""

import csv
import time
from pathlib import Path

from django.contrib.auth import get_user_model

from catalog import services as catalog_services
from catalog.models import ProductVersion
from classification import runner, services
from classification.models import ClassificationRequest, OverrideReason, ReviewState
from classification.review import services as review_services
from rulepacks import demo as rulepacks_demo
from rulepacks import selectors as rulepack_selectors
from tariffs import reference as tariff_reference
from tariffs import tasks as tariff_tasks
from workbench.access import user_has_tenant_perm

HISTORY_FILE = Path(__file__).parent / "demo_data" / "acme_history.csv"
HISTORY_NOTE = "Decided in the 2025 season (demo history)."


def classify_demo_catalog(tenants, out) -> None:
    """Decide the earlier season and queue the catalog, once, for a tenant that has never
    classified anything and whose active US pack is the demo's own (never a user's pack)."""
    tenant = tenants.get("acme")
    if tenant is None or ClassificationRequest.objects.filter(tenant=tenant).exists():
        return
    active = rulepack_selectors.active_pack(tenant, "US")
    if active is None:
        out.write("Classification: no active US rule pack, so the demo catalog was not queued.")
        return
    if not rulepacks_demo.is_demo_pack(active):
        return
    _embed_schedule(out)
    decided = _decide_history(tenant)
    if decided:
        out.write(
            f"History: {decided} products of the 2025 season finalized as the broker decided them."
        )
    requests = services.catalog_classify(actor=None, tenant=tenant, only_unclassified=True)
    if requests:
        count = sum(r.product_count for r in requests)
        out.write(
            f"Queued {count} demo products for classification in {len(requests)} "
            "request(s); the worker classifies them once it starts."
        )


def _embed_schedule(out) -> None:
    """Build the US schedule's semantic index now, so the demo's decisions search by meaning.

    A worker never waits for it (its decisions say "word search only" meanwhile); the demo does,
    once per machine and revision: about a minute the first time, then it is read from var/.
    """
    ref = tariff_reference.get_reference("US")
    if ref is None or not ref.national:
        return
    started = time.monotonic()
    state = tariff_tasks.schedule_embed("US", ref.revision)
    out.write(f"Semantic index of US {ref.revision}: {state} ({time.monotonic() - started:.0f} s).")


def _decide_history(tenant) -> int:
    """Import, classify and finalize the earlier season; return how many were finalized."""
    broker = get_user_model().objects.filter(username="broker").first()
    if broker is None or not user_has_tenant_perm(broker, tenant, "review_decisions"):
        return 0
    with HISTORY_FILE.open(encoding="utf-8") as fh:
        finals = {
            row["Part Number"]: row["Final code"].replace(".", "") for row in csv.DictReader(fh)
        }
    batch = catalog_services.import_batch_from_path(
        actor=None, tenant=tenant, path=HISTORY_FILE, source="demo-history", edits="keep"
    )
    versions = ProductVersion.objects.filter(import_batch=batch)
    product_ids = list(versions.values_list("product_id", flat=True))
    if not product_ids:
        return 0
    services.request_create(actor=None, tenant=tenant, product_ids=product_ids)
    runner.drain()
    decided = 0
    states = ReviewState.objects.filter(tenant=tenant, product_id__in=product_ids)
    for state in states.select_related("decision", "product").order_by("pk"):
        code = finals.get(state.product.sku)
        if not code:
            continue
        if state.decision.selected_code == code:
            review_services.review_accept(
                actor=broker, state=state, version=state.version, note=HISTORY_NOTE
            )
        else:
            review_services.review_override(
                actor=broker,
                state=state,
                version=state.version,
                code=code,
                reason_code=OverrideReason.OTHER,
                note=HISTORY_NOTE,
            )
        decided += 1
    return decided
