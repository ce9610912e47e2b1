"""Proving control of the e-mail address with a one-time code or signed link.

The codes themselves (issuing, counting, expiry, one use) are
dsr.services.challenges' under the purpose `verify`; this module says what
a verification code unlocks: the request is verified.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse

from accounts.actors import Actor, actor_for_subject
from accounts.permissions import Perm
from audit.services import audit_record
from dsr.choices import ChallengePurpose, RequestStatus, VerificationMethod
from dsr.lifecycle import RequestAction, request_action_refusal
from dsr.links import verify_token
from dsr.models import AgentAuthority, Request, VerificationChallenge
from dsr.notifications import notify_subject
from dsr.services.agents import (
    agent_consumer_confirm,
    agent_permission_attach,
    agent_refusal,
)
from dsr.services.challenges import (
    challenge_check,
    challenge_get_open,
    challenge_issue,
    challenge_use,
)
from dsr.services.data_points import data_points_start
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
            # Filed by an agent: the consumer is told who, at their own address.
            "agent_name": AgentAuthority.objects.filter(request=request)
            .values_list("agent_name", flat=True)
            .first(),
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
    actor = actor_for_subject(str(challenge.request.public_id))
    with transaction.atomic():
        challenge_use(challenge=challenge)
        request = challenge.request
        # Filed by an agent: the code reached the consumer's own address, so
        # this is their direct confirmation (CCPA-REG §7063(a)).
        agent_consumer_confirm(actor=actor, request=request, method=method)
        if agent_refusal(request=request) is not None:
            return request  # waits for the agent's written authority
        if data_points_start(request=request, method=method):
            return request  # waits for the requester's data points (§7062)
        request = request_mark_verified(actor=actor, request=request, method=method)
    notify_subject(request=request, notice="verified")
    return request


def agent_permission_record(
    *, actor: Actor, request: Request, uploaded_file: UploadedFile[bytes]
) -> Request:
    """Record an agent's signed permission (an officer's step: the document
    is read and accepted); if the consumer has confirmed already, the request
    is verified now (the last thing it waited for)."""
    actor.require(Perm.REQUEST_AGENT_AUTHORITY)
    authority = agent_permission_attach(
        actor=actor, request=request, uploaded_file=uploaded_file
    )
    request.refresh_from_db()
    if (
        request.status == RequestStatus.RECEIVED
        and authority.consumer_confirmed_at is not None
        and agent_refusal(request=request) is None
    ):
        request = request_mark_verified(
            actor=actor, request=request, method=authority.consumer_confirmed_method
        )
        notify_subject(request=request, notice="verified")
    return request
