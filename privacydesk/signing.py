"""Signed, salted, expiring tokens: what the portal's links carry instead of ids.

A token is `TimestampSigner(salt=purpose).sign(value)` with SECRET_KEY: it
names no person, cannot be forged or guessed, and a token made for one
purpose never reads under another. The purpose is the salt, so it must never
change once links carrying it have been sent: an e-mail already in a
mailbox would stop working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing


@dataclass(frozen=True)
class SignedReading:
    """What a token held, or why not: `expired` (a 410) or simply bad (a 404)."""

    value: str | None
    expired: bool = False


def signed_token_make(*, purpose: str, value: str) -> str:
    """A token carrying `value` for this purpose, stamped with the time now."""
    return signing.TimestampSigner(salt=purpose).sign(value)


def signed_token_read(*, purpose: str, token: str, max_age: timedelta) -> SignedReading:
    """The value in a token made for this purpose within `max_age`."""
    signer = signing.TimestampSigner(salt=purpose)
    try:
        return SignedReading(signer.unsign(token, max_age=max_age))
    except signing.SignatureExpired:
        return SignedReading(None, expired=True)
    except signing.BadSignature:
        return SignedReading(None)
