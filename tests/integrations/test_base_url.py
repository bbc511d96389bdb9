"""Absolute links follow the local server's HOST and PORT unless WORKBENCH_BASE_URL is set."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from integrations import conf


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("WORKBENCH_BASE_URL", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)


def test_without_host_or_port_links_point_at_port_8000():
    assert conf.get("WORKBENCH_BASE_URL") == "http://127.0.0.1:8000"


def test_links_follow_the_port_and_host_make_run_passes_on(monkeypatch):
    monkeypatch.setenv("PORT", "8765")
    assert conf.absolute("/t/acme/catalog/") == "http://127.0.0.1:8765/t/acme/catalog/"
    monkeypatch.setenv("HOST", "workbench.local")
    assert conf.get("WORKBENCH_BASE_URL") == "http://workbench.local:8765"


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("0.0.0.0", "http://127.0.0.1:8001"),  # noqa: S104
        ("::", "http://127.0.0.1:8001"),
        ("::1", "http://[::1]:8001"),
    ],
)
def test_a_wildcard_address_links_to_loopback_and_ipv6_is_bracketed(monkeypatch, host, base):
    monkeypatch.setenv("HOST", host)
    monkeypatch.setenv("PORT", "8001")
    assert conf.get("WORKBENCH_BASE_URL") == base


def test_workbench_base_url_wins_over_host_and_port(monkeypatch):
    monkeypatch.setenv("PORT", "8765")
    monkeypatch.setenv("WORKBENCH_BASE_URL", "https://workbench.example.com/")
    assert conf.absolute("/api/v1/") == "https://workbench.example.com/api/v1/"


def test_a_port_that_is_not_a_number_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ImproperlyConfigured, match="PORT='eighty' is not a whole number"):
        conf.get("WORKBENCH_BASE_URL")
