"""The usage page and its downloads (tenant admins), and every tenant's usage (operators)."""

import csv
import datetime as dt
import io

from django.urls import reverse
from openpyxl import load_workbook

from metering import counters, selectors
from metering.models import UsageCounter
from tests.factories import UserFactory
from tests.matrix import check_access_matrix
from workbench.roles import ROLE_PERMISSIONS, Role

ADMINS = {role for role, perms in ROLE_PERMISSIONS.items() if "manage_members" in perms}


def _count(tenant, month, metric, value):
    UsageCounter.objects.create(tenant=tenant, month=month, metric=metric, value=value)


def _months():
    this = selectors.current_month()
    return this, selectors.months_back(this, 2)[1]


def test_the_usage_page_matrix(cast):
    check_access_matrix(cast, reverse("usage", args=["acme"]), ADMINS)


def test_the_download_matrix(cast):
    for fmt in ("csv", "xlsx"):
        check_access_matrix(cast, reverse("usage_download", args=["acme", fmt]), ADMINS)


def test_the_page_shows_this_and_last_months_usage_of_this_tenant_only(cast):
    this, last = _months()
    _count(cast.tenant, this, counters.API_CALLS, 1234)
    _count(cast.tenant, last, counters.decisions("blocked"), 7)
    _count(cast.tenant, this, counters.EVIDENCE_BYTES, 3 * 1024 * 1024)
    _count(cast.other_tenant, this, counters.API_CALLS, 999_999)
    _count(cast.tenant, this, counters.IMPORT_MS, 55_555)  # for operators, not shown
    response = cast.client(Role.TENANT_ADMIN).get(reverse("usage", args=["acme"]))
    assert response.status_code == 200
    rows = {row.metric: row.values for row in response.context["rows"]}
    assert rows[counters.API_CALLS][:2] == [1234, 0]
    assert rows[counters.decisions("blocked")][:2] == [0, 7]
    assert counters.IMPORT_MS not in rows
    html = response.content.decode()
    assert "1234" in html and "3.0\xa0MB" in html and "999999" not in html
    assert response.context["months"][0] == this and len(response.context["months"]) == 12


def test_the_page_reads_the_rollup_in_a_few_queries(cast, django_assert_max_num_queries):
    client = cast.client(Role.TENANT_ADMIN)
    client.get(reverse("usage", args=["acme"]))
    # 8 before notifications; one more for the unread count in the top bar.
    with django_assert_max_num_queries(9):
        assert client.get(reverse("usage", args=["acme"])).status_code == 200


def test_the_csv_download_has_one_row_per_month_and_metric(cast):
    this, last = _months()
    _count(cast.tenant, this, counters.PRODUCTS_IMPORTED, 40)
    _count(cast.tenant, last, counters.PRODUCTS_IMPORTED, 2)
    _count(cast.tenant, last, counters.API_CALLS, 5)
    _count(cast.tenant, last, counters.JOBS_DEAD, 1)  # operators' figure: not usage
    _count(cast.other_tenant, this, counters.API_CALLS, 77)
    response = cast.client(Role.TENANT_ADMIN).get(reverse("usage_download", args=["acme", "csv"]))
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="usage-acme-{this:%Y-%m}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["month", "metric", "label", "unit", "value"]
    assert [(r[0], r[1], r[4]) for r in rows[1:]] == [
        (f"{this:%Y-%m}", counters.PRODUCTS_IMPORTED, "40"),
        (f"{last:%Y-%m}", counters.PRODUCTS_IMPORTED, "2"),
        (f"{last:%Y-%m}", counters.API_CALLS, "5"),
    ]


def test_the_xlsx_download_holds_the_same_rows_with_numbers_as_numbers(cast):
    this, _ = _months()
    _count(cast.tenant, this, counters.UPLOAD_BYTES, 123_456)
    response = cast.client(Role.TENANT_ADMIN).get(reverse("usage_download", args=["acme", "xlsx"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("month", "metric", "label", "unit", "value")
    assert values[1] == (f"{this:%Y-%m}", "upload_bytes", "Catalog files uploaded", "bytes", 123456)


def test_an_unknown_download_format_is_not_found(cast):
    client = cast.client(Role.TENANT_ADMIN)
    assert client.get(reverse("usage_download", args=["acme", "pdf"])).status_code == 404


def test_operators_see_every_tenants_month_and_others_are_refused(cast, client):
    this, last = _months()
    _count(cast.tenant, last, counters.API_CALLS, 11)
    _count(cast.other_tenant, last, counters.API_CALLS, 22)
    _count(cast.other_tenant, this, counters.API_CALLS, 33)
    url = reverse("operators_usage")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert cast.client(Role.TENANT_ADMIN).get(url).status_code == 403
    client.force_login(UserFactory(username="operator", is_staff=True))
    response = client.get(url, {"month": f"{last:%Y-%m}"})
    assert response.status_code == 200
    column = counters.USAGE_METRICS.index(counters.API_CALLS)
    shown = {t.slug: values[column][0] for t, values in response.context["tenants"]}
    assert shown == {"acme": 11, "globex": 22}


def test_operators_asking_for_a_month_that_is_not_one_are_told_the_format(cast, client):
    client.force_login(UserFactory(username="operator", is_staff=True))
    response = client.get(reverse("operators_usage"), {"month": "May"})
    assert response.status_code == 400
    assert "use YYYY-MM" in response.content.decode()


def test_months_back_crosses_the_year():
    assert selectors.months_back(dt.date(2026, 2, 1), 3) == [
        dt.date(2026, 2, 1),
        dt.date(2026, 1, 1),
        dt.date(2025, 12, 1),
    ]
