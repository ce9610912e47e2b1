"""E-mails to data subjects and to privacy officers.

Each message is three templates under templates/email/: NAME_subject.txt,
NAME_body.txt and NAME_body.html. Nothing here logs an address.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from dsr.clock import end_of_day
from dsr.links import status_token
from dsr.models import Request
from dsr.regimes import supervisory_authority
from dsr.selectors import recipients_told
from subjects.claims import subject_email

logger = logging.getLogger(__name__)


def send_templated(*, name: str, to: list[str], context: dict[str, Any]) -> None:
    context = {
        "controller_name": settings.CONTROLLER_NAME,
        "site_url": settings.SITE_URL,
        **context,
    }
    subject = render_to_string(f"email/{name}_subject.txt", context).strip()
    body = render_to_string(f"email/{name}_body.txt", context)
    html = render_to_string(f"email/{name}_body.html", context)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    message.send()


def status_url(request: Request) -> str:
    token = status_token(str(request.public_id))
    return settings.SITE_URL + reverse("portal:status", args=[token])


def request_context(request: Request) -> dict[str, Any]:
    return {
        "request": request,
        # Where this requester may complain: their regime's authority.
        "supervisory_authority": supervisory_authority(request.regime),
        "status_url": status_url(request),
        "due_at": end_of_day(request.due_on),
    }


def notify_subject(
    *, request: Request, notice: str, extra: dict[str, Any] | None = None
) -> bool:
    """Send one notice about a request to its requester; False if no address."""
    email = subject_email(identity=request.identity)
    if email is None:
        logger.info(
            "request %s has no e-mail address; notice %s not sent", request.pk, notice
        )
        return False
    context = request_context(request)
    if notice == "closed":
        # GDPR 19: the subject is told who received the data that changed.
        context["recipients"] = recipients_told(request=request)
    send_templated(
        name=f"subject_{notice}",
        to=[email],
        context={**context, **(extra or {})},
    )
    logger.info("sent notice %s for request %s", notice, request.pk)
    return True
