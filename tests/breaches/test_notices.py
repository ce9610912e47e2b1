"""Art. 34 notices: the officer's list of addresses becomes one recorded
notice per subject, each sent by a task through the e-mail machinery."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from accounts.actors import Actor
from audit.models import AuditEvent
from breaches.choices import NoticeStatus
from breaches.models import Breach, BreachNotice
from breaches.services.notices import breach_notice_retry, breach_notices_request
from breaches.services.register import breach_update
from dsr.choices import Regime
from dsr.models import Request
from dsr.regimes import supervisory_authority
from privacydesk.errors import IllegalTransition, ValidationFailed

pytestmark = pytest.mark.django_db
ADDRESSES = "ada@example.org\ngrace@example.org, linus@example.org"


@pytest.fixture
def notifiable(make_breach: Callable[..., Breach], officer_actor: Actor) -> Breach:
    """A high-risk breach the officer decided to tell the subjects of."""
    breach = make_breach(
        risk="high_risk",
        contact_point="dpo@support.example",
        consequences="Your chat history may have been read by others.",
        measures="We closed the bucket and rotated every access key.",
    )
    return breach_update(actor=officer_actor, breach=breach, subjects_decision="notify")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_each_address_gets_one_notice_sent_by_a_task_and_recorded(
    notifiable: Breach,
    officer_actor: Actor,
    make_request: Callable[..., Request],
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given Ada is a known subject (she filed a request)
    ada = make_request(identity={"email": "Ada@Example.org"}).subject
    caplog.set_level(logging.DEBUG)
    # when the officer pastes three addresses (the tasks run after commit)
    with django_capture_on_commit_callbacks(execute=True):
        notices, skipped = breach_notices_request(
            actor=officer_actor, breach=notifiable, addresses=ADDRESSES
        )
    # then each subject got one e-mail with Art. 34(2)'s content
    assert skipped == 0
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ada@example.org",
        "grace@example.org",
        "linus@example.org",
    ]
    body = mail.outbox[0].body
    assert notifiable.reference in body
    assert "dpo@support.example" in body  # 33(3)(b)
    assert "may have been read by others" in body  # (c)
    assert "rotated every access key" in body  # (d)
    # where to complain: the GDPR's authority, never an empty sentence
    assert supervisory_authority(Regime.GDPR) in body
    assert mail.outbox[0].alternatives  # and an HTML part
    # and each is recorded as sent, Ada's linked to her subject record
    rows = BreachNotice.objects.filter(breach=notifiable).order_by("created_at")
    assert [n.status for n in rows] == [NoticeStatus.SENT] * 3
    assert all(n.sent_at is not None and n.attempts == 1 for n in rows)
    assert rows.get(subject=ada).recipient_label == ada.pseudonym
    sent = AuditEvent.objects.filter(action="breach.notice_sent")
    assert sent.count() == 3
    assert {e.data["recipient"] for e in sent} >= {ada.pseudonym}
    # and no address reached the audit log or the logs
    audit_text = str(list(AuditEvent.objects.values_list("data", flat=True)))
    for address in ("ada@", "grace@", "linus@"):
        assert address not in audit_text
        assert address not in caplog.text


def test_addresses_are_stored_encrypted(
    notifiable: Breach, officer_actor: Actor, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        breach_notices_request(
            actor=officer_actor, breach=notifiable, addresses="grace@example.org"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM breaches_breachnotice")
        stored = cursor.fetchone()[0]
        cursor.execute("SELECT address FROM breaches_historicalbreachnotice")
        history = cursor.fetchone()[0]
    assert "grace" not in stored
    assert "grace" not in history
    assert BreachNotice.objects.get().address == "grace@example.org"


def test_an_address_already_told_is_skipped(
    notifiable: Breach, officer_actor: Actor, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        breach_notices_request(
            actor=officer_actor, breach=notifiable, addresses="grace@example.org"
        )
        notices, skipped = breach_notices_request(
            actor=officer_actor,
            breach=notifiable,
            addresses="GRACE@example.org\nalan@example.org",
        )
    assert (len(notices), skipped) == (1, 1)
    assert len(mail.outbox) == 2


def test_notices_need_the_decision_to_tell_the_subjects(
    make_breach: Callable[..., Breach], officer_actor: Actor
) -> None:
    breach = make_breach(risk="high_risk")
    with pytest.raises(ValidationFailed) as error:
        breach_notices_request(
            actor=officer_actor, breach=breach, addresses="grace@example.org"
        )
    assert error.value.field == "subjects_decision"
    assert not BreachNotice.objects.exists()


def test_a_bad_address_is_named_by_position_never_echoed(
    notifiable: Breach, officer_actor: Actor
) -> None:
    with pytest.raises(ValidationFailed) as error:
        breach_notices_request(
            actor=officer_actor,
            breach=notifiable,
            addresses="grace@example.org\nnot-an-address",
        )
    assert error.value.field == "addresses"
    assert "entry 2" in error.value.message
    assert "not-an-address" not in error.value.message
    assert not BreachNotice.objects.exists()


def test_a_refusing_mail_server_is_retried_then_the_notice_fails_and_can_be_retried(
    notifiable: Breach,
    officer_actor: Actor,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a mail server nobody listens on (a real SMTP connection refused)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    with django_capture_on_commit_callbacks(execute=True):
        breach_notices_request(
            actor=officer_actor, breach=notifiable, addresses="grace@example.org"
        )
    # then every attempt is counted, and the last marks the notice failed
    notice = BreachNotice.objects.get()
    assert notice.status == NoticeStatus.FAILED
    assert notice.attempts == settings.TASK_MAX_ATTEMPTS
    assert notice.last_error.startswith("the mail server refused")
    assert AuditEvent.objects.filter(action="breach.notice_failed").count() == 1
    # when the server is back and the officer retries
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        breach_notice_retry(actor=officer_actor, notice=notice)
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT
    assert [m.to for m in mail.outbox] == [["grace@example.org"]]
    with pytest.raises(IllegalTransition):
        breach_notice_retry(actor=officer_actor, notice=notice)
