"""Telling recipients of a rectification, erasure or restriction (GDPR
Art. 19, CCPA-REG §7022(b); REQUIREMENTS B29).

When such a request closes (`request_close_locked`, the one place every
close goes through), each recipient named in the disclosure of every store
the work succeeded in gets a `RecipientNotification`, by the method the
disclosure gives it (`connectors.disclosure.recipient_notify_method`):

- "connector": the store's own task told the processor; done when it
  succeeded, at its end;
- "email": a message to the recipient's address, sent by
  `send_recipient_notification_task` after commit;
- "manual": a to-do on the request's page, marked done by an officer, or
  impossible with a written justification;
- a recipient whose disclosure records an `impossible_reason` is recorded
  impossible at once, with that justification.

Every step is an audit event on the request, so the evidence pack proves it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.choices import Action
from connectors.disclosure import recipient_notify_method, store_recipients
from dsr.choices import (
    RECIPIENT_NOTICE_KINDS,
    NotificationStatus,
    NotifyMethod,
    RequestKind,
    TaskStatus,
)
from dsr.models import RecipientNotification, Request, RequestTask
from dsr.notifications import send_templated
from dsr.services.request_inputs import reason_clean
from privacydesk.errors import IllegalTransition, ValidationFailed

logger = logging.getLogger(__name__)

# The store action whose success means the recipients have something to learn.
ACTION_OF_KIND = {
    RequestKind.RECTIFICATION: Action.RECTIFY,
    RequestKind.ERASURE: Action.ERASE,
    RequestKind.RESTRICTION: Action.RESTRICT,
}
MARKS = (NotificationStatus.DONE, NotificationStatus.IMPOSSIBLE)


def recipient_notifications_plan(
    *, actor: Actor, request: Request
) -> list[RecipientNotification]:
    """Record who must be told of a closing rectification, erasure or
    restriction, and send the e-mails after commit. For a caller holding the
    request's row lock (the close); a second call adds nothing."""
    if request.kind not in RECIPIENT_NOTICE_KINDS:
        return []
    if request.recipient_notifications.exists():
        return []
    tasks = (
        RequestTask.objects.filter(
            request=request,
            action=ACTION_OF_KIND[RequestKind(request.kind)],
            status=TaskStatus.SUCCEEDED,
        )
        .select_related("connector")
        .order_by("connector__name")
    )
    now = timezone.now()
    rows: list[RecipientNotification] = []
    for task in tasks:
        seen: set[str] = set()
        for recipient in store_recipients(disclosure=task.connector.disclosure):
            name = recipient.name or recipient.category
            if name in seen:
                continue
            seen.add(name)
            row = RecipientNotification(
                request=request,
                connector=task.connector,
                recipient_name=name[:300],
                recipient_role=recipient.role[:100],
                named=bool(recipient.name),
                method=recipient_notify_method(recipient, kind=task.connector.kind),
                contact=recipient.contact[:254],
            )
            if recipient.impossible_reason:
                row.status = NotificationStatus.IMPOSSIBLE
                row.justification = recipient.impossible_reason
                row.status_at, row.status_by = now, actor.ref
            elif row.method == NotifyMethod.CONNECTOR:
                # The store's own task reached the processor: its success is
                # the notification.
                row.status = NotificationStatus.DONE
                row.status_at = task.finished_at or now
                row.status_by = actor.ref
                row.note = f"{Action(task.action).label} task {task.public_id}"
            rows.append(row)
    if not rows:
        return []
    created = RecipientNotification.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action="request.recipients_planned",
        obj=request,
        data={
            "notifications": [
                {
                    "id": str(row.public_id),
                    "connector": row.connector.name,
                    "recipient": row.recipient_name,
                    "method": row.method,
                    "status": row.status,
                }
                for row in created
            ]
        },
    )
    emails = [
        row.pk
        for row in created
        if row.method == NotifyMethod.EMAIL and row.status == NotificationStatus.PENDING
    ]
    if emails:
        # Local: dsr.tasks imports the services back (task <-> service pair).
        from dsr.tasks import send_recipient_notification_task

        transaction.on_commit(
            lambda: [send_recipient_notification_task.delay(pk) for pk in emails]
        )
    return created


