"""Where webhooks may be sent: HTTPS, and no private, loopback or link-local destinations."""

import pytest

from integrations import netguard


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("http://example.com/hook", "must use https://"),
        ("ftp://example.com/hook", "must start with https://"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost:8443/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hook", "loopback"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://0.0.0.0/hook", "reserved"),
        ("https://[2002:c0a8:101::1]/hook", r"a private address \(192\.168\.1\.1\) inside an IPv6"),
        ("https://[2002:7f00:1::1]/hook", r"a loopback address \(127\.0\.0\.1\) inside an IPv6"),
        ("https://[::ffff:10.0.0.1]/hook", "a private address"),
        ("https://[64:ff9b::7f00:1]/hook", "reserved"),
        ("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook", "private"),
        ("https://user:pw@203.0.113.9/hook", "credentials"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
    ],
)
def test_refused_destinations_say_why(url, fragment, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(netguard.DestinationRefused, match=fragment):
        netguard.check_url(url)


def test_a_6to4_address_of_a_public_host_is_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    target = netguard.check_url("https://[2002:808:808::1]/in")
    assert target.address == "2002:808:808::1"


def test_a_public_address_over_https_is_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    target = netguard.check_url("https://8.8.8.8:8443/in?x=1")
    assert (target.address, target.port, target.path) == ("8.8.8.8", 8443, "/in?x=1")


def test_settings_open_loopback_and_plain_http_for_internal_receivers(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert netguard.check_url("http://127.0.0.1:9000/hook").address == "127.0.0.1"
    with pytest.raises(netguard.DestinationRefused, match="private"):
        netguard.check_url("http://10.0.0.5/hook")
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert netguard.check_url("http://10.0.0.5/hook").address == "10.0.0.5"


def test_post_checks_the_destination_again_before_connecting(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(netguard.DestinationRefused):
        netguard.post("https://127.0.0.1/x", b"{}", {}, timeout=1)
