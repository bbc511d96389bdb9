"""The import pipeline's pure half: map headers, validate every row, refuse the file or not.

No ORM here: ``read_catalog`` turns a file object into valid rows (canonical facts JSON,
SHA-256) and refused rows (cells and reasons), or raises ``FileRefused``. Rows are checked a
thousand at a time, column by column (``facts.RowChecker``); ``facts.validate_row`` gives the
reasons for the rows it refuses. Valid rows may go to a sink while reading goes on: a file-level
refusal found later must then roll back what the sink wrote (``catalog.services`` does).
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple

from django.conf import settings

from catalog import facts as F
from catalog.reader import FileRefused, Limits, column_letter, open_table

PROGRESS_EVERY = 5000
# Rows checked together, column by column (``facts.RowChecker``).
CHECK_ROWS = 1000
# The facts a product row keeps beside its current version, in ValidRow's order.
_PRODUCT_FACTS = ("name", "description", "destination", "country_of_origin")


class ValidRow(NamedTuple):
    """A row that passed: its canonical facts JSON, that JSON's SHA-256, and the facts a
    product row keeps beside its current version (for lists and filters)."""

    row: int
    sku: str
    json: str
    sha256: str
    name: str
    description: str
    destination: str
    country_of_origin: str


@dataclass
class ReadResult:
    sheet: str
    headers: list[str]
    ignored_columns: list[str]
    # Valid rows, unless the caller took them as they were read (``read_catalog(sink=...)``).
    valid: list[ValidRow] = field(default_factory=list)
    valid_count: int = 0
    # {"row": n, "values": [cell text...], "errors": [{"column": header, "message": ...}]}
    refused: list[dict] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return self.valid_count + len(self.refused)


def default_limits() -> Limits:
    """Return the upload limits configured in settings."""
    return Limits(
        max_bytes=settings.UPLOAD_MAX_BYTES,
        max_rows=settings.IMPORT_MAX_ROWS,
        max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
        max_compression_ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
        max_reader_mb=settings.IMPORT_READER_MAX_MB,
    )


def map_headers(headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """Return ``({fact key: column index}, ignored headers)`` or raise ``FileRefused``."""
    columns: dict[str, int] = {}
    ignored = []
    for index, header in enumerate(headers):
        key = F.field_for_header(header)
        if key is None:
            if header:
                ignored.append(header)
            continue
        if key in columns:
            first = columns[key]
            raise FileRefused(
                f"Columns {column_letter(first)} '{headers[first]}' and {column_letter(index)} "
                f"'{header}' both mean {F.LABELS[key]}; keep only one of them."
            )
        columns[key] = index
    missing = [F.LABELS[k] for k in F.REQUIRED if k not in columns]
    if missing:
        found = ", ".join(f"'{h}'" for h in headers if h) or "none"
        raise FileRefused(
            f"Required columns are missing: {', '.join(missing)}. Columns found: {found}. "
            "Download the template to see the accepted headers."
        )
    return columns, ignored


def column_name(header: str, key: str) -> str:
    """Return how a message names a column: its header, plus the fact it means if different."""
    label = F.LABELS[key]
    if F.normalise_header(header) == F.normalise_header(label):
        return header
    return f"{header} ({label})"


def _cell_text(value) -> str:
    return F._text(value) if value is not None else ""


def read_catalog(
    fileobj,
    filename: str,
    limits: Limits | None = None,
    progress: Callable | None = None,
    sink: Callable[[ValidRow], None] | None = None,
) -> ReadResult:
    """Read and validate a whole catalog file; raise ``FileRefused`` for a file-level problem.

    Valid rows go to ``sink`` as they are read (each SKU once), else into ``result.valid``. A
    ``FileRefused`` may come after rows went to the sink: the caller must then discard them.
    ``progress(done, estimate)`` is called every few thousand rows.
    """
    table = open_table(fileobj, filename, limits or default_limits())
    columns, ignored = map_headers(table.headers)
    result = ReadResult(table.sheet, table.headers, ignored)
    seen_skus: dict[str, int] = {}
    duplicates: list[str] = []
    label_of = {key: column_name(table.headers[index], key) for key, index in columns.items()}
    items = list(columns.items())
    width = max(columns.values()) + 1
    checker = F.RowChecker(columns)
    sha256, keep, problems = hashlib.sha256, sink or result.valid.append, table.formula_problems
    accepted = count = 0
    # These loops run once per row of files of 100k rows or more: keep them lean.
    for chunk in _chunks(table.rows, CHECK_ROWS):
        padded = [
            cells if len(cells) >= width else list(cells) + [None] * (width - len(cells))
            for _, cells in chunk
        ]
        for (number, _), cells, checked in zip(chunk, padded, checker.check(padded), strict=True):
            count += 1
            if checked is not None:
                text, sku = checked[0], checked[1]
                errors = []
            else:  # refused: validate_row says why (and, should it accept, that stands)
                facts, errors = F.validate_row({key: cells[index] for key, index in items})
                sku = facts["sku"] if facts is not None else _cell_text(cells[columns["sku"]])
                if facts is not None:
                    text = F.facts_json(facts)
                    checked = (text, sku, *(facts[key] for key in _PRODUCT_FACTS))
            repeated = False
            if sku:
                first = seen_skus.setdefault(sku, number)
                if first != number:
                    repeated = True  # the file will be refused; the sink sees each SKU once
                    if len(duplicates) < 5:
                        duplicates.append(f"'{sku}' on rows {first} and {number}")
            cell_errors = _formula_errors(problems, number, columns) if problems else []
            if checked is not None and not cell_errors:
                accepted += 1
                if not repeated:
                    digest = sha256(text.encode()).hexdigest()
                    keep(ValidRow(number, sku, text, digest, *checked[2:]))
            else:
                failed = {e["field"] for e in cell_errors}
                errors = cell_errors + [
                    {"field": e.field, "message": e.message}
                    for e in errors
                    if e.field not in failed
                ]
                result.refused.append(
                    _refused_row(number, cells, len(table.headers), errors, label_of)
                )
            if progress and count % PROGRESS_EVERY == 0:
                progress(count, table.estimate())
    result.valid_count = accepted
    if duplicates:
        raise FileRefused(
            "Each SKU may appear only once in a file. Duplicate SKU "
            + "; ".join(duplicates)
            + (" (and more)" if len(duplicates) == 5 else "")
            + "."
        )
    if not result.total_rows:
        raise FileRefused(
            f"The sheet '{table.sheet}' in '{filename}' has a header row but no product rows."
        )
    return result


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _formula_errors(problems: dict, number: int, columns: dict) -> list[dict]:
    return [
        {"field": key, "message": problems[(number, index)]}
        for key, index in columns.items()
        if (number, index) in problems
    ]


def _refused_row(number: int, cells, width: int, errors: list[dict], label_of: dict) -> dict:
    values = [_cell_text(c) for c in list(cells)[:width]]
    values += [""] * (width - len(values))
    return {
        "row": number,
        "values": values,
        "errors": [
            {
                "column": label_of.get(e["field"], F.LABELS.get(e["field"], e["field"])),
                "message": e["message"],
            }
            for e in errors
        ],
    }


def row_error_lines(refused: list[dict]) -> list[str]:
    """Return one line per refused cell: ``row 14, Country of origin: 'Chna' is not…``."""
    return [f"row {r['row']}, {e['column']}: {e['message']}" for r in refused for e in r["errors"]]
