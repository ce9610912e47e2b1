"""The portal's links to a request: its status page and the verify link.

Thin wrappers over privacydesk.signing; each purpose is the salt the links
already sent were signed with, so it must not change.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from privacydesk.signing import signed_token_make, signed_token_read

STATUS_PURPOSE = "dsr.status-link"
VERIFY_PURPOSE = "dsr.verify-link"


def status_token(public_id: str) -> str:
    return signed_token_make(purpose=STATUS_PURPOSE, value=str(public_id))


def status_token_read(token: str) -> str | None:
    """The request public id in a status token, or None if bad or expired."""
    return signed_token_read(
        purpose=STATUS_PURPOSE,
        token=token,
        max_age=timedelta(days=settings.PORTAL_LINK_MAX_AGE_DAYS),
    ).value


def verify_token(challenge_id: int) -> str:
    return signed_token_make(purpose=VERIFY_PURPOSE, value=str(challenge_id))


def verify_token_read(token: str) -> int | None:
    """The challenge id in a verify link, or None if bad or expired."""
    value = signed_token_read(
        purpose=VERIFY_PURPOSE,
        token=token,
        max_age=timedelta(minutes=settings.PORTAL_CODE_TTL_MINUTES),
    ).value
    return int(value) if value is not None else None
