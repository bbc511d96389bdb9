"""Outbound HTTP for webhooks, guarded against server-side request forgery.

A receiver URL is checked when it is saved and again at every send: the scheme (HTTPS unless
plain HTTP is allowed), and every address the host resolves to (private, loopback, link-local,
multicast and reserved ranges are refused unless a setting allows them). The connection is then
made to the address that was checked, so a DNS answer that changes between the check and the
connection (rebinding) cannot redirect the request. Redirects are never followed.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from integrations import conf

RESPONSE_EXCERPT_BYTES = 2048


class DestinationRefused(ValueError):
    """The URL may not be called: the message says why, for the endpoint form and the log."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str
    latency_ms: int


def _address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 host are judged by that host: IPv4-mapped (::ffff:a.b.c.d)
        # and 6to4 (2002:AABB:CCDD::/48, which Python calls global whatever it embeds). NAT64
        # (64:ff9b::/96) and IPv4-compatible (::a.b.c.d) are reserved, Teredo private: refused.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            refusal = _address_refusal(embedded)
            return f"{refusal} ({embedded}) inside an IPv6 address" if refusal else None
    if address.is_loopback:
        allowed = conf.get("WEBHOOK_ALLOW_LOOPBACK") or conf.get("WEBHOOK_ALLOW_PRIVATE")
        return None if allowed else "a loopback address"
    if address.is_link_local:
        return None if conf.get("WEBHOOK_ALLOW_PRIVATE") else "a link-local address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if address.is_private or not address.is_global:
        return None if conf.get("WEBHOOK_ALLOW_PRIVATE") else "a private address"
    return None


def check_url(url: str, *, resolve: bool = True) -> Target:
    """Return where ``url`` may be sent, or raise ``DestinationRefused`` saying why not."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"https", "http"}:
        raise DestinationRefused("The URL must start with https://.")
    if scheme == "http" and not conf.get("WEBHOOK_ALLOW_HTTP"):
        raise DestinationRefused(
            "The URL must use https:// (plain http:// is allowed only when the administrator "
            "sets WEBHOOK_ALLOW_HTTP for internal hosts)."
        )
    if parts.username or parts.password:
        raise DestinationRefused("Put credentials in the receiver's checks, not in the URL.")
    host = parts.hostname
    if not host:
        raise DestinationRefused("The URL has no host name.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise DestinationRefused("The URL's port is not a number.") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not resolve:
        return Target(scheme, host, port, path, "")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise DestinationRefused(f"The host {host!r} does not resolve ({err}).") from None
    addresses = sorted({info[4][0] for info in infos})
    for text in addresses:
        refusal = _address_refusal(ipaddress.ip_address(text.split("%")[0]))
        if refusal:
            raise DestinationRefused(
                f"{host} resolves to {text}, {refusal}; webhooks may not be sent there "
                "unless the administrator allows it (WEBHOOK_ALLOW_PRIVATE)."
            )
    return Target(scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Response:
    """POST ``body`` to ``url`` after the destination check; return status and excerpt.

    Raises ``DestinationRefused`` for a refused URL and ``OSError`` (timeouts included) or
    ``http.client.HTTPException`` when the receiver cannot be reached or answers garbage.
    """
    target = check_url(url)
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = cls(target, timeout)
    started = time.monotonic()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(RESPONSE_EXCERPT_BYTES).decode("utf-8", "replace")
    finally:
        connection.close()
    latency = int((time.monotonic() - started) * 1000)
    return Response(status=response.status, excerpt=excerpt, latency_ms=latency)
