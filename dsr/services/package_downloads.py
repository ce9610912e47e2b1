"""Downloading an access package: a fresh one-time code, then a signed link.

The request was verified weeks ago, perhaps; before its data leaves, whoever
holds the status link proves again that they read the requester's mailbox.
The codes are dsr.services.challenges' under the purpose `download` (same
throttles and counting as verification codes, a hash of their own, so one
kind of code never passes for the other); this module says what a download
code unlocks: a signed download link.
"""

from __future__ import annotations

from typing import IO

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.actors import actor_for_subject
from audit.services import audit_record
from dsr.choices import ChallengePurpose
from dsr.links import status_token
from dsr.models import AccessPackage, VerificationChallenge
from dsr.notifications import notify_subject
from dsr.packages.links import download_token
from dsr.packages.selectors import access_package_is_available
from dsr.services.challenges import challenge_check, challenge_issue, challenge_use
from privacydesk.errors import IllegalTransition
from subjects.claims import subject_email

PURPOSE = ChallengePurpose.DOWNLOAD


def _require_available(package: AccessPackage) -> None:
    if not access_package_is_available(package=package):
        raise IllegalTransition(
            f"the package of {package.request.reference} is no longer available"
        )


def access_package_code_send(*, package: AccessPackage) -> VerificationChallenge:
    """E-mail a fresh 6-digit download code; resends are throttled."""
    _require_available(package)
    request = package.request
    if subject_email(identity=request.identity) is None:
        raise IllegalTransition(
            f"request {request.reference} has no e-mail address to send a code to"
        )
    with transaction.atomic():
        issued = challenge_issue(request=request, purpose=PURPOSE)
        audit_record(
            actor=actor_for_subject(str(request.public_id)),
            action="access_package.code_sent",
            obj=request,
            data={
                "package": str(package.public_id),
                "challenge_id": issued.challenge.pk,
            },
        )
    notify_subject(
        request=request,
        notice="package_code",
        extra={
            "code": issued.code,
            "ttl": settings.PORTAL_CODE_TTL_MINUTES,
            "package_url": settings.SITE_URL
            + reverse("portal:package", args=[status_token(str(request.public_id))]),
        },
    )
    return issued.challenge


def access_package_code_check(*, package: AccessPackage, code: str) -> str:
    """Check a download code; returns the signed download link's token."""
    _require_available(package)
    request = package.request
    challenge = challenge_check(request=request, purpose=PURPOSE, code=code)
    with transaction.atomic():
        challenge_use(challenge=challenge)
        audit_record(
            actor=actor_for_subject(str(request.public_id)),
            action="access_package.link_issued",
            obj=request,
            data={
                "package": str(package.public_id),
                "challenge_id": challenge.pk,
                "valid_days": settings.ACCESS_PACKAGE_LINK_DAYS,
            },
        )
    return download_token(str(package.public_id))


def access_package_download(*, package: AccessPackage) -> IO[bytes]:
    """Open the ZIP for one download, counting and auditing it."""
    _require_available(package)
    handle = default_storage.open(package.file, "rb")
    try:
        with transaction.atomic():
            AccessPackage.objects.filter(pk=package.pk).update(
                download_count=F("download_count") + 1,
                last_downloaded_at=timezone.now(),
            )
            audit_record(
                actor=actor_for_subject(str(package.request.public_id)),
                action="access_package.downloaded",
                obj=package.request,
                data={
                    "package": str(package.public_id),
                    "sha256": package.sha256,
                    "size": package.size,
                },
            )
    except BaseException:
        handle.close()
        raise
    return handle
