"""Downloading an access package: a fresh one-time code, then a signed link.

The request was verified weeks ago, perhaps; before its data leaves, whoever
holds the status link proves again that they read the requester's mailbox.
Codes reuse VerificationChallenge (purpose "download"), the same keyed hash
and the same throttles as the verification codes, under a hash purpose of
their own so one kind of code can never pass for the other.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
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
from dsr.services.subjects import subject_email
from privacydesk import crypto
from privacydesk.errors import IllegalTransition, ValidationFailed

PURPOSE = ChallengePurpose.DOWNLOAD


def _code_hash(package: AccessPackage, code: str) -> str:
    return crypto.keyed_hash(code, purpose=f"otp-download:{package.request.public_id}")


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
    now = timezone.now()
    challenges = request.challenges.filter(purpose=PURPOSE)
    last = challenges.first()
    wait_seconds = settings.PORTAL_CODE_RESEND_SECONDS
    if last and now - last.sent_at < timedelta(seconds=wait_seconds):
        wait = wait_seconds - int((now - last.sent_at).total_seconds())
        raise ValidationFailed(
            f"a code was just sent; you can ask again in {wait} s", field="code"
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        challenges.filter(used_at__isnull=True).update(expires_at=now)
        challenge = VerificationChallenge.objects.create(
            request=request,
            purpose=PURPOSE,
            code_hash=_code_hash(package, code),
            expires_at=now + timedelta(minutes=settings.PORTAL_CODE_TTL_MINUTES),
            sent_at=now,
        )
        audit_record(
            actor=actor_for_subject(str(request.public_id)),
            action="access_package.code_sent",
            obj=request,
            data={"package": str(package.public_id), "challenge_id": challenge.pk},
        )
    # The code goes by e-mail only: never into a task argument or a log line.
    notify_subject(
        request=request,
        notice="package_code",
        extra={
            "code": code,
            "ttl": settings.PORTAL_CODE_TTL_MINUTES,
            "package_url": settings.SITE_URL
            + reverse("portal:package", args=[status_token(str(request.public_id))]),
        },
    )
    return challenge


def access_package_code_check(*, package: AccessPackage, code: str) -> str:
    """Check a download code; returns the signed download link's token."""
    _require_available(package)
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        raise ValidationFailed("the code is the 6 digits from the e-mail", field="code")
    request = package.request
    challenge = request.challenges.filter(purpose=PURPOSE, used_at__isnull=True).first()
    now = timezone.now()
    if challenge is None or challenge.expires_at <= now:
        raise ValidationFailed("this code has expired; ask for a new one", field="code")
    if challenge.attempts >= settings.PORTAL_CODE_MAX_ATTEMPTS:
        raise ValidationFailed("too many wrong codes; ask for a new one", field="code")
    # Count the attempt in its own statement, so a wrong code still counts.
    VerificationChallenge.objects.filter(pk=challenge.pk).update(
        attempts=F("attempts") + 1
    )
    if not hmac.compare_digest(challenge.code_hash, _code_hash(package, code)):
        left = settings.PORTAL_CODE_MAX_ATTEMPTS - challenge.attempts - 1
        raise ValidationFailed(
            f"that code is not right ({left} tries left)", field="code"
        )
    with transaction.atomic():
        used = VerificationChallenge.objects.filter(
            pk=challenge.pk, used_at__isnull=True
        ).update(used_at=now)
        if used != 1:
            raise ValidationFailed("this code was used already", field="code")
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
