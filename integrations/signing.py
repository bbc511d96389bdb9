"""Webhook signatures: HMAC-SHA256 over ``timestamp + "." + body``. Pure; receivers can copy it."""

import hashlib
import hmac
import secrets

SIGNATURE_VERSION = "v1"
# How far a receiver should accept a timestamp from its own clock (replay window).
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """Return a fresh endpoint secret (256 bits, URL-safe)."""
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header value, ``v1=<hex>``, for ``body`` sent at ``timestamp``."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(
    secret: str, timestamp: str, body: bytes, header: str, *, now: float, tolerance=None
) -> bool:
    """Return whether ``header`` signs ``body`` at ``timestamp`` within the replay window."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent) > (TOLERANCE_SECONDS if tolerance is None else tolerance):
        return False
    expected = sign(secret, sent, body)
    candidates = [part.strip() for part in (header or "").split(",")]
    return any(hmac.compare_digest(expected, c) for c in candidates)
