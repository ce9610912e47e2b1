"""One-time codes e-mailed to a requester, for every purpose.

A code proves, again, that whoever acts reads the requester's mailbox: to
verify a new request (`ChallengePurpose.VERIFY`) or to download its access
package (`ChallengePurpose.DOWNLOAD`). Only a keyed hash of the code is
stored, salted by purpose and request, so a code of one purpose never opens
the other. Each check counts its attempt in one conditional UPDATE, so
concurrent wrong guesses are all counted and never pass the limit.

The callers (dsr.services.verification, the access package's downloads) say
what a code unlocks: they send it, and spend a matched code with
`challenge_use` in the transaction of what it unlocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.actors import actor_for_subject
from audit.services import audit_record
from dsr.choices import ChallengePurpose
from dsr.models import Request, VerificationChallenge
from privacydesk.errors import ValidationFailed
from privacydesk.onetime_codes import (
    CodeRefused,
    code_check,
    code_clean,
    code_hash,
    code_new,
    code_refusal,
    code_spend,
    resend_wait_seconds,
)

# The keyed hash's purpose per challenge purpose: the codes already issued
# were hashed under these, so they must not change.
_HASH_PURPOSES = {
    ChallengePurpose.VERIFY: "otp",
    ChallengePurpose.DOWNLOAD: "otp-download",
}


@dataclass(frozen=True)
class ChallengeIssued:
    """A new challenge and its code: the code goes by e-mail only, never into
    a task argument, a log line or the database."""

    challenge: VerificationChallenge
    code: str


def _code_hash(request: Request, purpose: ChallengePurpose, code: str) -> str:
    return code_hash(code, purpose=f"{_HASH_PURPOSES[purpose]}:{request.public_id}")


def challenge_issue(*, request: Request, purpose: ChallengePurpose) -> ChallengeIssued:
    """A fresh code for this request and purpose; the earlier ones of that
    purpose stop working. A resend within PORTAL_CODE_RESEND_SECONDS is
    refused, naming the wait."""
    challenges = request.challenges.filter(purpose=purpose)
    now = timezone.now()
    last = challenges.order_by("-sent_at").first()
    wait = resend_wait_seconds(last.sent_at if last else None)
    if wait:
        raise ValidationFailed(
            f"a code was just sent; you can ask again in {wait} s", field="code"
        )
    code = code_new()
    with transaction.atomic():
        challenges.filter(used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        challenge = VerificationChallenge.objects.create(
            request=request,
            purpose=purpose,
            code_hash=_code_hash(request, purpose, code),
            expires_at=now + timedelta(minutes=settings.PORTAL_CODE_TTL_MINUTES),
            sent_at=now,
        )
    return ChallengeIssued(challenge=challenge, code=code)


def challenge_check(
    *, request: Request, purpose: ChallengePurpose, code: str
) -> VerificationChallenge:
    """Check a code typed for this request and purpose; return the challenge
    it matched, not yet spent (see `challenge_use`). The attempt is counted
    even when the check raises (privacydesk.onetime_codes)."""
    code = code_clean(code)
    challenge = request.challenges.filter(purpose=purpose).order_by("-sent_at").first()
    if challenge is None:
        raise code_refusal(None)
    try:
        code_check(
            challenge, code=code, expected_hash=_code_hash(request, purpose, code)
        )
    except CodeRefused as refusal:
        if refusal.reason in ("wrong", "locked"):
            _failure_record(request, purpose, challenge, refusal.reason)
        raise
    return challenge


def _failure_record(
    request: Request,
    purpose: ChallengePurpose,
    challenge: VerificationChallenge,
    reason: str,
) -> None:
    """A wrong code, or one more try at a locked one: audited in its own
    transaction, so the refusal that follows does not roll it back (the
    repeated-failures alert reads these)."""
    audit_record(
        actor=actor_for_subject(str(request.public_id)),
        action="request.code_failed",
        obj=request,
        data={
            "purpose": str(purpose),
            "challenge_id": challenge.pk,
            "attempts": challenge.attempts,
            "reason": reason,
        },
    )


def challenge_get_open(
    *, challenge_id: int, purpose: ChallengePurpose
) -> VerificationChallenge:
    """The challenge a signed link names, while it is unused and unexpired and
    of this purpose (a link names its challenge: no code to check)."""
    challenge = (
        VerificationChallenge.objects.select_related("request")
        .filter(pk=challenge_id, purpose=purpose)
        .first()
    )
    if challenge is not None and challenge.used_at is not None:
        raise ValidationFailed("this link was used already", field="link")
    if challenge is None or challenge.expires_at <= timezone.now():
        raise ValidationFailed(
            "this link has expired; ask for a new code", field="link"
        )
    return challenge


def challenge_use(*, challenge: VerificationChallenge) -> None:
    """Spend a matched challenge, once: a second use (two tabs at once) is
    refused. Call it in the transaction of what the code unlocks."""
    code_spend(challenge)
