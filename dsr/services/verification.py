"""Proving control of the e-mail address with a one-time code or signed link."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.actors import actor_for_subject
from audit.services import audit_record
from dsr.choices import VerificationMethod
from dsr.lifecycle import RequestAction, request_action_refusal
from dsr.links import verify_token
from dsr.models import Request, VerificationChallenge
from dsr.notifications import notify_subject
from dsr.services.requests import request_mark_verified
from privacydesk import crypto
from privacydesk.errors import IllegalTransition, ValidationFailed


def _code_hash(request: Request, code: str) -> str:
    return crypto.keyed_hash(code, purpose=f"otp:{request.public_id}")


def challenge_issue(*, request: Request) -> VerificationChallenge:
    """E-mail a fresh 6-digit code (and a signed link); resends are throttled."""
    if request_action_refusal(action=RequestAction.PROVE_IDENTITY, request=request):
        raise IllegalTransition(f"request {request.reference} needs no verification")
    now = timezone.now()
    last = request.challenges.first()
    if last and now - last.sent_at < timedelta(
        seconds=settings.PORTAL_CODE_RESEND_SECONDS
    ):
        wait = settings.PORTAL_CODE_RESEND_SECONDS - int(
            (now - last.sent_at).total_seconds()
        )
        raise ValidationFailed(
            f"a code was just sent; you can ask again in {wait} s", field="code"
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        request.challenges.filter(used_at__isnull=True).update(expires_at=now)
        challenge = VerificationChallenge.objects.create(
            request=request,
            code_hash=_code_hash(request, code),
            expires_at=now + timedelta(minutes=settings.PORTAL_CODE_TTL_MINUTES),
            sent_at=now,
        )
        audit_record(
            actor=actor_for_subject(str(request.public_id)),
            action="request.code_sent",
            obj=request,
            data={"challenge_id": challenge.pk},
        )
    # The code goes by e-mail only: never into a task argument or a log line.
    link = settings.SITE_URL + reverse(
        "portal:verify_link", args=[verify_token(challenge.pk)]
    )
    notify_subject(
        request=request,
        notice="verification_code",
        extra={
            "code": code,
            "verify_link": link,
            "ttl": settings.PORTAL_CODE_TTL_MINUTES,
        },
    )
    return challenge


def challenge_check(*, request: Request, code: str) -> Request:
    """Check a code the requester typed; verifies the request when it matches."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        raise ValidationFailed("the code is the 6 digits from the e-mail", field="code")
    challenge = request.challenges.filter(used_at__isnull=True).first()
    now = timezone.now()
    if challenge is None or challenge.expires_at <= now:
        raise ValidationFailed("this code has expired; ask for a new one", field="code")
    if challenge.attempts >= settings.PORTAL_CODE_MAX_ATTEMPTS:
        raise ValidationFailed("too many wrong codes; ask for a new one", field="code")
    # Count the attempt in its own transaction, so a wrong code still counts.
    VerificationChallenge.objects.filter(pk=challenge.pk).update(
        attempts=challenge.attempts + 1
    )
    if not hmac.compare_digest(challenge.code_hash, _code_hash(request, code)):
        left = settings.PORTAL_CODE_MAX_ATTEMPTS - challenge.attempts - 1
        raise ValidationFailed(
            f"that code is not right ({left} tries left)", field="code"
        )
    return _use(challenge, VerificationMethod.EMAIL_CODE)


def challenge_confirm_link(*, challenge_id: int) -> Request:
    """The signed link from the e-mail was opened and confirmed."""
    challenge = (
        VerificationChallenge.objects.select_related("request")
        .filter(pk=challenge_id)
        .first()
    )
    if challenge is None or challenge.used_at or challenge.expires_at <= timezone.now():
        raise ValidationFailed(
            "this link has expired; ask for a new code", field="link"
        )
    return _use(challenge, VerificationMethod.EMAIL_LINK)


def _use(challenge: VerificationChallenge, method: str) -> Request:
    with transaction.atomic():
        used = VerificationChallenge.objects.filter(
            pk=challenge.pk, used_at__isnull=True
        ).update(used_at=timezone.now())
        if used != 1:
            raise ValidationFailed("this code was used already", field="code")
        request = challenge.request
        request = request_mark_verified(
            actor=actor_for_subject(str(request.public_id)),
            request=request,
            method=method,
        )
    notify_subject(request=request, notice="verified")
    return request