def recipient_notification_email_send(*, notification_id: int, actor: Actor) -> str:
    """Send one e-mail notification; safe to run twice (only a pending one is
    sent). An unreachable mail server raises OSError after recording the try,
    for the task to retry."""
    failure: OSError | None = None
    with transaction.atomic():
        row = (
            RecipientNotification.objects.select_for_update(of=("self",))
            .select_related("request", "connector")
            .filter(pk=notification_id)
            .first()
        )
        if row is None or row.method != NotifyMethod.EMAIL:
            return "gone"
        if row.status != NotificationStatus.PENDING:
            return "already"
        row.attempts += 1
        try:
            send_templated(
                name="recipient_notification",
                to=[row.contact],
                context=_email_context(row),
            )
        except OSError as error:
            failure = error
            row.last_error = f"mail server: {type(error).__name__}"
            row.save(update_fields=["attempts", "last_error", "updated_at"])
        else:
            row.status = NotificationStatus.SENT
            row.status_at = timezone.now()
            row.status_by = actor.ref
            row.last_error = ""
            row.save(
                update_fields=[
                    "attempts",
                    "status",
                    "status_at",
                    "status_by",
                    "last_error",
                    "updated_at",
                ]
            )
            _audit_step(actor, row, "request.recipient_notified")
    if failure is not None:
        raise failure  # the try is recorded; the task retries
    logger.info("sent recipient notification %s", notification_id)
    return "sent"


def recipient_notification_mark(
    *,
    actor: Actor,
    notification: RecipientNotification,
    status: str,
    justification: str = "",
    note: str = "",
) -> RecipientNotification:
    """An officer records a recipient as told ("done") or telling it as
    impossible or disproportionate ("impossible", with the written
    justification Art. 19 requires). Only a notification still to do."""
    actor.require(Perm.REQUEST_CLOSE)
    if status not in MARKS:
        raise ValidationFailed(f"must be one of {', '.join(MARKS)}", field="status")
    why = reason_clean(
        justification,
        field="justification",
        required=status == NotificationStatus.IMPOSSIBLE,
    )
    what = reason_clean(note, field="note", required=False)
    with transaction.atomic():
        row = (
            RecipientNotification.objects.select_for_update(of=("self",))
            .select_related("request", "connector")
            .get(pk=notification.pk)
        )
        if row.status != NotificationStatus.PENDING:
            raise IllegalTransition(
                f"this notification is already {row.get_status_display().lower()}"
            )
        row.status = status
        row.justification = why
        row.note = what
        row.status_at = timezone.now()
        row.status_by = actor.ref
        row.save(
            update_fields=[
                "status",
                "justification",
                "note",
                "status_at",
                "status_by",
                "updated_at",
            ]
        )
        _audit_step(
            actor,
            row,
            "request.recipient_notification_recorded",
            justified=bool(why),
        )
    return row


def _audit_step(
    actor: Actor, row: RecipientNotification, action: str, **extra: Any
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=row.request,
        data={
            "notification": str(row.public_id),
            "recipient": row.recipient_name,
            "method": row.method,
            "status": row.status,
            **extra,
        },
    )


def _email_context(row: RecipientNotification) -> dict[str, Any]:
    """What the recipient needs to act: the request, the identifiers it was
    filed with and, for a rectification, the corrected values."""
    request = row.request
    identity = request.identity if isinstance(request.identity, dict) else {}
    identifiers = [
        (label, str(identity.get(key) or ""))
        for key, label in (("email", "E-mail address"), ("phone", "Phone number"))
        if identity.get(key)
    ] + [
        (f"Customer id ({system})", str(value))
        for system, value in sorted((identity.get("customer_ids") or {}).items())
    ]
    corrections = request.corrections if isinstance(request.corrections, dict) else {}
    return {
        "notification": row,
        "request": request,
        "recipient_name": row.recipient_name,
        "identifiers": identifiers,
        "corrections": sorted((str(k), str(v)) for k, v in corrections.items()),
        "reply_to": settings.DEFAULT_FROM_EMAIL,
    }
