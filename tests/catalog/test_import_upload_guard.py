"""An upload is checked for permission and size before its body is read (issue 18, item 4).

The CSRF check reads the body of every POST before the view runs; these requests carry a valid
CSRF token, as a browser's do, so that the body would be read here if anything read it early.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from django.urls import reverse

from catalog.models import ImportBatch
from tests.catalog.conftest import row, xlsx_bytes
from workbench.roles import Role

RECORDED: list[str] = []


class RecordingHandler(FileUploadHandler):
    """Notes every file and chunk the upload handlers receive."""

    def new_file(self, field_name, file_name, *args, **kwargs):
        RECORDED.append(f"file {file_name}")

    def receive_data_chunk(self, raw_data, start):
        RECORDED.append(f"{len(raw_data)} bytes")
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def recorded(settings, tmp_path):
    settings.FILE_UPLOAD_HANDLERS = [
        "tests.catalog.test_import_upload_guard.RecordingHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    RECORDED.clear()
    yield RECORDED
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def _browser(cast, role) -> Client:
    client = Client(enforce_csrf_checks=True)
    user = cast.outsider if role == "outsider" else cast.users[role]
    client.force_login(user)
    tenant = "globex" if role == "outsider" else "acme"
    client.get(reverse("catalog:product_list", args=[tenant]))  # sets the CSRF cookie
    return client


def _post(client, content: bytes, name="catalog.xlsx"):
    return client.post(
        reverse("catalog:import_upload", args=["acme"]),
        {
            "file": SimpleUploadedFile(name, content),
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )


def test_an_auditors_upload_is_refused_before_its_body_is_read(cast, recorded):
    response = _post(_browser(cast, Role.AUDITOR), b"x" * 300_000)
    assert response.status_code == 403
    assert recorded == []
    assert not ImportBatch.objects.exists()


def test_an_upload_declared_over_the_limit_is_refused_unread(cast, recorded, settings):
    settings.UPLOAD_MAX_BYTES = 100_000
    response = _post(_browser(cast, Role.ANALYST), b"x" * 200_000)
    assert response.status_code == 413
    assert b"The upload is 0.2 MB, over the 0.1 MB limit" in response.content
    assert b"refused unread and nothing was saved" in response.content
    assert recorded == []
    assert not ImportBatch.objects.exists()


def test_an_upload_that_runs_past_the_limit_is_stopped_at_it(cast, recorded, settings):
    # Declared within the cap (the form's room included), the file itself is over it.
    settings.UPLOAD_MAX_BYTES = 2_000_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # the kept part goes to a temporary file
    response = _post(_browser(cast, Role.ANALYST), b"x" * 2_010_000)
    assert response.status_code == 413
    assert b"over the 1.9 MB limit" in response.content
    received = sum(int(r.split()[0]) for r in recorded if r.endswith("bytes"))
    assert received <= 2_000_000
    assert not ImportBatch.objects.exists()


def test_an_analysts_upload_within_the_limit_is_imported(cast, recorded):
    response = _post(_browser(cast, Role.ANALYST), xlsx_bytes([row("A-1")]))
    assert response.status_code == 302
    assert ImportBatch.objects.get().new_count == 1
    assert recorded and recorded[0] == "file catalog.xlsx"


def test_a_non_member_gets_404_before_the_body_is_read(cast, recorded):
    response = _post(_browser(cast, "outsider"), b"x" * 300_000)
    assert response.status_code == 404
    assert recorded == []
