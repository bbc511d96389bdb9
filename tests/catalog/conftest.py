"""Catalog test helpers: build small xlsx/csv files in memory and import them."""

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook

from catalog import services
from workbench.roles import Role

HEADERS = [
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
    "Declared code",
]


def row(sku="SKU-1", **overrides) -> list:
    """Return one valid product row in HEADERS order, with overrides by header."""
    values = {
        "SKU": sku,
        "Name": f"Cotton T-shirt {sku}",
        "Description": "Men's knitted cotton T-shirt, short sleeves",
        "Country of origin": "BD",
        "Materials": "cotton; elastane",
        "Intended use": "Casual wear",
        "Product type": "T-shirt",
        "Destination": "US",
        "Customs value": "4.80",
        "Currency": "USD",
        "Declared code": "6109.10.0012",
    }
    values.update(overrides)
    return [values[h] for h in HEADERS]


def xlsx_bytes(rows, headers=HEADERS, sheet="Products", text_columns=("SKU", "Declared code")):
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    if headers is not None:
        ws.append(list(headers))
    for values in rows:
        ws.append(list(values))
    if headers is not None:
        for index, header in enumerate(headers, start=1):
            if header in text_columns:
                for cell in ws.iter_cols(min_col=index, max_col=index, min_row=2):
                    for c in cell:
                        if isinstance(c.value, str):
                            c.number_format = "@"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def rezip(content: bytes, replace: dict | None = None, add: dict | None = None) -> bytes:
    """Return a copy of a zip with some members replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if replace and info.filename in replace:
                data = replace[info.filename](data)
            target.writestr(info.filename, data)
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def csv_bytes(rows, headers=HEADERS, delimiter=",", bom=False, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    if headers is not None:
        writer.writerow(headers)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


@pytest.fixture
def run_import(cast):
    """Import bytes as the tenant's analyst (inline); return the finished batch."""

    def run(content: bytes, filename: str = "catalog.xlsx", tenant=None, role=Role.ANALYST):
        return services.import_batch_start(
            actor=cast.users[role],
            tenant=tenant or cast.tenant,
            fileobj=io.BytesIO(content),
            filename=filename,
            background=False,
        )

    return run
