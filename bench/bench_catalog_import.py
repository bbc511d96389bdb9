"""Benchmark: import a realistic 100,000-row xlsx catalog end to end (file → rows committed).

Prints rows/s, peak memory, the floor measured in the same run and the ratio to it. Targets
(issue 3): end to end ≤ 10 s, ≤ 3× the floor, peak memory ≤ 500 MB.

The floor is what any loader of these rows must do, done the fastest way available: read the
file with python-calamine, COPY the rows into PostgreSQL and upsert them by SKU into a keyed
table. The issue puts the floor's database part at "COPY plus an upsert" (about 1.1 s on this
kind of machine); an import must upsert, since a catalog is re-imported. For reference the
script also prints a stricter floor, read + COPY into an unindexed temporary table with no
upsert, and the database's own share of an import: COPY of the same rows as products and
versions into the catalog tables, with their indexes and foreign-key checks (rolled back).

    DEBUG=1 .venv/bin/python bench/bench_catalog_import.py [--rows 100000] [--shared-strings]

The generated workbook holds its text inline (as openpyxl writes it); ``--shared-strings``
imports the same rows with their text in the shared-strings part, as Excel saves a workbook.
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DEBUG", "1")

HEADERS = [
    "Part Number",
    "Name",
    "Description",
    "COO",
    "Materials",
    "Intended Use",
    "Product Type",
    "Destination",
    "Unit Value",
    "Currency",
    "Qty",
    "UOM",
    "Net Weight (kg)",
    "Supplier",
    "HTS",
    "Notes",
]
KINDS = [
    (
        "AP",
        "T-shirt",
        "Knitted crew-neck T-shirt, short sleeves, {n} g/m2",
        "cotton; elastane",
        "Casual wear",
        "6109.10.0012",
    ),
    (
        "AP",
        "Jeans",
        "Five-pocket trousers of woven denim, {n} cm inseam",
        "cotton; polyester",
        "Casual wear",
        "6203.42.4011",
    ),
    (
        "EL",
        "Earbuds",
        "Bluetooth in-ear earphones with {n} mAh lithium-ion charging case",
        "plastic ABS; lithium-ion battery",
        "Listening to audio",
        "8518.30.2000",
    ),
    (
        "BT",
        "Power bank",
        "Portable lithium-ion power bank {n} mAh, USB-C",
        "lithium-ion cells; aluminium",
        "Charging phones",
        "8507.60.0020",
    ),
    (
        "KN",
        "Kitchen knife",
        "Kitchen knife with fixed stainless steel blade {n} mm",
        "stainless steel; polypropylene",
        "Food preparation",
        "",
    ),
    (
        "CS",
        "Face cream",
        "Moisturising skin-care cream, {n} ml jar",
        "water; glycerin",
        "Skin care",
        "3304.99.5000",
    ),
    (
        "TY",
        "Plush toy",
        "Stuffed toy of polyester plush, {n} cm",
        "polyester",
        "Toy for children aged 3+",
        "9503.00.0073",
    ),
    (
        "SU",
        "Vitamin D3",
        "Dietary supplement, {n} softgels of cholecalciferol",
        "cholecalciferol; olive oil; gelatin",
        "Dietary supplement",
        "",
    ),
]
ORIGINS = ["CN", "VN", "BD", "IN", "DE", "MX", "TR", "KR", "JP", "US"]


def generate(path: Path, rows: int) -> None:
    """Write a realistic catalog; about 1 % of rows carry a mistake an analyst would make."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    rnd = random.Random(42)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Products")
    ws.append(HEADERS)
    for i in range(rows):
        prefix, ptype, desc, materials, use, code = KINDS[i % len(KINDS)]
        n = rnd.randint(10, 5000)
        origin = rnd.choice(ORIGINS) if rnd.random() > 0.01 else "Chna"
        sku = WriteOnlyCell(ws, value=f"{prefix}-{i:07d}")
        sku.number_format = "@"
        hts = WriteOnlyCell(ws, value=code)
        hts.number_format = "@"
        ws.append(
            [
                sku,
                f"{ptype} model {n}",
                desc.format(n=n),
                origin,
                materials,
                use,
                ptype,
                "US",
                round(rnd.uniform(0.5, 400), 2),
                "USD",
                rnd.randint(1, 24),
                "pcs",
                round(rnd.uniform(0.01, 3), 3),
                f"Supplier {i % 300}",
                hts,
                "",
            ]
        )
    wb.save(path)


