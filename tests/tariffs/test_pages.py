import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tariffs import services
from tests.matrix import check_access_matrix
from tests.tariffs.conftest import REV_2025, REV_2026
from workbench.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db
READERS = {role for role, perms in ROLE_PERMISSIONS.items() if "read_tenant" in perms}
BASE = "/t/acme/tariffs/"


@pytest.mark.parametrize(
    "path",
    [
        "",
        "search/?q=lithium+ion+battery",
        "autocomplete/?field=code&code=lithium",
        "browse/",
        "browse/8507/",
        "lines/8507600030/",
        "duty/?code=6110.20.20.10&origin=VN&customs_value=10000&currency=USD",
        "diff/",
        "invalid-codes/",
    ],
)
def test_tariff_pages_follow_the_access_matrix(cast, us_both, path):
    check_access_matrix(cast, BASE + path, READERS)


def test_search_shows_battery_lines_with_rate_fda_flag_and_section_301(cast, us_small):
    response = cast.client("broker").get(BASE + "search/", {"q": "lithium ion battery"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "8507.60.00.30" in html and "8507.60.00.90" in html
    assert "3.4%" in html
    assert "Food and Drug Administration" in html and "FD1" in html
    assert "China origin: +25% Section 301" in html
    assert 'title="Section 301 (list biden_jan26, 9903.91.06)"' in html


def test_search_answers_htmx_with_the_results_fragment_only(cast, us_small):
    response = cast.client("analyst").get(
        BASE + "search/", {"q": "8507.60"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html and "8507.60.00.10" in html
    assert "HX-Request" in response["Vary"]


def test_search_for_nothing_found_says_so(cast, us_small):
    html = cast.client("analyst").get(BASE + "search/", {"q": "zeppelin"}).content.decode()
    assert "No line matches “zeppelin”" in html


def test_autocomplete_lists_declarable_codes_with_rate(cast, us_small):
    response = cast.client("analyst").get(BASE + "autocomplete/", {"field": "hs", "hs": "battery"})
    html = response.content.decode()
    assert 'role="option"' in html and 'data-code="8507.60.00.30"' in html
    assert "3.4%" in html
    assert 'data-code="8507.60.00"' not in html  # parents are not declarable


def test_autocomplete_fragment_is_a_plain_input_with_htmx(cast, us_small):
    html = cast.client("analyst").get(BASE).content.decode()
    assert 'role="combobox"' in html and 'name="q"' in html
    assert "/t/acme/tariffs/autocomplete/?field=q&amp;jurisdiction=US" in html
    assert "tariffs/autocomplete.js" in html and "<noscript>" in html


def test_duty_page_explains_vietnam_and_china_totals_differently(cast, us_small):
    client = cast.client("broker")
    params = {
        "code": "6110.20.20.10",
        "customs_value": "10000",
        "currency": "USD",
        "jurisdiction": "US",
    }
    vietnam = client.get(BASE + "duty/", {**params, "origin": "VN"}).content.decode()
    china = client.get(BASE + "duty/", {**params, "origin": "CN"}).content.decode()
    assert "1650.00 USD" in vietnam and "Section 301" not in vietnam
    assert (
        "4150.00 USD" in china and "Section 301 (list 3, 9903.88.03)" in china and "+25%" in china
    )
    assert "US 2026 Rev 4, 6110.20.20.10 (rate of 6110.20.20)" in china


def test_duty_page_refuses_bad_input_with_422_and_says_where(cast, us_small):
    response = cast.client("broker").get(
        BASE + "duty/",
        {"code": "6110.2X", "origin": "ZZ", "customs_value": "-1", "currency": "usd"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "is not" in html and "&#x27;ZZ&#x27; is not an ISO 3166 country code" in html


def test_duty_page_shows_no_total_when_a_line_is_not_computable(cast, us_small):
    html = (
        cast.client("broker")
        .get(
            BASE + "duty/",
            {"code": "2620992000", "origin": "VN", "customs_value": "100", "currency": "USD"},
        )
        .content.decode()
    )
    assert "no total" in html and "not computed" in html


def test_browse_walks_chapter_heading_and_national_lines(cast, us_small):
    client = cast.client("analyst")
    top = client.get(BASE + "browse/").content.decode()
    assert "/t/acme/tariffs/browse/85/" in top
    chapter = client.get(BASE + "browse/85/").content.decode()
    assert "/t/acme/tariffs/browse/8507/" in chapter
    heading = client.get(BASE + "browse/8507/").content.decode()
    assert "/t/acme/tariffs/browse/85076000/" in heading
    lines = client.get(BASE + "browse/85076000/").content.decode()
    assert "/t/acme/tariffs/lines/8507600030/" in lines and "FD1" in lines


def test_line_page_shows_rates_flags_and_validity(cast, us_small):
    html = cast.client("auditor").get(BASE + "lines/8507600030/").content.decode()
    assert "is a declarable line of US 2026 Rev 4" in html
    assert "Column 2 rate" in html and "40%" in html
    assert "Food and Drug Administration" in html


def test_unknown_line_is_404(cast, us_small):
    assert cast.client("analyst").get(BASE + "lines/9999999999/").status_code == 404


def test_diff_page_lists_added_removed_split_and_rerated(cast, us_both):
    html = cast.client("analyst").get(BASE + "diff/").content.decode()
    assert f"US {REV_2025} → {REV_2026}" in html
    assert "8507600020" in html  # split into .30 and .90
    assert "0409000000" in html  # removed
    assert "6.5%" in html and "6.8%" in html  # re-rated


def test_invalid_codes_page_lists_records_from_contributing_apps(cast, us_both, monkeypatch):
    config = apps.get_app_config("catalog")
    uses = [
        services.CodeUse("product", "SKU-1 Battery pack", "8507600020", "US"),
        services.CodeUse("product", "SKU-2 Sweater", "6110202010", "US"),
    ]
    monkeypatch.setattr(
        config, "tariff_code_uses", lambda tenant, jurisdiction: uses, raising=False
    )
    html = cast.client("analyst").get(BASE + "invalid-codes/").content.decode()
    assert "SKU-1 Battery pack" in html and "valid in US 2025 Rev 13" in html
    assert "SKU-2 Sweater" not in html


def test_dashboard_tile_shows_the_current_revision(cast, us_small):
    html = cast.client("analyst").get("/t/acme/").content.decode()
    assert "US tariff schedule" in html and REV_2026 in html


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured.captured_queries)


def test_search_and_browse_queries_do_not_grow_with_results(cast, us_small):
    client = cast.client("analyst")
    _queries(client, BASE + "search/", {"q": "8507"})  # warm the session and the reference cache
    one = _queries(client, BASE + "search/", {"q": "8471"})
    many = _queries(client, BASE + "search/", {"q": "8507"})
    assert one == many
    assert _queries(client, BASE + "browse/8471/") == _queries(client, BASE + "browse/85076000/")


def test_admin_lists_loads_read_only(admin_client, us_small):
    response = admin_client.get("/admin/tariffs/tariffschedule/")
    assert response.status_code == 200 and "2026 Rev 4" in response.content.decode()
    assert admin_client.get("/admin/tariffs/tariffschedule/add/").status_code == 403
