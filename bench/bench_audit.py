"""Benchmark: audit export snapshot + XLSX for 50,000 decisions, and audit_verify over 1,000,000
events. Targets (issue 8): each ≤ 60 s; the export with peak memory ≤ 1 GB.

Runs in its own embedded database (``workbench_bench_audit``, dropped and re-created each run).
Decisions are synthetic, engine-shaped records (candidates, rejections, duty, facts, review
actions) read from a table by a stand-in section provider, so the figures cover the audit side:
database read, canonical JSON, SHA-256, storage, parse and XLSX. Events are hashed in Python
with ``audit.services.event_hash`` and loaded with COPY. Each measurement runs in a fresh child
process, so its peak memory is its own. Floors measured in the same run: reading the same rows
and hashing their bytes (export); reading the same events without hashing (verify).

    DEBUG=1 .venv/bin/python bench/bench_audit.py [--decisions 50000] [--events 1000000]
"""

import argparse
import datetime as dt
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "workbench_bench_audit"
os.environ["EMBEDDED_DB_NAME"] = DB_NAME
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DEBUG", "1")

EXPORT_SLUG, CHAIN_SLUG = "bench-export", "bench-chain"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django(reset: bool = False):
    if reset:
        _drop_database()
    import django

    django.setup()
    if reset:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def _drop_database():
    """Drop the benchmark database so every run starts empty (events cannot be deleted)."""
    import psycopg

    from workbench import embedded_db

    socket_dir = embedded_db.start(ROOT / "var")
    with psycopg.connect(
        host=socket_dir, user=embedded_db.SUPERUSER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


# --- data ----------------------------------------------------------------------------------


def decision(n: int) -> dict:
    sku = f"SKU-{n:06d}"
    code = f"{8471300100 + (n % 7) * 10000}"
    candidate = {
        "code": code,
        "score": 0.91,
        "description": "Portable automatic data processing machines, weighing ≤ 10 kg",
        "rationale": f"rule laptops-{n % 40} matched product_type, materials",
        "sources": [
            {"kind": "rule", "ref": f"laptops-{n % 40}", "weight": 0.9, "detail": {"line": 12}},
            {"kind": "search", "ref": "search", "weight": 0.55, "detail": {"score": 0.55}},
        ],
        "duty": None,
        "declarable": True,
    }
    others = [dict(candidate, code=f"84714101{i}0", score=0.4 - i / 10) for i in range(2)]
    return {
        "id": n,
        "created_at": "2026-11-20T10:00:00+00:00",
        "jurisdiction": "US",
        "outcome": ("classified", "needs_review", "blocked")[n % 3],
        "status": "final" if n % 2 else "needs_review",
        "reasons": [{"code": "agency_requirements", "message": "FD1 applies", "detail": {}}],
        "risk_band": "medium",
        "confidence": 0.91,
        "selected_code": code,
        "selected_description": candidate["description"],
        "explanation": "Rule laptops matched product_type=laptop; search agreed at 0.55.",
        "candidates": [candidate, *others],
        "rejected": [
            {
                "code": "8528520000",
                "score": 0.2,
                "reason": "excluded_by_rule",
                "detail": "monitors are excluded by rule laptops",
            }
        ],
        "duty": {
            "code": code,
            "computable": True,
            "total": "12.40",
            "currency": "USD",
            "lines": [
                {
                    "label": "General",
                    "rate_text": "Free",
                    "amount": "0.00",
                    "source": "general",
                    "note": "",
                }
            ],
            "notes": [],
            "preferences": [],
        },
        "product": {
            "id": n,
            "sku": sku,
            "version": 1,
            "facts_sha256": f"{n:064x}",
            "facts": {
                "sku": sku,
                "name": f"Laptop {n}",
                "description": "14-inch laptop, 1.4 kg",
                "country_of_origin": "CN",
                "materials": ["aluminium", "glass"],
                "intended_use": "office",
                "product_type": "laptop",
                "destination": "US",
                "customs_value": "640.00",
                "currency": "USD",
                "quantity": "1",
                "quantity_unit": "No.",
                "net_weight_kg": "1.4",
                "supplier": "=Supplier Ltd",
                "declared_code": None,
                "notes": None,
            },
        },
        "rule_pack": {"id": 1, "version": "2026.1", "sha256": "a" * 64},
        "schedule_revision": "2026 Revision 4",
        "engine_version": "1.0",
        "review_actions": [
            {
                "id": n,
                "kind": "accept",
                "actor": "broker",
                "code": "",
                "reason_code": "",
                "note": "checked the spec sheet",
                "created_at": "2026-11-20T11:00:00+00:00",
            }
        ]
        if n % 2
        else [],
        "final": {"code": code, "by": "broker", "at": "2026-11-20T11:00:00+00:00", "kind": "accept"}
        if n % 2
        else None,
    }


def load_decisions(count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_decision (id bigint PRIMARY KEY, payload text)")
        with cursor.copy("COPY bench_decision (id, payload) FROM STDIN") as copy:
            for n in range(1, count + 1):
                copy.write_row((n, json.dumps(decision(n))))


def load_events(tenant, count: int) -> None:
    """COPY ``count`` chained events for ``tenant``, hashed as audit.services.record would."""
    from django.db import connection

    from audit.models import GENESIS_HASH, AuditEvent
    from audit.services import event_hash

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cols = ", ".join(f.column for f in AuditEvent._meta.concrete_fields if f.name != "id")

    # Continue after the tenant's own events (its creation).
    last = AuditEvent.objects.filter(tenant=tenant).order_by("-seq").values("seq", "hash").first()
    first, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS_HASH)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY audit_auditevent ({cols}) FROM STDIN") as copy,
    ):
        for seq in range(first, first + count):
            payload = {
                "tenant": tenant.pk,
                "seq": seq,
                "actor": None,
                "actor_label": "importer",
                "verb": "catalog.product.updated",
                "target_type": "catalog.product",
                "target_id": str(seq % 5000),
                "target_label": f"SKU-{seq % 5000:06d}",
                "data": {"version": seq // 5000 + 1, "name": ["Old", "New"]},
                "created_at": start + dt.timedelta(microseconds=seq * 1_000_003),
                "prev_hash": prev,
            }
            digest = event_hash(payload)
            copy.write_row(
                [
                    tenant.pk,
                    seq,
                    None,
                    payload["actor_label"],
                    payload["verb"],
                    payload["target_type"],
                    payload["target_id"],
                    payload["target_label"],
                    json.dumps(payload["data"]),
                    payload["created_at"],
                    prev,
                    digest,
                ]
            )
            prev = digest


# --- phases (each in its own process) -------------------------------------------------------


def _provider(tenant, scope):
    from django.db import connection

    def rows():
        with connection.chunked_cursor() as cursor:
            cursor.execute("SELECT payload FROM bench_decision ORDER BY id")
            while batch := cursor.fetchmany(2000):
                for (payload,) in batch:
                    yield json.loads(payload)

    return {
        "classification": {
            "decisions": rows(),
            "rule_packs": [
                {
                    "id": 1,
                    "jurisdiction": "US",
                    "version": "2026.1",
                    "status": "active",
                    "sha256": "a" * 64,
                    "source": "[pack]\nversion = '2026.1'\n" * 200,
                }
            ],
        }
    }


def phase_export() -> dict:
    setup_django()
    from django.apps import apps

    from audit import renderers, selectors, services, snapshot
    from workbench.models import Tenant

    apps.get_app_config("classification").audit_export_sections = _provider
    tenant = Tenant.objects.get(slug=EXPORT_SLUG)
    t0, c0 = time.perf_counter(), time.process_time()
    export = services.export_request(actor=None, tenant=tenant, scope={}, background=False)
    export = services.export_build(export_id=export.pk)
    assert export.status == "ready", export.failure_reason
    t1, c1 = time.perf_counter(), time.process_time()
    out = ROOT / "var" / "bench" / "audit-export.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        renderers.render_xlsx(
            snapshot.open_lazily(selectors.export_bytes(export)), export.sha256, handle
        )
    t2, c2 = time.perf_counter(), time.process_time()
    return {
        "snapshot_cpu_s": c1 - c0,
        "xlsx_cpu_s": c2 - c1,
        "load": os.getloadavg()[0],
        "snapshot_s": t1 - t0,
        "xlsx_s": t2 - t1,
        "total_s": t2 - t0,
        "peak_mb": peak_mb(),
        "size_mb": export.size_bytes / 1e6,
        "decisions": export.summary,
        "xlsx_mb": out.stat().st_size / 1e6,
    }


