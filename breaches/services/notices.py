"""Telling data subjects of a breach (GDPR Art. 34), one notice each.

The officer pastes the subjects' e-mail addresses; each becomes a notice
(the address encrypted, with its blind index, as subjects' identifiers are
kept), linked to the subject Privacy Desk knows under it, and a task per
notice sends it through the notification machinery. Nothing here logs or
audits an address: notices are named by their id and the subject's
pseudonym.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_batch, audit_record
from breaches.choices import BreachStatus, NoticeStatus, SubjectsDecision
from breaches.models import Breach, BreachNotice
from dsr.choices import Regime
from dsr.notifications import send_templated
from dsr.regimes import supervisory_authority
from privacydesk import crypto
from privacydesk.errors import IllegalTransition, ValidationFailed
from privacydesk.history import history_bulk_create
from subjects.choices import IdentifierKind
from subjects.selectors import subject_find

logger = logging.getLogger(__name__)
SYSTEM = "system:breaches"
MAX_ADDRESSES = 5000
_SEPARATORS = re.compile(r"[\s,;]+")


def notice_addresses_clean(text: Any, *, field: str = "addresses") -> list[str]:
    """The addresses of a pasted list (one per line, or separated by commas
    or semicolons), each checked; an error names the entry's position, never
    the address."""
    if isinstance(text, list | tuple):
        entries = [str(item).strip() for item in text]
    else:
        entries = [item for item in _SEPARATORS.split(str(text or "")) if item]
    entries = [entry for entry in entries if entry]
    if not entries:
        raise ValidationFailed("give at least one e-mail address", field=field)
    if len(entries) > MAX_ADDRESSES:
        raise ValidationFailed(
            f"at most {MAX_ADDRESSES} addresses at once", field=field
        )
    for position, entry in enumerate(entries, start=1):
        try:
            validate_email(entry)
        except ValidationError as error:
            raise ValidationFailed(
                f"entry {position} is not a valid e-mail address", field=field
            ) from error
    return entries


def breach_notices_request(
    *, actor: Actor, breach: Breach, addresses: Any
) -> tuple[list[BreachNotice], int]:
    """Queue one notice per new address; returns the notices made and how
    many addresses already had one (or appeared twice)."""
    actor.require(Perm.BREACH_MANAGE)
    entries = notice_addresses_clean(addresses)
    from breaches.tasks import send_breach_notice_task

    with transaction.atomic(), audit_batch():
        locked = Breach.objects.select_for_update().get(pk=breach.pk)
        if locked.status != BreachStatus.OPEN:
            raise IllegalTransition("this breach is closed")
        if locked.subjects_decision != SubjectsDecision.NOTIFY:
            raise ValidationFailed(
                "record the decision to tell the subjects (Art. 34) first",
                field="subjects_decision",
            )
        indexed = {
            crypto.blind_index(IdentifierKind.EMAIL, entry): entry for entry in entries
        }
        known = set(
            BreachNotice.objects.filter(
                breach=locked, blind_index__in=list(indexed)
            ).values_list("blind_index", flat=True)
        )
        notices = [
            BreachNotice(
                breach=locked,
                subject=subject_find(claims=[(IdentifierKind.EMAIL, "", address)]),
                address=address,
                blind_index=index,
                requested_by=actor.ref,
            )
            for index, address in indexed.items()
            if index not in known
        ]
        BreachNotice.objects.bulk_create(notices)
        history_bulk_create(BreachNotice, notices)
        skipped = len(entries) - len(notices)
        audit_record(
            actor=actor,
            action="breach.notices_requested",
            obj=locked,
            data={
                "notices": [str(notice.public_id) for notice in notices],
                "count": len(notices),
                "already_notified_or_repeated": skipped,
            },
        )
        ids = [notice.pk for notice in notices]
        transaction.on_commit(
            lambda: [send_breach_notice_task.delay(notice_id) for notice_id in ids]
        )
    return notices, skipped


def breach_notice_context(breach: Breach) -> dict[str, Any]:
    """What the subject is told (Art. 34(2): 33(3)(b)-(d) in clear language)."""
    return {
        "breach": breach,
        "contact_point": breach.contact_point or settings.DEFAULT_FROM_EMAIL,
        # A breach notice is the GDPR's (Art. 34): its regime's authority.
        "supervisory_authority": supervisory_authority(Regime.GDPR),
    }


def breach_notice_send(*, notice_id: int) -> str:
    """Send one notice, once. A mail server's refusal is recorded (the
    attempt, the error's kind) and raised again for the task to retry, until
    the last attempt marks the notice failed."""
    refused: OSError | None = None
    with transaction.atomic(), audit_batch():
        notice = (
            BreachNotice.objects.select_for_update(of=("self",))
            .select_related("breach", "subject")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None:
            return "no-notice"
        if notice.status != NoticeStatus.QUEUED:
            return f"already-{notice.status}"
        notice.attempts += 1
        try:
            send_templated(
                name="subject_breach_notice",
                to=[notice.address],
                context=breach_notice_context(notice.breach),
            )
        except OSError as error:
            refused = error
            notice.last_error = f"the mail server refused: {type(error).__name__}"
            if notice.attempts >= settings.TASK_MAX_ATTEMPTS:
                notice.status = NoticeStatus.FAILED
                audit_record(
                    actor=SYSTEM,
                    action="breach.notice_failed",
                    obj=notice.breach,
                    data=_notice_data(notice),
                )
        else:
            notice.status = NoticeStatus.SENT
            notice.sent_at = timezone.now()
            notice.last_error = ""
            audit_record(
                actor=SYSTEM,
                action="breach.notice_sent",
                obj=notice.breach,
                data=_notice_data(notice),
            )
        notice.save()
    if refused is None:
        logger.info("breach notice %s sent", notice.pk)
        return "sent"
    logger.warning("breach notice %s not sent (attempt %d)", notice.pk, notice.attempts)
    if notice.status == NoticeStatus.FAILED:
        return "failed"
    raise refused


def _notice_data(notice: BreachNotice) -> dict[str, Any]:
    return {
        "notice": str(notice.public_id),
        "recipient": notice.recipient_label,
        "channel": notice.channel,
        "attempts": notice.attempts,
        "sent_at": notice.sent_at,
    }


def breach_notice_retry(*, actor: Actor, notice: BreachNotice) -> BreachNotice:
    """Queue a failed notice again."""
    actor.require(Perm.BREACH_MANAGE)
    from breaches.tasks import send_breach_notice_task

    with transaction.atomic():
        changed = BreachNotice.objects.filter(
            pk=notice.pk, status=NoticeStatus.FAILED, breach__status=BreachStatus.OPEN
        ).update(status=NoticeStatus.QUEUED, attempts=0, updated_at=timezone.now())
        if changed != 1:
            raise IllegalTransition("only a failed notice of an open breach is retried")
        audit_record(
            actor=actor,
            action="breach.notice_retried",
            obj=notice.breach,
            data={"notice": str(notice.public_id)},
        )
        notice_id = notice.pk
        transaction.on_commit(lambda: send_breach_notice_task.delay(notice_id))
    notice.refresh_from_db()
    return notice
