import io

import pytest
from openpyxl import load_workbook

from audit import renderers, selectors, services
from audit.xlsx import neutralise


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_is_neutralised(text):
    assert neutralise(text) == "'" + text


def test_plain_text_and_control_characters(text="plain \x01 text"):
    assert neutralise(text) == "plain \ufffd text"


def test_every_text_cell_of_an_export_workbook_is_text(cast, live):
    live.decisions[0]["product"]["sku"] = "=cmd|' /C calc'!A0"
    live.decisions[0]["review_actions"][0]["note"] = "+44 20 7946 0000"
    live.packs[0]["source"] += "-- a comment line\n=not a formula\n"
    export = services.export_request(actor=None, tenant=cast.tenant, scope={}, background=False)
    export = services.export_build(export_id=export.pk)
    buffer = io.BytesIO()
    renderers.render_xlsx(selectors.export_snapshot(export), export.sha256, buffer)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    cells = [c for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type in ("s", "n") for c in cells)
    texts = {c.value for c in cells if c.data_type == "s"}
    assert "'=cmd|' /C calc'!A0" in texts
    assert "'+44 20 7946 0000" in texts
    assert "'=not a formula" in texts and "'-- a comment line" in texts
    assert not any(t.startswith(("=", "+", "-", "@", "\t", "\r")) for t in texts)
    summary = dict(book["Summary"].iter_rows(values_only=True))
    assert summary["Snapshot SHA-256 (canonical JSON)"] == export.sha256
    assert summary["Decisions"] == 2
