"""The signed, expiring download link of an access package.

The token carries only the package's public id in a privacydesk.signing
token under a purpose of its own, so a status or verification token can
never pass for it. The purpose is the salt the links already sent were
signed with, so it must not change.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from privacydesk.signing import SignedReading, signed_token_make, signed_token_read

DOWNLOAD_PURPOSE = "access-package"


def download_token(public_id: str) -> str:
    return signed_token_make(purpose=DOWNLOAD_PURPOSE, value=str(public_id))


def download_token_read(token: str) -> SignedReading:
    """The package public id, or why not: expired (410) or simply bad (404)."""
    return signed_token_read(
        purpose=DOWNLOAD_PURPOSE,
        token=token,
        max_age=timedelta(days=settings.ACCESS_PACKAGE_LINK_DAYS),
    )
