"""Sending an alert: e-mail to the privacy officers, and the signed webhook.

Each channel is an `AlertDelivery` row with its tries. The webhook's body is
JSON signed like the http connector's jobs (connectors.signing): HMAC-SHA256
of "<timestamp>.<body>" with ALERT_WEBHOOK_SECRET, in X-PrivacyDesk-Signature,
so the receiver checks it with the same `signature_verify`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alerts.choices import DeliveryChannel, DeliveryStatus
from alerts.models import Alert, AlertDelivery
from connectors.signing import signature_headers
from dsr.notifications import send_templated

EVENT = "privacydesk.alert.raised"


class DeliveryError(Exception):
    """A try failed; the message names the cause, never a person."""


@dataclass(frozen=True)
class DeliveryOutcome:
    delivery: AlertDelivery
    retry: bool  # failed, and tries are left


def alert_url(alert: Alert) -> str:
    return (
        settings.SITE_URL
        + reverse("dashboard:alert_list")
        + f"#alert-{alert.public_id}"
    )


def alert_payload(alert: Alert) -> dict[str, Any]:
    """What the webhook receives: ids and counts, never personal data."""
    return {
        "event": EVENT,
        "alert": {
            "id": str(alert.public_id),
            "rule": alert.rule,
            "rule_label": alert.get_rule_display(),
            "severity": alert.severity,
            "subject_kind": alert.subject_kind,
            "subject": alert.subject,
            "count": alert.count,
            "window_start": alert.window_start.isoformat(),
            "window_end": alert.window_end.isoformat(),
            "raised_at": alert.raised_at.isoformat(),
            "url": alert_url(alert),
        },
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer, not a hop to follow with our body


_opener = urllib.request.build_opener(_NoRedirects)


def _webhook_send(alert: Alert) -> None:
    body = json.dumps(alert_payload(alert), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PrivacyDesk-Alerts/1",
        **signature_headers(key=settings.ALERT_WEBHOOK_SECRET, body=body),
    }
    request = urllib.request.Request(
        settings.ALERT_WEBHOOK_URL, data=body, headers=headers, method="POST"
    )
    try:
        with _opener.open(
            request, timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS
        ) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"webhook unreachable: {type(error).__name__}") from error
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook answered HTTP {status}")


def _email_send(alert: Alert) -> None:
    send_templated(
        name="officer_alert",
        to=settings.PRIVACY_OFFICER_EMAILS,
        context={"alert": alert, "alert_url": alert_url(alert)},
    )


def alert_delivery_send(*, delivery_id: int) -> DeliveryOutcome | None:
    """Try one delivery once; None when it is gone or done already."""
    delivery = (
        AlertDelivery.objects.select_related("alert").filter(pk=delivery_id).first()
    )
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    error = ""
    try:
        if delivery.channel == DeliveryChannel.WEBHOOK:
            if not settings.ALERT_WEBHOOK_URL:
                raise DeliveryError("ALERT_WEBHOOK_URL is no longer set")
            _webhook_send(delivery.alert)
        else:
            _email_send(delivery.alert)
    except (DeliveryError, OSError) as failure:  # SMTP errors are OSErrors
        error = (
            str(failure)
            if isinstance(failure, DeliveryError)
            else (f"mail server: {type(failure).__name__}")
        )
    with transaction.atomic():
        delivery = AlertDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.attempts += 1
        retry = False
        if not error:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
        else:
            delivery.last_error = error[:300]
            retry = delivery.attempts < settings.ALERT_DELIVERY_MAX_ATTEMPTS
            if not retry:
                delivery.status = DeliveryStatus.FAILED
        delivery.save()
    return DeliveryOutcome(delivery=delivery, retry=retry)
