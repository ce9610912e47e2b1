"""Proving control of the e-mail address with a one-time code or signed link.

The codes themselves (issuing, counting, expiry, one use) are
dsr.services.challenges' under the purpose `verify`; this module says what
a verification code unlocks: the request is verified.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts.actors import actor_for_subject
from audit.services import audit_record
from dsr.choices import ChallengePurpose, VerificationMethod
from dsr.lifecycle import RequestAction, request_action_refusal
from dsr.links import verify_token
from dsr.models import Request, VerificationChallenge
from dsr.notifications import notify_subject
from dsr.services.challenges import (
    challenge_check,
    challenge_get_open,
    challenge_issue,
    challenge_use,
)
from dsr.services.requests import request_mark_verified
from privacydesk.errors import IllegalTransition

PURPOSE = ChallengePurpose.VERIFY


def verification_code_send(*, request: Request) -> VerificationChallenge:
    """E-mail a fresh 6-digit code (and a signed link); resends are throttled."""
    if request_action_refusal(action=RequestAction.PROVE_IDENTITY, request=request):
        raise IllegalTransition(f"request {request.reference} needs no verification")
    with transaction.atomic():
        issued = challenge_issue(request=request, purpose=PURPOSE)
        audit_record(
            actor=actor_for_subject(str(request.public_id)),
            action="request.code_sent",
            obj=request,
            data={"challenge_id": issued.challenge.pk},
        )
    link = settings.SITE_URL + reverse(
        "portal:verify_link", args=[verify_token(issued.challenge.pk)]
    )
    notify_subject(
        request=request,
        notice="verification_code",
        extra={
            "code": issued.code,
            "verify_link": link,
            "ttl": settings.PORTAL_CODE_TTL_MINUTES,
        },
    )
    return issued.challenge


def verification_code_check(*, request: Request, code: str) -> Request:
    """Check a code the requester typed; verifies the request when it matches."""
    challenge = challenge_check(request=request, purpose=PURPOSE, code=code)
    return _verify(challenge, VerificationMethod.EMAIL_CODE)


def verification_link_confirm(*, challenge_id: int) -> Request:
    """The signed link from the e-mail was opened and confirmed."""
    challenge = challenge_get_open(challenge_id=challenge_id, purpose=PURPOSE)
    return _verify(challenge, VerificationMethod.EMAIL_LINK)


def _verify(challenge: VerificationChallenge, method: str) -> Request:
    with transaction.atomic():
        challenge_use(challenge=challenge)
        request = request_mark_verified(
            actor=actor_for_subject(str(challenge.request.public_id)),
            request=challenge.request,
            method=method,
        )
    notify_subject(request=request, notice="verified")
    return request