def shared_strings(source: Path, path: Path) -> None:
    """Rewrite ``source``'s inline strings as shared strings, the way Excel saves a workbook."""
    import re
    import zipfile

    sheet_path, index = "xl/worksheets/sheet1.xml", {}

    def shared(match) -> bytes:
        number = index.setdefault(match[3], len(index))
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (match[1], match[2], number)

    with zipfile.ZipFile(source) as zin:
        parts = {info.filename: zin.read(info.filename) for info in zin.infolist()}
    parts[sheet_path] = re.sub(
        rb'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t>(.*?)</t></is></c>',
        shared,
        parts[sheet_path],
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts["xl/sharedStrings.xml"] = (
        (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" uniqueCount="{len(index)}">'
        ).encode()
        + b"".join(b"<si><t>" + text + b"</t></si>" for text in index)
        + b"</sst>"
    )
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}"/></Types>'.encode(),
    )
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rIdStrings" Type="{rel}" Target="sharedStrings.xml"/>'
        "</Relationships>".encode(),
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)


def floor(path: Path, upsert: bool = False) -> int:
    """Read every row with calamine and COPY them into a temporary table; return the row count.

    With ``upsert`` (the floor), also upsert them by SKU into a temporary keyed table: the
    least a loader of a catalog that is imported again and again does.
    """
    from django.db import connection, transaction
    from python_calamine import CalamineWorkbook

    count = 0
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Products")
    with transaction.atomic(), connection.cursor() as cursor:
        cols = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
        cursor.execute(f"CREATE TEMP TABLE bench_floor ({cols}) ON COMMIT DROP")
        names = ", ".join(f"c{i}" for i in range(len(HEADERS)))
        with cursor.copy(f"COPY bench_floor ({names}) FROM STDIN") as copy:
            rows = sheet.iter_rows()
            next(rows)
            for cells in rows:
                copy.write_row([str(c) for c in cells])
                count += 1
        if upsert:
            cursor.execute(
                f"CREATE TEMP TABLE bench_floor_keyed (tenant_id int, {cols}, "
                "UNIQUE (tenant_id, c0)) ON COMMIT DROP"
            )
            updates = ", ".join(f"c{i} = EXCLUDED.c{i}" for i in range(1, len(HEADERS)))
            cursor.execute(
                f"INSERT INTO bench_floor_keyed (tenant_id, {names}) SELECT 1, {names} "
                f"FROM bench_floor ON CONFLICT (tenant_id, c0) DO UPDATE SET {updates}"
            )
    return count


def catalog_copy(path: Path, tenant) -> float:
    """Seconds to COPY the file's valid rows as products and versions into the real tables,
    with their indexes and foreign keys, then roll back: the database's share of an import."""
    from django.db import connection, transaction

    from catalog import importer

    with path.open("rb") as fileobj:
        rows = []
        importer.read_catalog(fileobj, path.name, sink=rows.append)
    started = 0.0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('catalog_product', 'id')), "
                "nextval(pg_get_serial_sequence('catalog_productversion', 'id')), now() "
                "FROM generate_series(1, %s)",
                [len(rows)],
            )
            ids = cursor.fetchall()
            started = time.perf_counter()
            with cursor.copy(
                "COPY catalog_product (id, tenant_id, sku, current_version_id, name, description, "
                "destination, country_of_origin, classification_status, final_code, created_at, "
                "updated_at) FROM STDIN"
            ) as copy:
                for row, (pid, vid, now) in zip(rows, ids, strict=True):
                    copy.write_row((pid, tenant.pk, row.sku, vid, *row[4:], "", "", now, now))
            with cursor.copy(
                "COPY catalog_productversion (id, product_id, n, facts, sha256, created_at) "
                "FROM STDIN"
            ) as copy:
                for row, (pid, vid, now) in zip(rows, ids, strict=True):
                    copy.write_row((vid, pid, 1, row.json, row.sha256, now))
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def reset_tenant(slug: str):
    from django.db import connection

    from workbench import services
    from workbench.models import Tenant

    tenant = Tenant.objects.filter(slug=slug).first() or services.tenant_create(
        actor=None, slug=slug, name="Catalog benchmark"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_product SET current_version_id = NULL WHERE tenant_id = %s", [tenant.pk]
        )
        cursor.execute(
            "DELETE FROM catalog_productversion WHERE product_id IN "
            "(SELECT id FROM catalog_product WHERE tenant_id = %s)",
            [tenant.pk],
        )
        cursor.execute("DELETE FROM catalog_product WHERE tenant_id = %s", [tenant.pk])
        # Each round's first import should meet the tables as a tenant's first import does, not
        # with the previous round's 100k dead rows still in every index.
        cursor.execute("VACUUM catalog_product, catalog_productversion")
    return tenant


