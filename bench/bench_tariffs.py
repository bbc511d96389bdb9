"""Tariff benchmarks: loading the USITC file, code validation, duty estimate, search.

Run with `DEBUG=1 .venv/bin/python bench/bench_tariffs.py` (uses the worktree's database; the
load is rolled back). Each figure is printed beside a floor measured in the same run: parsing
the CSV alone for the load, a bare dict lookup for validation/duty, PostgreSQL full-text search
for the in-memory search. Targets: load ≤ 15 s, validation and duty ≤ 1 ms, search ≤ 50 ms.
"""

import csv
import datetime as dt
import io
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

from tariffs import parsers, reference, selectors, services  # noqa: E402
from tariffs.models import ReferenceList  # noqa: E402

DATA = Path(settings.TARIFF_DATA_DIR or Path(__file__).resolve().parents[2] / "shared" / "data")
US_2026 = DATA / "us_htsus_2026_rev4_usitc_export.csv"
QUERIES = [
    "lithium ion battery",
    "cotton sweater",
    "frozen shrimp",
    "steel screws",
    "leather handbags",
    "olive oil",
    "bicycle parts",
    "wooden furniture",
    "plastic toys",
    "solar cells",
]


class Rollback(Exception):
    pass


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1] if len(values) > 1 else values[0]
    return f"mean {statistics.fmean(values) * 1000:.4f} ms, p95 {p95 * 1000:.4f} ms"


def bench_load() -> None:
    source = parsers.read_source(str(US_2026))
    # A trailing newline gives a new SHA-256 with identical content, so the load is not a no-op.
    fresh = parsers.Source("bench.csv", source.data + b"\n")
    floor = timed(lambda: sum(1 for _ in csv.reader(io.StringIO(source.text()))), 1)[0]
    start = time.perf_counter()
    try:
        with transaction.atomic():
            result = services.schedule_load_usitc(
                actor=None, source=fresh, revision="bench", effective_date=dt.date(1990, 1, 1)
            )
            elapsed = time.perf_counter() - start
            raise Rollback
    except Rollback:
        pass
    print(f"load {US_2026.name}: {result.rows:,} lines in {elapsed:.2f} s (target ≤ 15 s)")
    print(f"  floor: csv.reader over the same file {floor:.2f} s")


def ensure_loaded() -> None:
    if selectors.current_schedule("US") is None:
        services.schedule_load_usitc(
            actor=None,
            source=parsers.read_source(str(US_2026)),
            revision="2026 Rev 4",
            effective_date=dt.date(2026, 2, 20),
        )
    lists = selectors.current_lists("US")
    for name, kind in (
        ("us_cbp_hts_pga_report_2026-02-21.csv", ReferenceList.Kind.PGA),
        ("us_section301_china_product_lists_budgetlab_mit.csv", ReferenceList.Kind.SECTION301),
        ("us_section232_annex_products_budgetlab_mit.csv", ReferenceList.Kind.SECTION232),
    ):
        if kind not in lists:
            services.reference_list_load(
                actor=None, kind=kind, source=parsers.read_source(str(DATA / name))
            )


def bench_reference() -> None:
    reference.clear_cache()
    start = time.perf_counter()
    ref = reference.get_reference("US")
    print(f"reference build (cold, {ref.revision}): {time.perf_counter() - start:.2f} s")
    declarable = [line.code for line in ref.lines() if line.declarable]
    rng = random.Random(7)
    sample = [rng.choice(declarable) for _ in range(5000)]
    dotted = [f"{c[:4]}.{c[4:6]}.{c[6:8]}.{c[8:]}" for c in sample]
    services.code_validate(jurisdiction="US", code=dotted[0])  # warm-up
    it = iter(dotted * 2)
    validate = timed(lambda: services.code_validate(jurisdiction="US", code=next(it)), 5000)
    print(f"code_validate (warm, incl. get_reference cache check): {ms(validate)} (target ≤ 1 ms)")
    lines = iter(sample * 2)
    pure = timed(lambda: ref.line(next(lines)), 5000)
    codes = iter(sample * 3)
    duty = timed(
        lambda: ref.duty(
            next(codes),
            origin=rng.choice(["CN", "VN", "DE", "MX", "RU"]),
            customs_value=Decimal("10000"),
            currency="USD",
            quantity=Decimal("100"),
            quantity_unit="No.",
            net_weight_kg=Decimal("25"),
        ),
        5000,
    )
    print(f"duty estimate (warm): {ms(duty)} (target ≤ 1 ms)")
    print(f"  floor: Reference.line dict lookup {ms(pure)}")


def bench_search() -> None:
    ref = reference.get_reference("US")
    start = time.perf_counter()
    ref.search("warm up index")
    print(f"search index build (first query): {time.perf_counter() - start:.2f} s")
    memory = [t for q in QUERIES for t in timed(lambda q=q: ref.search(q, limit=10), 20)]
    print(
        f"Reference.search, two-word queries over the whole schedule: {ms(memory)} (target ≤ 50 ms)"
    )
    schedule = selectors.current_schedule("US")
    database = [
        t for q in QUERIES for t in timed(lambda q=q: selectors.search_lines(schedule, q), 5)
    ]
    print(f"  peer: PostgreSQL full-text search (web page selector): {ms(database)}")


if __name__ == "__main__":
    if not US_2026.exists():
        print(f"skipped: {US_2026} is absent (set WORKBENCH_TARIFF_DIR)")
        sys.exit(0)
    ensure_loaded()
    bench_load()
    bench_reference()
    bench_search()
