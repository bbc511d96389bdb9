"""End-to-end classification throughput: 10,000 products in 100 requests, two worker processes.

Runs in its own database (EMBEDDED_DB_NAME=workbench_bench_classify; BENCH_EMBEDDED_DB_NAME names
another, for two checkouts sharing one embedded server), so development data is untouched. Loads
the US schedule from ../shared/data when present and activates the demo US rule pack, imports
10,000 generated products, creates 100 requests of 100, then starts two worker processes
(`runner.drain`) and measures wall time until every job is done.

The floor is the same 10,000 decision rows written by the cheapest means PostgreSQL offers:
COPY into a scratch table with the same columns, measured in the same run.
Target (issue 6): ≥ 300 products/s end to end.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DEBUG", "1")
# Not EMBEDDED_DB_NAME itself: the bench drops its database's schema, and a shell's development
# setting must never point it at the development database.
os.environ["EMBEDDED_DB_NAME"] = os.environ.get(
    "BENCH_EMBEDDED_DB_NAME", "workbench_bench_classify"
)
os.environ.setdefault("WORKER_PROCESSES", "2")
SHARED = ROOT.parent / "shared" / "data"
if SHARED.exists():
    os.environ["WORKBENCH_TARIFF_DIR"] = str(SHARED)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

PRODUCTS = int(os.environ.get("BENCH_PRODUCTS", "10000"))
WORKERS = 2


class _Lines:
    """A writer for demo steps that ends every message with a newline."""

    def write(self, text):
        print(f"   {text}")


def reset_database():
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)


def setup_tenant():
    from workbench import demo

    tenants = demo.seed_tenants_and_users()
    for step in demo.extra_steps():
        if step.__module__.startswith("classification"):
            continue  # the bench creates its own requests
        step(tenants, _Lines())
    return tenants["acme"]


KINDS = [
    ("Men's knitted pullover sweater of cotton", "cotton", "Sweater", "VN", "25.00"),
    (
        "Lithium-ion power bank 10000 mAh with USB-C",
        "lithium-ion cells; plastic",
        "Power bank",
        "CN",
        "18.00",
    ),
    (
        "Stainless steel chef's knife with fixed blade",
        "stainless steel; wood",
        "Kitchen knife",
        "DE",
        "40.00",
    ),
    ("Plush teddy bear toy stuffed with polyester fibre", "polyester", "Stuffed toy", "CN", "9.50"),
    (
        "Moisturising face cream for skin care, 50 ml",
        "water; glycerin",
        "Face cream",
        "FR",
        "12.00",
    ),
    ("Bluetooth wireless headphones over-ear", "plastic; copper", "Headphones", "CN", "35.00"),
    ("Vitamin C food supplement tablets", "ascorbic acid", "Food supplement", "US", "7.00"),
    ("Women's woven trousers of synthetic fibres", "polyester", "Trousers", "BD", "14.00"),
]


def import_products(tenant):
    import csv
    import io

    from django.contrib.auth import get_user_model

    from catalog import services as catalog_services

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "SKU",
            "Name",
            "Description",
            "Country of origin",
            "Materials",
            "Intended use",
            "Product type",
            "Destination",
            "Customs value",
            "Currency",
        ]
    )
    for i in range(PRODUCTS):
        desc, materials, kind, origin, value = KINDS[i % len(KINDS)]
        writer.writerow(
            [
                f"BENCH-{i:06d}",
                f"{kind} {i}",
                f"{desc}, model {i}",
                origin,
                materials,
                "Consumer use",
                kind,
                "US",
                value,
                "USD",
            ]
        )
    analyst = get_user_model().objects.get(username="analyst")
    return catalog_services.import_batch_start(
        actor=analyst,
        tenant=tenant,
        fileobj=io.BytesIO(buffer.getvalue().encode()),
        filename="bench.csv",
        background=False,
    )


def create_requests(tenant):
    from catalog.models import Product
    from classification import services

    ids = list(
        Product.objects.filter(tenant=tenant, sku__startswith="BENCH-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for i in range(0, len(ids), 100):
        services.request_create(actor=None, tenant=tenant, product_ids=ids[i : i + 100])


WORKER = """
import django; django.setup()
from classification import runner
from tariffs import reference
ref = reference.get_reference("US")
if ref is not None:
    ref.semantic(wait=True)  # a worker reads the stored vectors once (timed: part of the run)
    ref.transformer(wait=True)  # and the transformer's, for the re-rank
r = runner.drain()
print(r.done, r.failed, r.stale, flush=True)
"""


def run_workers():
    env = {**os.environ}
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(WORKERS)
    ]
    outputs = [p.communicate()[0].strip() for p in procs]
    return time.perf_counter() - start, outputs


def embed_schedule() -> str:
    """Build (or find) the US schedule's semantic index, as the task after a load does."""
    from tariffs import reference, tasks

    ref = reference.get_reference("US")
    if ref is None:
        return "no US schedule"
    start = time.perf_counter()
    state = tasks.schedule_embed("US", ref.revision)
    print(f"   semantic index of US {ref.revision}: {state} in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    done = tasks.schedule_transformer("US", ref.revision)
    seconds = time.perf_counter() - start
    print(f"   transformer vectors of US {ref.revision}: {done} in {seconds:.1f} s")
    return state


def floor_seconds() -> float:
    """COPY the decisions just written into a scratch table of the same shape."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE floor_decision (LIKE classification_decision)")
        cursor.execute("SELECT * FROM classification_decision")
        rows = cursor.fetchall()
        columns = [c.name for c in cursor.description]
        start = time.perf_counter()
        with cursor.cursor.copy(f"COPY floor_decision ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return time.perf_counter() - start


def main():
    print(
        f"== classification end to end: {PRODUCTS} products, {PRODUCTS // 100} requests, "
        f"{WORKERS} worker processes"
    )
    if not SHARED.exists():
        print("   (../shared/data absent: no US schedule; the engine runs on the pack alone)")
    reset_database()
    tenant = setup_tenant()
    batch = import_products(tenant)
    print(f"   imported {batch.new_count} products")
    create_requests(tenant)
    embedded = embed_schedule()
    connection.close()
    seconds, outputs = run_workers()
    from classification.models import Decision, Job

    done = Job.objects.filter(status="done").count()
    decisions = Decision.objects.count()
    mix = dict(
        Decision.objects.values_list("outcome")
        .annotate(n=django.db.models.Count("id"))
        .values_list("outcome", "n")
    )
    semantic_on = Decision.objects.filter(evidence__retrieval__semantic="on").count()
    print(f"   workers reported (done failed stale): {outputs}")
    print(f"   decisions with semantic search: {semantic_on} of {decisions} (index: {embedded})")
    rerank_on = Decision.objects.filter(evidence__retrieval__rerank="on").count()
    print(f"   decisions re-ranked by the transformer: {rerank_on} of {decisions}")
    print(f"   jobs done {done}, decisions {decisions}, outcome mix {mix}")
    rate = done / seconds
    floor = floor_seconds()
    print(f"   end to end: {seconds:.2f} s = {rate:,.0f} products/s (target ≥ 300)")
    print(
        f"   floor (COPY of the same {decisions} decision rows): {floor:.2f} s = "
        f"{decisions / floor:,.0f} rows/s; end to end is {seconds / floor:.1f}× the floor"
    )


if __name__ == "__main__":
    main()
