"""Workbooks the catalog writes: the import template and a batch's refused rows.

Every cell written from user data is forced to text, so a value such as ``=HYPERLINK(…)`` can
never become a live formula in the analyst's Excel (spreadsheet injection).
"""

import io

import pycountry
from django.conf import settings
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from catalog import facts as F

TEXT = "@"
HEADER_FONT = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
TEMPLATE_ROWS = 2000
EXAMPLE = {
    "sku": "TS-1001-BLK-M",
    "name": "Men's crew-neck T-shirt",
    "description": "Men's short-sleeve crew-neck T-shirt, knitted single jersey, 180 g/m²",
    "country_of_origin": "BD",
    "materials": "cotton 95%; elastane 5%",
    "intended_use": "Casual wear for adults",
    "product_type": "T-shirt",
    "destination": "US",
    "customs_value": "4.80",
    "currency": "USD",
    "quantity": "1",
    "quantity_unit": "pcs",
    "net_weight_kg": "0.18",
    "supplier": "Dhaka Knitwear Ltd",
    "declared_code": "6109.10.0012",
    "notes": "",
}


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_workbook() -> bytes:
    """Return the import template: headers, an instructions sheet, and validation lists."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Products"
    lists = wb.create_sheet("Lists")
    lists.sheet_state = "hidden"
    countries = sorted({c.alpha_2 for c in pycountry.countries} | {"XK"})
    currencies = sorted(c.alpha_3 for c in pycountry.currencies)
    lists.append(["Country", "Currency"])
    for i in range(max(len(countries), len(currencies))):
        lists.append(
            [
                countries[i] if i < len(countries) else None,
                currencies[i] if i < len(currencies) else None,
            ]
        )
    for col, key in enumerate(F.FACT_KEYS, start=1):
        cell = ws.cell(row=1, column=col, value=F.LABELS[key])
        cell.font = HEADER_FONT
        if key in F.REQUIRED:
            cell.fill = REQUIRED_FILL
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = max(14, len(F.LABELS[key]) + 4)
        if key in F.CODE_FIELDS:
            ws.column_dimensions[letter].number_format = TEXT
            for row in range(2, TEMPLATE_ROWS + 2):
                ws.cell(row=row, column=col).number_format = TEXT
    ws.freeze_panes = "A2"
    rng = f"2:{TEMPLATE_ROWS + 1}"
    _validation(ws, "country_of_origin", f"=Lists!$A$2:$A${len(countries) + 1}", rng)
    _validation(ws, "currency", f"=Lists!$B$2:$B${len(currencies) + 1}", rng)
    _validation(ws, "destination", '"' + ",".join(settings.JURISDICTIONS) + '"', rng)
    _instructions(wb.create_sheet("Instructions", 1))
    return _save(wb)


def _validation(ws, key: str, formula: str, rows: str) -> None:
    letter = get_column_letter(F.FACT_KEYS.index(key) + 1)
    first, last = rows.split(":")
    dv = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True)
    dv.error = f"Choose a value from the list for {F.LABELS[key]}."
    dv.add(f"{letter}{first}:{letter}{last}")
    ws.add_data_validation(dv)


def _instructions(ws) -> None:
    ws.append(["How to fill in the Products sheet"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(
        [
            "One product per row. Rows missing a required column are refused and listed "
            "with the reason; the other rows are imported. Re-importing a SKU with changed "
            "facts records a new version; identical facts change nothing."
        ]
    )
    ws.append(
        [
            "Keep SKU and Declared code formatted as text: a code typed as a number loses "
            "its leading zeros (0901.21 becomes 90121)."
        ]
    )
    ws.append([])
    ws.append(["Column", "Required", "What to enter", "Example", "Also accepted as header"])
    for cell in ws[5]:
        cell.font = HEADER_FONT
    aliases: dict[str, list[str]] = {}
    for alias, key in F.HEADER_ALIASES.items():
        aliases.setdefault(key, []).append(alias)
    for key in F.FACT_KEYS:
        ws.append(
            [
                F.LABELS[key],
                "yes" if key in F.REQUIRED else "no",
                F.HELP[key],
                EXAMPLE[key],
                ", ".join(aliases.get(key, [])),
            ]
        )
    for letter, width in zip("ABCDE", (20, 10, 70, 36, 60), strict=True):
        ws.column_dimensions[letter].width = width


def refused_workbook(batch) -> bytes:
    """Return a batch's refused rows as the original columns plus an Errors column."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Products")
    headers = list(batch.headers)
    code_columns = {i for i, h in enumerate(headers) if F.field_for_header(h) in F.CODE_FIELDS}
    ws.append([_text_cell(ws, h, bold=True) for h in [*headers, "Errors", "Row in original file"]])
    for refused in batch.refused_rows:
        errors = "; ".join(f"{e['column']}: {e['message']}" for e in refused["errors"])
        cells = [
            _text_cell(ws, value, code=i in code_columns)
            for i, value in enumerate(refused["values"])
        ]
        ws.append([*cells, _text_cell(ws, errors), refused["row"]])
    return _save(wb)


def _text_cell(ws, value, *, bold: bool = False, code: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value="" if value is None else str(value))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    if bold:
        cell.font = HEADER_FONT
    if code:
        cell.number_format = TEXT
    return cell
