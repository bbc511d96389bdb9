"""Review workbench speed with 200,000 decisions in one tenant.

Runs in its own database (EMBEDDED_DB_NAME=workbench_bench_review). Generates products,
versions, requests, jobs and decisions with set-based SQL (the review states with the same
statement the migration uses for existing decisions), then measures, through Django's full
request stack in this process (middleware, sessions, permissions, templates):

- the first page (50 rows) of Needs review, and the same with a filter and another sort,
- a page reached by keyset cursor,
- the decision panel of random open items (htmx fragment, and the full page),
- the accept round trip (htmx POST: lock, version check, action, audit event, fresh panel).

The floor is the cheapest tenant page through the same stack (the empty dead-jobs list: session,
membership, permissions, navigation with its counts, base template) and the queue's first page
through its selector alone (the SQL). CPU time of this process and the load average are printed
too: the machine is shared, and a loaded machine inflates every figure alike.
Targets (issue 7): queue first page and panel ≤ 100 ms p95, accept ≤ 150 ms p95.
BENCH_DECISIONS changes the size; BENCH_REBUILD=1 regenerates existing data.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DEBUG", "1")
os.environ["EMBEDDED_DB_NAME"] = "workbench_bench_review"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection  # noqa: E402
from django.db.migrations.exceptions import InconsistentMigrationHistory  # noqa: E402
from django.test import Client  # noqa: E402

DECISIONS = int(os.environ.get("BENCH_DECISIONS", "200000"))
RUNS = int(os.environ.get("BENCH_RUNS", "60"))

EVIDENCE = """{
  "candidates": [
    {"code": "6110202010", "score": 0.74, "description": "Sweaters of cotton, men's",
     "rationale": "knitted pullover of cotton", "declarable": true,
     "duty": {"total": "4.13", "currency": "USD"},
     "sources": [{"kind": "rule", "ref": "knit-cotton-sweater", "weight": 0.6,
                  "detail": {"matched": {"description": ["pullover", "cotton"]}}},
                 {"kind": "search", "ref": "search", "weight": 0.3, "detail": {}}]},
    {"code": "6110202020", "score": 0.71, "description": "Sweaters of cotton, women's",
     "rationale": "", "declarable": true, "duty": {"total": "4.13", "currency": "USD"},
     "sources": [{"kind": "search", "ref": "search", "weight": 0.3, "detail": {}}]},
    {"code": "6110309000", "score": 0.42, "description": "Of man-made fibres, other",
     "rationale": "", "declarable": true, "duty": {"total": "8.00", "currency": "USD"},
     "sources": [{"kind": "search", "ref": "search", "weight": 0.2, "detail": {}}]}
  ],
  "rejected": [{"code": "6109100012", "score": 0.2, "reason": "excluded", "detail": "knit top"}],
  "reasons": [{"code": "low_confidence", "message": "0.74 is below the pack's 0.82", "detail": {}}],
  "duty": {"selected": {"total": "4.13", "currency": "USD", "lines": [], "notes": []},
           "exposure": []},
  "flags": {},
  "explanation": "Rule knit-cotton-sweater matched description terms pullover, cotton."
}"""


def _migration_backfill() -> str:
    """Migration 0004's set-based backfill of review states, then each outcome's starting queue
    from ``review.states.REVIEW_START`` (the backfill predates the Confirm queue)."""
    import importlib

    from classification.review.states import REVIEW_START

    backfill = importlib.import_module("classification.migrations.0004_review_triggers").BACKFILL
    start = "".join(
        f"UPDATE classification_reviewstate SET status = '{status}', queue = '{queue}' "
        f"WHERE outcome = '{outcome}' AND status NOT IN ('superseded', 'final');\n"
        for outcome, (status, queue) in REVIEW_START.items()
    )
    return backfill + start


def generate(tenant_id: int, n: int) -> None:
    """Write n products with versions, requests of 100, done jobs and decisions, set-based."""
    sql = [
        f"""INSERT INTO catalog_product (tenant_id, sku, name, description, destination,
              country_of_origin, classification_status, final_code, created_at, updated_at)
            SELECT {tenant_id}, 'B-' || lpad(g::text, 7, '0'), 'Bench pullover ' || g,
                   'Knitted pullover sweater of cotton, style ' || g, 'US',
                   (ARRAY['CN','VN','DE','MX','IN'])[1 + g % 5], 'needs_review', '', now(), now()
              FROM generate_series(1, {n}) g""",
        f"""INSERT INTO catalog_productversion (product_id, n, facts, sha256, created_at)
            SELECT p.id, 1, jsonb_build_object('sku', p.sku, 'name', p.name,
                     'description', p.description, 'country_of_origin', p.country_of_origin,
                     'materials', jsonb_build_array('cotton'), 'intended_use', 'apparel',
                     'product_type', 'sweater', 'destination', 'US', 'customs_value', '25.00',
                     'currency', 'USD'),
                   md5(p.sku) || md5(p.name), now()
              FROM catalog_product p WHERE p.tenant_id = {tenant_id}""",
        f"""UPDATE catalog_product p SET current_version_id = v.id
              FROM catalog_productversion v
             WHERE v.product_id = p.id AND p.tenant_id = {tenant_id}""",
        f"""INSERT INTO classification_classificationrequest
              (tenant_id, "group", source, product_count, created_at)
            SELECT {tenant_id}, gen_random_uuid(), 'cli', 100, now()
              FROM generate_series(1, {(n + 99) // 100})""",
        f"""INSERT INTO classification_job (request_id, tenant_id, product_id, product_version_id,
              status, attempts, max_attempts, token, lease_owner, last_error, created_at,
              finished_at)
            SELECT r.id, {tenant_id}, p.id, p.current_version_id, 'done', 1, 3, 1, '', '', now(),
                   now()
              FROM (SELECT id, current_version_id, row_number() OVER (ORDER BY id) - 1 AS rn
                      FROM catalog_product WHERE tenant_id = {tenant_id}) p
              JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn
                      FROM classification_classificationrequest WHERE tenant_id = {tenant_id}) r
                ON r.rn = p.rn / 100""",
        # 55% needs review, 10% blocked, 35% classified; risk and age spread pseudo-randomly.
        f"""INSERT INTO classification_decision (tenant_id, job_id, attempt, product_id,
              product_version_id, rule_pack_id, rule_pack_version, rule_pack_sha256, jurisdiction,
              schedule_revision, engine_version, selected_code, confidence, outcome, reasons,
              risk_band, duty_total, duty_currency, evidence, created_at)
            SELECT j.tenant_id, j.id, 1, j.product_id, j.product_version_id, NULL,
                   '2026.' || (j.id % 3), repeat('a', 64), 'US', '2026 Rev 4', 'bench',
                   CASE WHEN j.id % 20 BETWEEN 11 AND 12 THEN '' ELSE '6110202010' END,
                   ((j.id * 7919) % 1000) / 1000.0,
                   CASE WHEN j.id % 20 <= 10 THEN 'needs_review'
                        WHEN j.id % 20 <= 12 THEN 'blocked' ELSE 'classified' END,
                   CASE WHEN j.id % 20 <= 10 THEN
                          (ARRAY['["low_confidence"]', '["tie"]', '["restricted_goods"]',
                                 '["agency_requirements","low_confidence"]'])[1 + j.id % 4]::jsonb
                        WHEN j.id % 20 <= 12 THEN '["no_candidate"]'::jsonb
                        ELSE '[]'::jsonb END,
                   (ARRAY['low', 'medium', 'high'])[1 + (j.id * 31) % 3],
                   4.13 + (j.id % 500), 'USD', (SELECT e FROM bench_evidence),
                   now() - ((j.id * 104729) % 8640000) * interval '1 second'
              FROM classification_job j WHERE j.tenant_id = {tenant_id}""",
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE classification_decision DISABLE TRIGGER classification_decision_has_review"
        )
        cursor.execute("CREATE TEMP TABLE bench_evidence (e jsonb)")
        cursor.execute("INSERT INTO bench_evidence VALUES (%s::jsonb)", [EVIDENCE])
        for statement in sql:
            cursor.execute(statement)
        cursor.execute(_migration_backfill())
        cursor.execute(
            "ALTER TABLE classification_decision ENABLE TRIGGER classification_decision_has_review"
        )
        cursor.execute("ANALYZE")


def prepare():
    from classification.models import Decision
    from workbench import demo

    try:
        call_command("migrate", verbosity=0)
        tenant = demo.seed_tenants_and_users()["acme"]
        have = Decision.objects.filter(tenant=tenant).count()
    except (InconsistentMigrationHistory, DatabaseError):
        have = -1  # an older schema: rebuild
    if have != DECISIONS or os.environ.get("BENCH_REBUILD"):
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        call_command("migrate", verbosity=0)
        tenant = demo.seed_tenants_and_users()["acme"]
        started = time.perf_counter()
        generate(tenant.pk, DECISIONS)
        print(f"generated {DECISIONS:,} decisions in {time.perf_counter() - started:.1f} s")
    return tenant


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(call, runs: int = RUNS) -> tuple[list[float], list[float]]:
    """Return wall and CPU milliseconds of ``runs`` calls (after one warm-up call)."""
    call()
    wall, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return wall, cpu


def report(label: str, samples, target: float | None = None) -> None:
    """Print median and p95 wall time, this process's CPU time, and whether p95 meets target."""
    wall, cpu = samples
    verdict = ""
    if target is not None:
        verdict = "  OK" if p95(wall) <= target else f"  ABOVE {target:.0f} ms"
    print(
        f"{label:<46} median {statistics.median(wall):6.1f} ms  p95 {p95(wall):6.1f} ms  "
        f"CPU median {statistics.median(cpu):5.1f} ms{verdict}"
    )


def check(response, status=200):
    if response.status_code != status:
        raise SystemExit(f"unexpected {response.status_code}: {response.content[:300]!r}")
    return response


def main() -> None:
    from django.contrib.auth import get_user_model

    from classification.models import ReviewState
    from classification.review import selectors

    tenant = prepare()
    cpu_started = time.process_time()
    broker = get_user_model().objects.get(username="broker")
    client = Client(HTTP_HOST="localhost")
    client.force_login(broker)
    base = f"/t/{tenant.slug}/classification/"
    states = ReviewState.objects.filter(tenant=tenant)
    print(
        f"tenant {tenant.slug}: {states.count():,} review states; needs review "
        f"{states.filter(queue='needs_review').count():,}, "
        f"blocked {states.filter(queue='blocked').count():,}"
    )

    def raw_first_page():
        list(
            selectors.queue_page(tenant, broker, queue="needs_review", filters={}, sort="risk").rows
        )

    report("floor: queue first page, selector only (SQL)", timed(raw_first_page))
    report(
        "floor: dead-jobs page (same stack and shell, empty)",
        timed(lambda: check(client.get(f"{base}jobs/dead/"))),
    )
    report(
        "Needs review, first page (50 rows)",
        timed(lambda: check(client.get(base))),
        100,
    )
    report(
        "Needs review, risk=high, sorted by duty",
        timed(lambda: check(client.get(f"{base}?risk=high&sort=duty"))),
        100,
    )
    report(
        "Blocked, sorted by confidence",
        timed(lambda: check(client.get(f"{base}?queue=blocked&sort=confidence"))),
        100,
    )
    page = selectors.queue_page(tenant, broker, queue="needs_review", filters={}, sort="risk")
    for _ in range(20):  # walk 20 pages (1,000 rows) in
        page = selectors.queue_page(
            tenant, broker, queue="needs_review", filters={}, sort="risk", cursor=page.next_cursor
        )
    deep = f"{base}?queue=needs_review&after={page.next_cursor}"
    report("Needs review, page 22 by keyset cursor", timed(lambda: check(client.get(deep))), 100)

    open_ids = list(
        ReviewState.objects.filter(tenant=tenant, queue="needs_review")
        .order_by("?")
        .values_list("pk", flat=True)[: RUNS * 3 + 10]
    )
    panels = iter(open_ids)
    report(
        "decision panel (htmx fragment), random items",
        timed(lambda: check(client.get(f"{base}review/{next(panels)}/", HTTP_HX_REQUEST="true"))),
        100,
    )
    report(
        "decision panel (full page), random items",
        timed(lambda: check(client.get(f"{base}review/{next(panels)}/"))),
        100,
    )

    accepts = iter(open_ids[RUNS * 2 + 2 :])

    def accept():
        pk = next(accepts)
        version = ReviewState.objects.values_list("version", flat=True).get(pk=pk)
        check(
            client.post(
                f"{base}review/{pk}/accept/",
                {"accept-version": str(version)},
                HTTP_HX_REQUEST="true",
            )
        )

    report("accept round trip (htmx POST, fresh panel)", timed(accept, RUNS - 2), 150)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"process CPU time {time.process_time() - cpu_started:.1f} s; load average {load}")


if __name__ == "__main__":
    main()
