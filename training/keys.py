"""The export blind index: how a pipeline recognises an excluded person in
its own plaintext data without Privacy Desk revealing anyone.

The internal blind-index key never leaves Privacy Desk. The export key is
derived from it with a purpose label (`crypto.keyed_hash`), so it can be
handed to pipelines (`GET /api/v1/training-exclusions/key`): knowing it lets
a holder test a value it already has, nothing more, and it matches no index
stored for lookups. The index of an identifier is

    HMAC-SHA256(key=<export key as ASCII>, message="<kind>|<normalised value>")

in lower-case hex; kinds are `email` (trimmed, lower-cased) and `phone`
(trimmed, everything but digits and a leading + removed), the rules of
`crypto.normalise_identifier`. README "Training data" has the recipe.
"""

from __future__ import annotations

import hashlib
import hmac

from privacydesk import crypto

EXPORT_KEY_PURPOSE = "training-export-key"
EXPORT_KEY_VERSION = "v1"
INDEXED_KINDS = ("email", "phone")


def export_key() -> str:
    """The key pipelines compute export indexes with (hex, 64 characters)."""
    return crypto.keyed_hash(EXPORT_KEY_VERSION, purpose=EXPORT_KEY_PURPOSE)


def export_key_id(key: str | None = None) -> str:
    """A short fingerprint of the export key: it changes when the key does
    (a rotated BLIND_INDEX_KEY), so a pipeline knows to recompute."""
    return hashlib.sha256((key or export_key()).encode()).hexdigest()[:12]


def export_index(kind: str, value: str, *, key: str | None = None) -> str:
    """The export blind index of an e-mail address or phone number."""
    if kind not in INDEXED_KINDS:
        raise ValueError(f"no export index for {kind}")
    message = f"{kind}|{crypto.normalise_identifier(kind, value)}"
    secret = (key or export_key()).encode("ascii")
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()
