"""Verifying a downloaded export in the browser: valid, or tampered and where; bad uploads."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit import canonical, services
from tests.matrix import check_access_matrix

URL = "/t/acme/audit/exports/verify/"
pytestmark = pytest.mark.usefixtures("live")


def _export(tenant):
    export = services.export_request(actor=None, tenant=tenant, scope={}, background=False)
    return services.export_build(export_id=export.pk)


@pytest.fixture
def ready_export(cast, live, product_events):
    return _export(cast.tenant)


def _download(cast, export, slug="acme", who="auditor") -> bytes:
    client = cast.client(who) if slug == "acme" else _outsider(cast)
    return client.get(f"/t/{slug}/audit/exports/{export.pk}/download.json").content


def _outsider(cast):
    return cast.client("outsider")


def _upload(cast, content: bytes, who="auditor", name="export.json"):
    upload = SimpleUploadedFile(name, content, content_type="application/json")
    return cast.client(who).post(URL, {"file": upload})


def _edit(content: bytes, change) -> bytes:
    document = json.loads(content)
    change(document)
    return canonical.dumps_bytes(document)


def _set_final_code(document):
    document["sections"]["classification"]["decisions"][0]["final"]["code"] = "8471410150"


def test_the_url_actor_matrix_holds(cast):
    check_access_matrix(cast, URL, {"compliance_lead", "auditor"})


@pytest.mark.parametrize("who", ["auditor", "compliance_lead"])
def test_an_intact_download_is_valid(cast, ready_export, who):
    response = _upload(cast, _download(cast, ready_export), who=who)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-verdict="valid"' in page
    assert f"this file is export #{ready_export.pk} exactly as recorded" in page
    assert page.count(ready_export.sha256) == 2  # the file's digest and the recorded one
    assert "<dt>Digest matches the record</dt><dd>yes</dd>" in page


def test_a_tampered_download_names_the_path_and_both_values(cast, ready_export):
    response = _upload(cast, _edit(_download(cast, ready_export), _set_final_code))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-verdict="tampered"' in page
    assert "<dt>Digest matches the record</dt><dd>no</dd>" in page
    assert ready_export.sha256 in page
    assert (
        "<tr><td><code>$.sections.classification.decisions[0].final.code</code></td>"
        "<td><code>&quot;8471300100&quot;</code></td><td><code>&quot;8471410150&quot;</code></td>"
    ) in page


def test_a_reformatted_download_is_tampered_and_said_to_be_reformatted(cast, ready_export):
    pretty = json.dumps(json.loads(_download(cast, ready_export)), indent=2).encode()
    page = _upload(cast, pretty).content.decode()
    assert 'data-verdict="tampered"' in page
    assert "The file is not in canonical form" in page


def test_a_file_claiming_another_tenant_is_compared_with_this_tenants_record(cast, ready_export):
    def retenant(document):
        document["tenant"]["slug"] = "globex"

    page = _upload(cast, _edit(_download(cast, ready_export), retenant)).content.decode()
    assert 'data-verdict="tampered"' in page
    assert "<code>$.tenant.slug</code>" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04\xff\x00", "The file is not UTF-8 text (byte 4)"),
        (b'{"decisions": [1, 2', "The file is not JSON: Expecting"),
        (b"[1, 2, 3]", "The file is JSON but not an audit export"),
        (b'{"format": "customs-workbench/audit-export"}', "The file names no export id"),
        (
            b'{"format": "customs-workbench/audit-export", "export": {"id": 999999}}',
            "Export #999999 is not an export of Acme Imports.",
        ),
    ],
)
def test_a_bad_upload_gets_a_clear_message(cast, content, message):
    response = _upload(cast, content)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert 'data-verdict="' not in response.content.decode()


def test_no_file_and_a_too_large_file_are_refused(cast, settings):
    response = cast.client("auditor").post(URL, {})
    assert response.status_code == 422 and "This field is required" in response.content.decode()
    settings.UPLOAD_MAX_BYTES = 1024
    response = _upload(cast, b'{"format": "x", "pad": "' + b"x" * 4096 + b'"}')
    assert response.status_code == 413
    # Refused by the upload guard before the body is read (workbench.uploads).
    assert "over the 1 KB limit; it was refused unread" in response.content.decode()


def test_an_export_that_is_not_ready_has_no_digest_to_compare(cast):
    queued = services.export_request(actor=None, tenant=cast.tenant, scope={}, background=False)
    content = json.dumps(
        {"format": "customs-workbench/audit-export", "export": {"id": queued.pk}}
    ).encode()
    response = _upload(cast, content)
    assert response.status_code == 422
    assert f"Export #{queued.pk} is queued: it has no recorded digest" in response.content.decode()


def test_another_tenants_export_reveals_nothing_of_it(cast, product_events):
    theirs = _export(cast.other_tenant)
    content = _download(cast, theirs, slug="globex")
    assert json.loads(content)["tenant"]["slug"] == "globex"
    known = _upload(cast, content)
    unknown = _upload(cast, _edit(content, lambda d: d["export"].update(id=999_999)))
    assert known.status_code == unknown.status_code == 422
    page = known.content.decode()
    assert theirs.sha256 not in page and "Globex Brokerage" not in page
    assert error(page) == (
        f"Export #{theirs.pk} is not an export of Acme Imports. "
        "The file itself names the tenant &#x27;globex&#x27;: verify it there."
    )
    assert error(unknown.content.decode()) == error(page).replace(f"#{theirs.pk}", "#999999")


def error(page: str) -> str:
    return re.search(r'<p class="msg msg-error" role="alert">(.*?)</p>', page).group(1)
