"""Delivery: the officers' e-mail, and the signed webhook on a loopback server,
tried again until it answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from alerts.choices import (
    AlertRule,
    DeliveryChannel,
    DeliveryStatus,
    Severity,
    SubjectKind,
)
from alerts.delivery import alert_delivery_send
from alerts.models import Alert, AlertDelivery
from alerts.rules import Finding
from alerts.services import alert_raise
from connectors.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_verify
from tests.conftest import Webhook

pytestmark = pytest.mark.django_db
SECRET = "alert-webhook-secret-for-tests"


@pytest.fixture
def hooked(webhook: Webhook) -> Iterator[Webhook]:
    with override_settings(
        ALERT_WEBHOOK_URL=webhook.url,
        ALERT_WEBHOOK_SECRET=SECRET,
        PRIVACY_OFFICER_EMAILS=["dpo@example.com", "ciso@example.com"],
        ALERT_DELIVERY_MAX_ATTEMPTS=3,
    ):
        yield webhook


def _raise() -> Alert:
    now = timezone.now()
    alert, _ = alert_raise(
        finding=Finding(
            rule=AlertRule.IP_BURST,
            severity=Severity.MEDIUM,
            subject_kind=SubjectKind.IP_HASH,
            subject="ab" * 32,
            window_start=now - timedelta(minutes=20),
            window_end=now,
            count=9,
            merge_within=timedelta(hours=1),
        )
    )
    return alert


def test_a_raised_alert_is_mailed_and_posted_signed(
    hooked: Webhook, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    # when an alert is raised (its deliveries run through Celery at commit)
    with django_capture_on_commit_callbacks(execute=True):
        alert = _raise()
    # then the officers have an e-mail naming the rule, no personal data
    [message] = mail.outbox
    assert message.to == ["dpo@example.com", "ciso@example.com"]
    assert "Burst of requests from one address" in message.subject
    assert str(alert.public_id) in message.body
    # and the webhook received the alert, signed with the secret
    [received] = hooked.received
    signature_verify(
        key=SECRET,
        timestamp=received.headers[TIMESTAMP_HEADER],
        signature=received.headers[SIGNATURE_HEADER],
        body=received.body,
    )
    payload = received.json()
    assert payload["event"] == "privacydesk.alert.raised"
    assert payload["alert"]["id"] == str(alert.public_id)
    assert payload["alert"]["rule"] == "ip_burst"
    assert payload["alert"]["count"] == 9
    statuses = dict(alert.deliveries.values_list("channel", "status"))
    assert statuses == {
        DeliveryChannel.EMAIL: DeliveryStatus.SENT,
        DeliveryChannel.WEBHOOK: DeliveryStatus.SENT,
    }


def test_a_forged_signature_does_not_verify(hooked: Webhook) -> None:
    alert = _raise()
    delivery = alert.deliveries.get(channel=DeliveryChannel.WEBHOOK)
    alert_delivery_send(delivery_id=delivery.pk)
    [received] = hooked.received
    from connectors.signing import SignatureRejected

    with pytest.raises(SignatureRejected):
        signature_verify(
            key="another-secret-of-some-length",
            timestamp=received.headers[TIMESTAMP_HEADER],
            signature=received.headers[SIGNATURE_HEADER],
            body=received.body,
        )


def test_a_failing_webhook_is_tried_again_then_given_up(hooked: Webhook) -> None:
    # given a receiver answering 503
    hooked.reply = (503, {"error": "down"})
    alert = _raise()
    delivery = alert.deliveries.get(channel=DeliveryChannel.WEBHOOK)
    # when it is tried: twice more tries are left, then none
    first = alert_delivery_send(delivery_id=delivery.pk)
    assert first is not None
    assert first.retry
    assert first.delivery.last_error == "webhook answered HTTP 503"
    second = alert_delivery_send(delivery_id=delivery.pk)
    assert second is not None
    assert second.retry
    third = alert_delivery_send(delivery_id=delivery.pk)
    # then
    assert third is not None
    assert not third.retry
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert len(hooked.received) == 3
    # and a delivery given up is not tried again
    assert alert_delivery_send(delivery_id=delivery.pk) is None


def test_a_webhook_that_recovers_is_sent_once(hooked: Webhook) -> None:
    answers = iter([(500, {}), (202, {})])
    hooked.reply = lambda _body: next(answers)
    alert = _raise()
    delivery = alert.deliveries.get(channel=DeliveryChannel.WEBHOOK)
    assert alert_delivery_send(delivery_id=delivery.pk).retry  # type: ignore[union-attr]
    outcome = alert_delivery_send(delivery_id=delivery.pk)
    assert outcome is not None
    assert outcome.delivery.status == DeliveryStatus.SENT
    assert outcome.delivery.attempts == 2
    assert alert_delivery_send(delivery_id=delivery.pk) is None
    assert len(hooked.received) == 2


def test_without_a_webhook_url_only_the_email_is_queued() -> None:
    alert = _raise()
    assert list(
        AlertDelivery.objects.filter(alert=alert).values_list("channel", flat=True)
    ) == [DeliveryChannel.EMAIL]