def import_once(tenant, path: Path):
    from catalog import services

    return services.import_batch_from_path(actor=None, tenant=tenant, path=path, source="cli")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--generate-only", type=Path)
    parser.add_argument(
        "--shared-strings",
        action="store_true",
        help="import the same catalog with its text as shared strings, as Excel saves it",
    )
    parser.add_argument("--rewrite-only", type=Path, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.generate_only, args.rows)
        return
    if args.rewrite_only:
        shared_strings(*args.rewrite_only)
        return
    path = ROOT / "var" / "bench" / f"catalog-{args.rows}.xlsx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} …", flush=True)
        # In a child process, so that peak memory below is the import's alone.
        subprocess.run(
            [sys.executable, __file__, "--rows", str(args.rows), "--generate-only", str(path)],
            check=True,
        )

    if args.shared_strings:
        inline, path = path, path.with_name(f"catalog-{args.rows}-shared-strings.xlsx")
        if not path.exists():
            print(f"rewriting as {path.name} …", flush=True)
            subprocess.run(
                [sys.executable, __file__, "--rewrite-only", str(inline), str(path)], check=True
            )

    import django

    django.setup()
    # The machine is shared: alternate floor and import runs and keep the best of each, so that
    # a burst of someone else's load does not land on one side of the ratio only.
    floors, upserts, firsts, agains = [], [], [], []
    for _ in range(args.rounds):
        floors.append(timed(floor, path))
        upserts.append(timed(floor, path, True))
        tenant = reset_tenant("bench-catalog")
        firsts.append(timed(import_once, tenant, path))
        agains.append(timed(import_once, tenant, path))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The child processes that parse the workbook (catalog.sheetproc), the biggest of them.
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    # Measured after peak memory: it holds every row at once, which the import does not.
    copy_s = min(catalog_copy(path, reset_tenant("bench-catalog")) for _ in range(args.rounds))
    floor_s, floor_cpu, _ = min(floors)
    upsert_s, upsert_cpu, _ = min(upserts)
    first_s, first_cpu, batch = min(firsts, key=lambda t: t[0])
    again_s, again_cpu, again = min(agains, key=lambda t: t[0])
    rows = batch.total_rows
    print(
        f"file: {path.name}, {path.stat().st_size / 1048576:.1f} MB, {rows:,} rows; "
        f"best of {args.rounds} rounds; load average now {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(
        f"first import (all new): {first_s:.2f} s, {rows / first_s:,.0f} rows/s "
        f"(client CPU {first_cpu:.2f} s) — {batch.new_count:,} new, "
        f"{batch.refused_count:,} refused"
    )
    print(
        f"re-import (unchanged):  {again_s:.2f} s, {rows / again_s:,.0f} rows/s "
        f"(client CPU {again_cpu:.2f} s) — {again.unchanged_count:,} unchanged"
    )
    print(
        f"floor (calamine read + COPY + upsert by SKU into a keyed table): {upsert_s:.2f} s "
        f"(client CPU {upsert_cpu:.2f} s); ratio {first_s / upsert_s:.2f}×"
    )
    print(
        f"for reference, a stricter floor (read + COPY into an unindexed temporary table, no "
        f"upsert): {floor_s:.2f} s (client CPU {floor_cpu:.2f} s); ratio {first_s / floor_s:.2f}×"
    )
    print(
        f"targets: ≤ 3× the floor {'met' if first_s <= 3 * upsert_s else 'MISSED'}; "
        f"end to end ≤ 10 s {'met' if first_s <= 10 else 'MISSED'}; "
        f"peak memory ≤ 500 MB {'met' if peak_mb <= 500 else 'MISSED'}"
    )
    print(
        f"peak memory: {peak_mb:.0f} MB (target ≤ 500 MB); sheet-reading child: {child_mb:.0f} MB"
    )
    print(
        f"for reference: COPY of the same rows as products and versions into the catalog tables "
        f"(indexes, foreign keys checked, rolled back): {copy_s:.2f} s"
    )


def timed(func, *args):
    """Return ``(wall seconds, this process's CPU seconds, result)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, result


if __name__ == "__main__":
    main()
