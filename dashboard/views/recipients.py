"""The recipients told of a request's change (GDPR Art. 19) on its page, and
an officer recording a manual step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.permissions import Perm
from dashboard.forms.recipients import RecipientDoneForm, RecipientImpossibleForm
from dashboard.views.common import staff_view
from dsr.choices import RECIPIENT_NOTICE_KINDS, NotificationStatus, NotifyMethod
from dsr.models import RecipientNotification, Request
from dsr.selectors import (
    recipient_notification_get,
    recipient_notification_list,
    request_get,
)
from dsr.services.recipients import recipient_notification_mark
from privacydesk.errors import IllegalTransition, ValidationFailed

MARK_FORMS: dict[str, type[forms.Form]] = {
    NotificationStatus.DONE: RecipientDoneForm,
    NotificationStatus.IMPOSSIBLE: RecipientImpossibleForm,
}


@dataclass
class RecipientRow:
    """One notification and the forms this person may use on it."""

    notification: RecipientNotification
    forms: dict[str, forms.Form] = field(default_factory=dict)


def _prefix(status: str, row: RecipientNotification) -> str:
    return f"{status}-{row.public_id.hex}"


def recipients_context(actor: Actor, dsr: Request) -> dict[str, Any]:
    """What the request page's recipients panel needs."""
    rows = []
    may_mark = actor.can(Perm.REQUEST_CLOSE)
    for row in recipient_notification_list(actor=actor, request=dsr):
        # An e-mail still pending can be recorded by hand too (the mail
        # server refused it; the officer wrote another way).
        open_step = row.status == NotificationStatus.PENDING and row.method in (
            NotifyMethod.MANUAL,
            NotifyMethod.EMAIL,
        )
        rows.append(
            RecipientRow(
                notification=row,
                forms={
                    status: form(prefix=_prefix(status, row))
                    for status, form in MARK_FORMS.items()
                }
                if open_step and may_mark
                else {},
            )
        )
    return {
        "recipient_rows": rows,
        "recipients_apply": dsr.kind in RECIPIENT_NOTICE_KINDS,
        "recipients_to_do": sum(
            r.notification.status == NotificationStatus.PENDING for r in rows
        ),
    }


@require_POST
@staff_view
def recipient_mark(
    request: HttpRequest,
    actor: Actor,
    public_id: Any,
    notification_id: Any,
    status: str,
) -> HttpResponse:
    """Record one recipient as told, or telling it as impossible."""
    form_class = MARK_FORMS.get(status)
    if form_class is None:
        raise Http404("no such action")
    try:
        dsr = request_get(actor=actor, public_id=str(public_id))
        row = recipient_notification_get(
            actor=actor, request=dsr, public_id=str(notification_id)
        )
    except (Request.DoesNotExist, RecipientNotification.DoesNotExist) as missing:
        raise Http404("no such notification") from missing
    actor.require(Perm.REQUEST_CLOSE)  # before validation reveals anything
    form = form_class(request.POST, prefix=_prefix(status, row))
    back = redirect(
        reverse("dashboard:request_detail", args=[dsr.public_id])
        + f"#recipient-{row.public_id}"
    )
    if not form.is_valid():
        errors = " ".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, f"Not recorded: {errors}")
        return back
    try:
        recipient_notification_mark(
            actor=actor,
            notification=row,
            status=status,
            justification=form.cleaned_data.get("justification", ""),
            note=form.cleaned_data.get("note", ""),
        )
    except (IllegalTransition, ValidationFailed) as error:
        messages.error(request, f"Not recorded: {error.message}")
    else:
        messages.success(
            request,
            f"{row.recipient_name}: recorded as "
            + ("told." if status == NotificationStatus.DONE else "impossible to tell."),
        )
    return back