def phase_export_floor() -> dict:
    setup_django()
    import hashlib

    from django.db import connection

    t0 = time.perf_counter()
    digest = hashlib.sha256()
    with connection.chunked_cursor() as cursor:
        cursor.execute("SELECT payload FROM bench_decision ORDER BY id")
        while batch := cursor.fetchmany(2000):
            for (payload,) in batch:
                digest.update(payload.encode())
    return {"floor_s": time.perf_counter() - t0, "peak_mb": peak_mb()}


def phase_verify() -> dict:
    setup_django()
    from django.core.management import call_command

    t0, c0 = time.perf_counter(), time.process_time()
    out = io.StringIO()
    call_command("audit_verify", tenant=CHAIN_SLUG, stdout=out)
    return {
        "verify_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "load": os.getloadavg()[0],
        "peak_mb": peak_mb(),
        "out": out.getvalue(),
    }


def phase_verify_floor() -> dict:
    setup_django()
    from django.db import connection

    from audit import verify
    from workbench.models import Tenant

    tenant = Tenant.objects.get(slug=CHAIN_SLUG)
    t0 = time.perf_counter()
    n = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({verify.select_sql(tenant.pk)}) TO STDOUT") as copy,
    ):
        for _row in copy.rows():
            n += 1
    return {"floor_s": time.perf_counter() - t0, "rows": n}


