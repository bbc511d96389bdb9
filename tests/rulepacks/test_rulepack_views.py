"""Rule-pack pages: the URL × actor matrix and what a compliance lead sees at each step."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rulepacks.models import RulePack
from tests.matrix import check_access_matrix
from tests.rulepacks.conftest import cases_toml, real_pack_source
from workbench.roles import ROLE_PERMISSIONS, Role

pytestmark = pytest.mark.django_db

READERS = {r for r, perms in ROLE_PERMISSIONS.items() if "read_tenant" in perms}
AUTHORS = {Role.COMPLIANCE_LEAD}


def url(name, **kwargs):
    return reverse(f"rulepacks:{name}", kwargs={"tenant_slug": "acme", **kwargs})


@pytest.mark.parametrize(
    ("name", "allowed"),
    [("list", READERS), ("new", AUTHORS), ("cases_template", READERS)],
)
def test_tenant_pages_require_their_permission(cast, us_schedule, name, allowed):
    check_access_matrix(cast, url(name), allowed)


@pytest.mark.parametrize(
    ("name", "allowed", "method", "ok"),
    [
        ("detail", READERS, "get", (200,)),
        ("source", READERS, "get", (200,)),
        ("backtest", READERS, "get", (200,)),
        ("edit", AUTHORS, "get", (200,)),
        ("diff", AUTHORS, "get", (200,)),
        ("activate", AUTHORS, "get", (200,)),
        ("validate", AUTHORS, "post", (302,)),
        ("backtest_run", AUTHORS, "post", (302,)),
        ("cases", AUTHORS, "post", (302,)),
        ("discard", AUTHORS, "post", (302,)),
    ],
)
def test_pack_pages_require_their_permission(make_pack, cast, name, allowed, method, ok):
    pack = make_pack()
    check_access_matrix(cast, url(name, pk=pack.pk), allowed, method=method, ok=ok)


def test_another_tenants_pack_is_404_even_for_its_compliance_lead(make_pack, cast):
    other = make_pack(tenant=cast.other_tenant)
    client = cast.client(Role.COMPLIANCE_LEAD)
    assert client.get(url("detail", pk=other.pk)).status_code == 404
    assert client.post(url("validate", pk=other.pk)).status_code == 404


def test_a_lead_uploads_a_draft_sees_the_failing_gate_fixes_it_and_activates(cast, us_schedule):
    client = cast.client(Role.COMPLIANCE_LEAD)
    broken = real_pack_source().replace("confidence = 0.9\n", "confidence = 1.4\n", 1)
    upload = SimpleUploadedFile("pack.toml", broken.encode())
    response = client.post(url("new"), {"jurisdiction": "US", "file": upload})
    pack = RulePack.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", pk=pack.pk)

    client.post(url("validate", pk=pack.pk))
    page = client.get(url("detail", pk=pack.pk)).content.decode()
    line = broken.splitlines().index("confidence = 1.4") + 1
    assert (
        f'<a href="#L{line}">line {line}</a>: rule &quot;knit-sweater&quot;: confidence 1.4' in page
    )
    assert f'<li id="L{line}" class="problem">' in page

    response = client.post(url("edit", pk=pack.pk), {"source": real_pack_source()})
    assert response.status_code == 302
    client.post(
        url("cases", pk=pack.pk), {"file": SimpleUploadedFile("cases.toml", cases_toml(12))}
    )
    client.post(url("validate", pk=pack.pk))
    pack.refresh_from_db()
    assert pack.status == "validated"
    response = client.post(url("backtest_run", pk=pack.pk))
    assert response["Location"] == url("backtest", pk=pack.pk)
    report_page = client.get(url("backtest", pk=pack.pk)).content.decode()
    assert "Per-rule precision" in report_page and "cotton-tee" in report_page

    diff = client.get(url("diff", pk=pack.pk)).content.decode()
    assert "against no active pack" in diff

    confirm = client.get(url("activate", pk=pack.pk)).content.decode()
    assert pack.short_hash in confirm and "cannot be activated yet" not in confirm
    response = client.post(url("activate", pk=pack.pk), {"confirm": "wrong"})
    assert response.status_code == 422
    response = client.post(url("activate", pk=pack.pk), {"confirm": pack.short_hash})
    pack.refresh_from_db()
    assert response.status_code == 302 and pack.status == "active"
    listing = client.get(url("list")).content.decode()
    assert pack.short_hash in listing and "Active" in listing


def test_an_active_pack_is_read_only_in_the_editor(make_pack, cast):
    pack = make_pack(stage="active")
    client = cast.client(Role.COMPLIANCE_LEAD)
    response = client.post(url("edit", pk=pack.pk), {"source": "[pack]\n"}, follow=True)
    assert "This pack is active and read-only." in response.content.decode()
    pack.refresh_from_db()
    assert pack.source == real_pack_source()


def test_a_bad_backtest_upload_shows_where_and_stores_nothing(make_pack, cast):
    pack = make_pack()
    client = cast.client(Role.COMPLIANCE_LEAD)
    bad = SimpleUploadedFile(
        "cases.toml", b'[[cases]]\nid = "x"\ncode = "12"\n[cases.facts]\nfoo = 1\n'
    )
    page = client.post(url("cases", pk=pack.pk), {"file": bad}, follow=True).content.decode()
    assert "cases.toml: line 1: unknown facts foo" in page
    pack.refresh_from_db()
    assert pack.backtest_cases == []


def test_the_list_page_query_count_does_not_grow_with_packs(make_pack, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = cast.client(Role.AUDITOR)

    def count():
        with CaptureQueriesContext(connection) as context:
            assert client.get(url("list")).status_code == 200
        return len(context)

    make_pack()
    one = count()
    for version in range(2, 5):
        make_pack(real_pack_source().replace('version = "1"', f'version = "{version}"'))
    assert count() == one


def test_the_source_download_is_byte_exact_with_its_hash(make_pack, cast):
    pack = make_pack()
    response = cast.client(Role.AUDITOR).get(url("source", pk=pack.pk))
    assert response.content.decode() == pack.source
    assert response["X-Content-SHA256"] == pack.sha256


def test_check_syntax_pinpoints_problems_without_saving(cast, us_schedule):
    check_access_matrix(cast, url("check"), AUTHORS, method="post", data={"source": "x"})
    client = cast.client(Role.COMPLIANCE_LEAD)
    broken = real_pack_source().replace("confidence = 0.9\n", "confidence = 1.4\n", 1)
    line = broken.splitlines().index("confidence = 1.4") + 1
    fragment = client.post(url("check"), {"source": broken}, headers={"HX-Request": "true"})
    text = fragment.content.decode()
    assert f"line {line}: rule &quot;knit-sweater&quot;: confidence 1.4 is above 1" in text
    assert "<html" not in text and "HX-Request" in fragment["Vary"]
    page = client.post(url("check"), {"source": real_pack_source()}).content.decode()
    assert "Syntax and schema are fine: 7 rules, 10 golden cases." in page
    assert f'action="{url("new")}"' in page
    assert not RulePack.objects.exists()


def test_a_new_draft_starts_from_a_skeleton_or_from_another_pack(make_pack, cast):
    client = cast.client(Role.COMPLIANCE_LEAD)
    page = client.get(url("new") + "?jurisdiction=GB").content.decode()
    assert "denied = []" in page and "jurisdiction = &quot;GB&quot;" in page
    pack = make_pack()
    page = client.get(url("new") + f"?from={pack.pk}").content.decode()
    assert "cotton-tee" in page


def test_a_draft_can_be_discarded_but_an_active_pack_cannot(make_pack, cast):
    from audit.models import AuditEvent

    client = cast.client(Role.COMPLIANCE_LEAD)
    draft = make_pack()
    assert client.post(url("discard", pk=draft.pk))["Location"] == url("list")
    assert not RulePack.objects.filter(pk=draft.pk).exists()
    assert AuditEvent.objects.filter(verb="rulepacks.rulepack.discarded").count() == 1
    active = make_pack(stage="active")
    page = client.post(url("discard", pk=active.pk), follow=True).content.decode()
    assert "This pack is active and read-only" in page
    assert RulePack.objects.filter(pk=active.pk, status="active").exists()
