"""In the browser: upload a file with one bad row, see the summary, download the refused rows."""

import io

import pytest
from openpyxl import load_workbook

from tests.catalog.conftest import row, xlsx_bytes
from workbench.roles import Role


@pytest.mark.browser
def test_an_analyst_uploads_a_catalog_and_downloads_the_refused_row(
    cast, live_server, page, tmp_path
):
    path = tmp_path / "spring-catalog.xlsx"
    path.write_bytes(
        xlsx_bytes([row("A-1"), row("B-2", **{"Country of origin": "Chna"}), row("C-3")])
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", cast.users[Role.ANALYST].username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/t/acme/catalog/import/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_selector("text=Import finished")
    assert page.inner_text('[data-count="new"]') == "2"
    assert page.inner_text('[data-count="refused"]') == "1"
    assert "row 3, Country of origin: 'Chna' is not an ISO 3166 country code" in page.content()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the refused rows (.xlsx)").click()
    target = tmp_path / "refused.xlsx"
    download_info.value.save_as(target)
    sheet = load_workbook(io.BytesIO(target.read_bytes())).active
    assert sheet.cell(row=2, column=1).value == "B-2"
    assert "Chna" in sheet.cell(row=2, column=len(row()) + 1).value
    page.goto(f"{live_server.url}/t/acme/catalog/?q=A-1")
    assert page.locator("tbody tr").count() == 1
    assert page.locator("tbody code").first.inner_text() == "A-1"