PHASES = {
    "export": phase_export,
    "export_floor": phase_export_floor,
    "verify": phase_verify,
    "verify_floor": phase_verify_floor,
}


def run_phase(name: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ,
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"phase {name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def setup(args) -> None:
    """Re-create the benchmark database and generate the decisions and events."""
    t0 = time.perf_counter()
    setup_django(reset=True)
    from django.db import transaction

    from workbench import services

    with transaction.atomic():
        services.tenant_create(actor=None, slug=EXPORT_SLUG, name="Export benchmark")
        chain = services.tenant_create(actor=None, slug=CHAIN_SLUG, name="Chain benchmark")
        load_decisions(args.decisions)
    with transaction.atomic():
        load_events(chain, args.events - 1)  # event 1 is the tenant's creation
    elapsed = time.perf_counter() - t0
    print(f"setup: {args.decisions} decisions, {args.events} events in {elapsed:.1f} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--phase", choices=sorted(PHASES))
    parser.add_argument(
        "--reuse", action="store_true", help="measure again on the data of the previous run"
    )
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](), default=str))
        return
    if not args.reuse:
        setup(args)
    floor = run_phase("export_floor")
    export = run_phase("export")
    print(
        f"export: {args.decisions} decisions → snapshot {export['snapshot_s']:.1f} s "
        f"({export['size_mb']:.0f} MB canonical JSON) + XLSX {export['xlsx_s']:.1f} s "
        f"({export['xlsx_mb']:.0f} MB) = {export['total_s']:.1f} s (target ≤ 60 s); "
        f"peak memory {export['peak_mb']:.0f} MB (target ≤ 1024 MB); floor (read + hash the same "
        f"rows) {floor['floor_s']:.1f} s, ratio {export['total_s'] / floor['floor_s']:.1f}×; "
        f"Python CPU {export['snapshot_cpu_s']:.1f} s + {export['xlsx_cpu_s']:.1f} s; "
        f"load average {export['load']:.1f} on {os.cpu_count()} cores"
    )
    vfloor = run_phase("verify_floor")
    ver = run_phase("verify")
    print(
        f"audit_verify: {vfloor['rows']} events in {ver['verify_s']:.1f} s (target ≤ 60 s), "
        f"{vfloor['rows'] / ver['verify_s']:,.0f} events/s; peak memory {ver['peak_mb']:.0f} MB; "
        f"floor (read the same rows, no hashing) {vfloor['floor_s']:.1f} s; "
        f"Python CPU {ver['cpu_s']:.1f} s; load average {ver['load']:.1f}; {ver['out'].strip()}"
    )


if __name__ == "__main__":
    main()
