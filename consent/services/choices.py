"""The customer's privacy choices without a request: a code by e-mail that
opens their consent page, and the CCPA opt-out links that need no code.

- `choices_code_send` / `choices_code_check`: whoever reads the mailbox of an
  address may see and change that address's consents. The code proves it
  (privacydesk.onetime_codes: the same rules as a request's code); the
  subject is found, or recorded with that one address, only once it matched.
  The page answers the same whether or not we knew the address, so it tells
  nobody who our customers are.
- `consent_opt_out`: "Do Not Sell or Share My Personal Information" and
  "Limit the Use of My Sensitive Personal Information". The CCPA regulations
  forbid asking for verification for either (Cal. Code Regs. tit. 11
  7026(d), 7027(e)): the address only names whose choices these are, and the
  opt-out applies at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from accounts.actors import actor_portal
from audit.services import audit_record
from consent.choices import ConsentChannel
from consent.models import ChoicesCode, Purpose
from consent.services.events import (
    Recorded,
    actor_for_data_subject,
    consent_withdraw_all,
)
from consent.services.inputs import evidence_clean
from dsr.notifications import send_templated
from privacydesk.errors import ValidationFailed
from privacydesk.onetime_codes import (
    code_check,
    code_clean,
    code_hash,
    code_new,
    code_spend,
    resend_wait_seconds,
)
from subjects.claims import claim_blind_index, identity_claims
from subjects.models import DataSubject
from subjects.services import subject_get_or_create

# Codes expired this long ago are deleted when the next one is sent: the
# encrypted address is kept no longer than the code needs it.
KEEP_EXPIRED = timedelta(days=1)


class OptOut(models.TextChoices):
    SALE_SHARING = "sale_sharing", "Do Not Sell or Share My Personal Information"
    SENSITIVE = "sensitive", "Limit the Use of My Sensitive Personal Information"


def _email_claims(email: str) -> list[Any]:
    claims = identity_claims({"email": email}, field="email")
    return [claim for claim in claims if claim[0] == "email"]


def _hash(code_row: ChoicesCode, code: str) -> str:
    return code_hash(code, purpose=f"choices:{code_row.public_id}")


def choices_code_send(*, email: str) -> ChoicesCode:
    """E-mail a fresh code for the choices page of `email`; the earlier codes
    of that address stop working. A resend within PORTAL_CODE_RESEND_SECONDS
    is refused, naming the wait."""
    claims = _email_claims(email)
    index = claim_blind_index(claims[0])
    now = timezone.now()
    earlier = ChoicesCode.objects.filter(email_index=index)
    last = earlier.order_by("-sent_at").first()
    wait = resend_wait_seconds(last.sent_at if last else None)
    if wait:
        raise ValidationFailed(
            f"a code was just sent; you can ask again in {wait} s", field="email"
        )
    code = code_new()
    with transaction.atomic():
        earlier.delete()
        ChoicesCode.objects.filter(expires_at__lt=now - KEEP_EXPIRED).delete()
        row = ChoicesCode(
            email=claims[0][2],
            email_index=index,
            expires_at=now + timedelta(minutes=settings.PORTAL_CODE_TTL_MINUTES),
            sent_at=now,
        )
        row.code_hash = _hash(row, code)
        row.save()
        audit_record(
            actor=actor_portal(),
            action="consent.choices_code_sent",
            obj=row,
            data={},
        )
    send_templated(
        name="subject_choices_code",
        to=[claims[0][2]],
        context={"code": code, "ttl": settings.PORTAL_CODE_TTL_MINUTES},
    )
    return row


def choices_code_get(*, public_id: str) -> ChoicesCode | None:
    """The code a choices link names (its public id), or None."""
    try:
        return ChoicesCode.objects.filter(public_id=uuid.UUID(public_id)).first()
    except ValueError:
        return None


def choices_code_check(*, code_row: ChoicesCode, code: str) -> DataSubject:
    """The subject whose choices a matched code opens, found or recorded with
    the address; the code is spent and the address forgotten. A wrong code
    counts its attempt and raises (field `code`)."""
    code = code_clean(code)
    code_check(code_row, code=code, expected_hash=_hash(code_row, code))
    with transaction.atomic():
        code_spend(code_row)
        subject = subject_get_or_create(claims=_email_claims(code_row.email))
        ChoicesCode.objects.filter(pk=code_row.pk).update(email="")
        audit_record(
            actor=actor_for_data_subject(subject=subject),
            action="consent.choices_opened",
            obj=subject,
            data={"code": str(code_row.public_id)},
        )
    return subject


@dataclass(frozen=True)
class OptedOut:
    """What an opt-out changed: the purposes it withdrew now (empty when all
    were withdrawn already), and those it covers."""

    recorded: list[Recorded]
    covered: list[Purpose]


def opt_out_purposes(opt_out: str) -> models.QuerySet[Purpose]:
    if opt_out == OptOut.SENSITIVE:
        return Purpose.objects.filter(uses_sensitive_pi=True)
    if opt_out == OptOut.SALE_SHARING:
        return Purpose.objects.filter(is_sale_or_sharing=True)
    raise ValidationFailed("not an opt-out this page offers", field="opt_out")


def consent_opt_out(
    *,
    email: str,
    opt_out: str,
    evidence: Mapping[str, Any] | None = None,
) -> OptedOut:
    """Withdraw every purpose the opt-out covers for the subject of `email`
    (recorded with that address if unknown), at once and without a code."""
    purposes = list(opt_out_purposes(opt_out))
    claims = _email_claims(email)
    clean = evidence_clean(evidence)
    with transaction.atomic():
        subject = subject_get_or_create(claims=claims)
        recorded = consent_withdraw_all(
            actor=actor_for_data_subject(subject=subject),
            subject=subject,
            purposes=purposes,
            channel=ConsentChannel.PORTAL,
            evidence=clean,
        )
        audit_record(
            actor=actor_for_data_subject(subject=subject),
            action="consent.opted_out",
            obj=subject,
            data={
                "opt_out": opt_out,
                "withdrawn": [item.event.purpose.slug for item in recorded],
            },
        )
    return OptedOut(recorded=recorded, covered=purposes)
