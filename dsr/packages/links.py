"""The signed, expiring download link of an access package.

The token carries only the package's public id, signed with SECRET_KEY under
its own salt, so a status or verification token can never pass for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

_SALT = "access-package"


@dataclass(frozen=True)
class TokenReading:
    public_id: str | None
    expired: bool = False


def download_token(public_id: str) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(str(public_id))


def download_token_read(token: str) -> TokenReading:
    """The package public id, or why not: expired (410) or simply bad (404)."""
    signer = signing.TimestampSigner(salt=_SALT)
    try:
        return TokenReading(
            signer.unsign(
                token, max_age=timedelta(days=settings.ACCESS_PACKAGE_LINK_DAYS)
            )
        )
    except signing.SignatureExpired:
        return TokenReading(None, expired=True)
    except signing.BadSignature:
        return TokenReading(None)
