"""Integration settings, read from Django settings with environment-driven defaults.

Read through functions (not module constants) so that tests can override them with the
``settings`` fixture.
"""

from django.conf import settings

from workbench import env

_DEFAULTS = {
    # Plain http:// receivers (internal hosts only); HTTPS is required otherwise. A DEBUG (local)
    # server allows it and loopback by default, so a receiver on the same machine can be tried.
    "WEBHOOK_ALLOW_HTTP": lambda: env.get_bool("WEBHOOK_ALLOW_HTTP", settings.DEBUG),
    # Destinations resolving to private, loopback or link-local addresses.
    "WEBHOOK_ALLOW_PRIVATE": lambda: env.get_bool("WEBHOOK_ALLOW_PRIVATE", False),
    # Loopback only (a receiver on this machine), without opening private networks.
    "WEBHOOK_ALLOW_LOOPBACK": lambda: env.get_bool("WEBHOOK_ALLOW_LOOPBACK", settings.DEBUG),
    "WEBHOOK_TIMEOUT_SECONDS": lambda: env.get_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1),
    "WEBHOOK_MAX_ATTEMPTS": lambda: env.get_int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1),
    # First retry delay; each later one is three times longer (with ±20 % jitter).
    "WEBHOOK_BACKOFF_SECONDS": lambda: env.get_int("WEBHOOK_BACKOFF_SECONDS", 60, minimum=1),
    "API_RATE_LIMIT_PER_MINUTE": lambda: env.get_int("API_RATE_LIMIT_PER_MINUTE", 120, minimum=1),
    # Absolute links in webhook envelopes and API responses.
    "WORKBENCH_BASE_URL": lambda: env.get_str("WORKBENCH_BASE_URL") or local_base_url(),
}

# Addresses a server listens on, not ones a browser can open: links name loopback instead.
_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 (compared, never bound)


def local_base_url() -> str:
    """Return ``http://HOST:PORT`` of the server `make run` starts (it passes both on);
    ``http://127.0.0.1:8000`` when they are unset."""
    host = env.get_str("HOST", "127.0.0.1").strip()
    if host in _WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{env.get_int('PORT', 8000, minimum=1)}"


def get(name: str):
    """Return setting ``name``: Django's value when set, else its environment default."""
    value = getattr(settings, name, None)
    return _DEFAULTS[name]() if value is None else value


def absolute(path: str) -> str:
    """Return ``path`` (``/t/acme/…``) as an absolute URL on this workbench."""
    return get("WORKBENCH_BASE_URL").rstrip("/") + path
