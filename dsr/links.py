"""Signed, expiring tokens that stand in for ids in the portal's links.

A link carries the request's public id signed with SECRET_KEY; it names no
person and cannot be forged or guessed.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing

_STATUS_SALT = "dsr.status-link"
_VERIFY_SALT = "dsr.verify-link"


def status_token(public_id: str) -> str:
    return signing.TimestampSigner(salt=_STATUS_SALT).sign(str(public_id))


def status_token_read(token: str) -> str | None:
    """The request public id in a status token, or None if bad or expired."""
    try:
        return signing.TimestampSigner(salt=_STATUS_SALT).unsign(
            token, max_age=timedelta(days=settings.PORTAL_LINK_MAX_AGE_DAYS)
        )
    except signing.BadSignature:
        return None


def verify_token(challenge_id: int) -> str:
    return signing.TimestampSigner(salt=_VERIFY_SALT).sign(str(challenge_id))


def verify_token_read(token: str) -> int | None:
    try:
        value = signing.TimestampSigner(salt=_VERIFY_SALT).unsign(
            token, max_age=timedelta(minutes=settings.PORTAL_CODE_TTL_MINUTES)
        )
    except signing.BadSignature:
        return None
    return int(value)
