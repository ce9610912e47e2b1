"""Signed, expiring links to a data subject's consent page.

A link carries the subject's public id in a privacydesk.signing token; it
names no person and cannot be forged or guessed. It is sent only to an
address we already hold for that subject. The purpose is the salt the links
already sent were signed with, so it must not change.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from privacydesk.signing import signed_token_make, signed_token_read
from subjects.models import DataSubject

CONSENT_PURPOSE = "consent.page-link"


def consent_token(public_id: str) -> str:
    return signed_token_make(purpose=CONSENT_PURPOSE, value=str(public_id))


def consent_token_read(token: str) -> str | None:
    """The subject public id in a consent token, or None if bad or expired."""
    return signed_token_read(
        purpose=CONSENT_PURPOSE,
        token=token,
        max_age=timedelta(days=settings.PORTAL_LINK_MAX_AGE_DAYS),
    ).value


def consent_page_url(public_id: str) -> str:
    """The absolute link to a subject's consent page, for an e-mail."""
    path = reverse("portal:consents", kwargs={"token": consent_token(public_id)})
    return f"{settings.SITE_URL}{path}"


def consent_subject_for_token(*, token: str) -> DataSubject | None:
    """The subject a consent link names, or None when the link is bad or stale."""
    public_id = consent_token_read(token)
    if public_id is None:
        return None
    try:
        return DataSubject.objects.filter(public_id=uuid.UUID(public_id)).first()
    except ValueError:
        return None
