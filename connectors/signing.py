"""HMAC-SHA256 signatures for webhook jobs and their callbacks.

Both directions use the same scheme, keyed with the connector's
`signing_key`: the signature covers `f"{timestamp}.{body}"`, so neither the
body nor the time can be changed without the key, and a captured message
stops working after `MAX_SKEW_SECONDS`.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from privacydesk.errors import DomainError

TIMESTAMP_HEADER = "X-PrivacyDesk-Timestamp"
SIGNATURE_HEADER = "X-PrivacyDesk-Signature"
SCHEME = "sha256"
MAX_SKEW_SECONDS = 300


class SignatureRejected(DomainError):
    """A signed message was refused: missing, stale or forged."""

    status_code = 401
    code = "signature_rejected"


def signature_compute(*, key: str, timestamp: int | str, body: bytes) -> str:
    """The header value for `body` sent at `timestamp`: `sha256=<hex>`."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def signature_headers(
    *, key: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """The two headers that sign `body` now."""
    timestamp = int(time.time() if now is None else now)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature_compute(key=key, timestamp=timestamp, body=body),
    }


def signature_verify(
    *,
    key: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float | None = None,
) -> None:
    """Raise SignatureRejected unless `signature` signs `body` at a fresh
    `timestamp`. The digest comparison takes constant time."""
    if not key:
        raise SignatureRejected("this connector has no signing key")
    if not timestamp or not signature:
        raise SignatureRejected(
            f"the {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required"
        )
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise SignatureRejected(f"{TIMESTAMP_HEADER} must be unix seconds") from exc
    current = time.time() if now is None else now
    if abs(current - sent_at) > MAX_SKEW_SECONDS:
        # Too old is a replay; too far ahead would let a message be kept and
        # replayed later.
        raise SignatureRejected(
            f"{TIMESTAMP_HEADER} is more than {MAX_SKEW_SECONDS} seconds from our clock"
        )
    expected = signature_compute(key=key, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureRejected("the signature does not match")
