"""How a webhook is signed, and how a receiver checks it (the recipe the settings page shows).

Each POST carries ``X-ProductOps-Timestamp`` (Unix seconds) and ``X-ProductOps-Signature``
(``sha256=`` and the hex HMAC-SHA256, keyed with the endpoint's secret, of the timestamp, a dot
and the raw request body, byte for byte). A receiver:

1. reads the raw body before parsing it (re-serialised JSON would not match);
2. computes ``hmac_sha256(secret, f"{timestamp}.".encode() + body)`` and compares it with the
   header in constant time;
3. refuses a timestamp more than five minutes from its clock (a replayed request);
4. keeps the ``X-ProductOps-Delivery`` ids it has handled: a delivery may arrive more than once
   (a retry after a lost answer), never with a different body.

``verify`` below is that recipe in Python; the tests check every delivery with it.
"""

import hashlib
import hmac
import secrets
import time

SIGNATURE_PREFIX = "sha256="
# How far a receiver should let a timestamp drift from its own clock.
DEFAULT_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh endpoint secret: 32 random bytes, URL-safe, with a prefix that says what it is."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signed_content(timestamp: int | str, body: bytes) -> bytes:
    return f"{timestamp}.".encode() + body


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-ProductOps-Signature`` header of a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), signed_content(timestamp, body), hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``signature`` is the endpoint's signature of ``body`` at ``timestamp`` and the
    timestamp is within ``tolerance`` seconds of ``now``: what a receiver runs on each request."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")
