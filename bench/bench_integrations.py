"""Integrations speed: the feed and the API under a large history; outbox fan-out; delivery.

Runs in its own database (EMBEDDED_DB_NAME=workbench_bench_integrations). Prints, each with the
floor or peer measured in the same run:

1. feed poll through the API (token auth, rate limit, JSON) with 100,000 finalizations, p50/p95,
   vs. the bare keyset SQL of the same page;
2. outbox fan-out: 5,000 events to 2 endpoints (10,000 deliveries + 5,000 feed entries),
   events/s, vs. COPY-free bulk INSERTs of the same rows;
3. webhook delivery to a loopback receiver, deliveries/s for one worker, vs. bare http.client
   POSTs of the same bodies to the same receiver.
"""

import http.client
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DEBUG", "1")
os.environ["EMBEDDED_DB_NAME"] = "workbench_bench_integrations"
os.environ.setdefault("WEBHOOK_ALLOW_HTTP", "1")
os.environ.setdefault("WEBHOOK_ALLOW_LOOPBACK", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

FEED_ROWS = int(os.environ.get("BENCH_FEED_ROWS", "100000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))
DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "500"))
POLLS = 200


def reset_database():
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def seed_feed(tenant_id: int, rows: int):
    """Write ``rows`` dispatched finalization events and their feed entries, set-based."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_outboxevent (tenant_id, type, payload, target_type, target_id,
                created_at, available_at, status, attempts, last_error, delivered_at)
            SELECT %s, 'decision.finalized',
                jsonb_build_object('decision_id', g, 'product_id', g, 'sku', 'SKU-' || g,
                                   'final_code', '6109100012', 'link', '/t/acme/'),
                'classification.decision', g::text, now(), now(), 'delivered', 1, '', now()
            FROM generate_series(1, %s) g
            """,
            [tenant_id, rows],
        )
        cursor.execute(
            """
            INSERT INTO integrations_feedentry (tenant_id, outbox_event_id, decision_id,
                product_id, sku, final_code, finalized_at, finalized_by, data, appended_at)
            SELECT tenant_id, id, (payload->>'decision_id')::bigint,
                (payload->>'product_id')::bigint, payload->>'sku', payload->>'final_code',
                created_at, 'broker', payload, now()
            FROM audit_outboxevent WHERE tenant_id = %s ORDER BY id
            """,
            [tenant_id],
        )
        cursor.execute("ANALYZE audit_outboxevent; ANALYZE integrations_feedentry")


def bench_feed(tenant):
    from integrations import services

    _, token = services.token_create(
        actor=None, tenant=tenant, name="bench", scope="read", rate_limit_per_minute=10**6
    )
    seed_feed(tenant.pk, FEED_ROWS)
    client = Client(SERVER_NAME="localhost")
    headers = {"authorization": f"Bearer {token}"}
    api, floor = [], []
    for i in range(POLLS):
        after = (i * 997) % FEED_ROWS
        started = time.perf_counter()
        response = client.get(
            "/api/v1/final-classifications", {"after": after, "limit": 100}, headers=headers
        )
        api.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, decision_id, product_id, sku, final_code, finalized_at, finalized_by"
                " FROM integrations_feedentry WHERE tenant_id = %s AND id > %s"
                " ORDER BY id LIMIT 101",
                [tenant.pk, after],
            )
            cursor.fetchall()
        floor.append(time.perf_counter() - started)
    print(f"feed poll via API ({FEED_ROWS:,} entries, 100 per page, {POLLS} polls):")
    print(f"  API      p50 {ms(pct(api, 50))}  p95 {ms(pct(api, 95))}")
    print(f"  bare SQL p50 {ms(pct(floor, 50))}  p95 {ms(pct(floor, 95))}  (floor)")


def bench_fanout(tenant):
    from audit import outbox
    from integrations import delivery, services
    from integrations.models import WebhookEndpoint

    for n in range(2):
        services.endpoint_create(
            actor=None,
            tenant=tenant,
            url=f"http://127.0.0.1:9/{n}",
            event_types=[outbox.DECISION_FINALIZED],
        )
    with transaction.atomic():
        for i in range(EVENTS):
            outbox.emit(
                tenant=tenant,
                type=outbox.DECISION_FINALIZED,
                payload={
                    "decision_id": 10**7 + i,
                    "product_id": i,
                    "sku": f"F-{i}",
                    "final_code": "6109100012",
                    "link": "/t/acme/",
                },
            )
    started = time.perf_counter()
    dispatched = 0
    while n := delivery.dispatch_pending(limit=500):
        dispatched += n
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE d AS SELECT * FROM integrations_webhookdelivery LIMIT 0")
        cursor.execute("CREATE TEMP TABLE f AS SELECT * FROM integrations_feedentry LIMIT 0")
        cursor.execute(
            "INSERT INTO d SELECT * FROM integrations_webhookdelivery"
            " WHERE outbox_event_id IS NOT NULL"
        )
        cursor.execute("INSERT INTO f SELECT * FROM integrations_feedentry WHERE sku LIKE 'F-%%'")
    floor = time.perf_counter() - started
    # Those endpoints lead nowhere: keep their deliveries out of the delivery benchmark.
    WebhookEndpoint.objects.update(enabled=False)
    print(f"outbox fan-out ({dispatched:,} events → 2 endpoints + feed):")
    print(f"  dispatch_pending  {dispatched / elapsed:,.0f} events/s ({elapsed:.2f} s)")
    print(f"  bulk INSERT of the same rows  {dispatched / floor:,.0f} events/s (floor)")


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")


def bench_delivery(tenant):
    from integrations import delivery, services
    from integrations.models import WebhookDelivery

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    endpoint, _ = services.endpoint_create(
        actor=None, tenant=tenant, url=f"http://127.0.0.1:{port}/", event_types=["decision.created"]
    )
    envelope = {"id": "evt_x", "type": "decision.created", "data": {"sku": "X" * 200}}
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            tenant=tenant,
            endpoint=endpoint,
            event_id=f"evt_b{i}",
            event_type="decision.created",
            envelope=envelope,
            max_attempts=8,
            next_attempt_at=django.utils.timezone.now(),
        )
        for i in range(DELIVERIES)
    )
    started = time.perf_counter()
    sent = 0
    while (report := delivery.deliver_due(limit=50)).claimed:
        sent += report.succeeded
    elapsed = time.perf_counter() - started
    body = delivery.body_bytes(envelope)
    started = time.perf_counter()
    for _ in range(DELIVERIES):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        conn.getresponse().read()
        conn.close()
    peer = time.perf_counter() - started
    server.shutdown()
    print(f"webhook delivery to a loopback receiver ({DELIVERIES} deliveries, one worker):")
    print(f"  deliver_due (sign, POST, log attempt)  {sent / elapsed:,.0f}/s")
    print(f"  bare http.client POSTs                 {DELIVERIES / peer:,.0f}/s (peer)")


def main():
    import django.utils.timezone  # noqa: F401

    from tests.factories import TenantFactory

    reset_database()
    tenant = TenantFactory(name="Acme Imports", slug="acme")
    bench_feed(tenant)
    bench_fanout(tenant)
    bench_delivery(tenant)


if __name__ == "__main__":
    main()
