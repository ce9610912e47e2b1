"""The officers are e-mailed at 48 and 24 hours left and when overdue, once
each, by the beat task."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail

from accounts.actors import Actor
from audit.models import AuditEvent
from breaches.models import Breach
from breaches.services.register import breach_notify_authority, breach_update
from breaches.tasks import breach_clock_warnings_task
from tests.breaches.conftest import FRIDAY_5PM

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def officers(settings: Any) -> list[str]:
    settings.PRIVACY_OFFICER_EMAILS = ["dpo@support.example"]
    return settings.PRIVACY_OFFICER_EMAILS


def _beat_at(at: Callable[..., None], hours_after_awareness: float) -> int:
    at(FRIDAY_5PM + timedelta(hours=hours_after_awareness))
    return int(breach_clock_warnings_task.delay().get())


def test_each_threshold_is_warned_once(
    make_breach: Callable[..., Breach], at: Callable[..., None]
) -> None:
    breach = make_breach()
    # nothing while more than 48 hours are left
    assert _beat_at(at, 20) == 0
    # 48 hours left: one warning, and not again on the next beats
    assert _beat_at(at, 24.5) == 1
    assert _beat_at(at, 30) == 0
    # 24 hours left (Sunday): the second warning, once
    assert _beat_at(at, 48) == 1
    assert _beat_at(at, 60) == 0
    # past 72 hours (Monday 17:00): overdue, once
    assert _beat_at(at, 72.1) == 1
    assert _beat_at(at, 100) == 0
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 3
    assert "47 h 30 min left to notify the authority" in subjects[0]
    assert "24 h 00 min left to notify the authority" in subjects[1]
    assert "OVERDUE" in subjects[2]
    assert "0 h 06 min overdue" in subjects[2]
    assert all(m.to == ["dpo@support.example"] for m in mail.outbox)
    assert breach.reference in mail.outbox[0].body
    assert f"/dashboard/breaches/{breach.public_id}/" in mail.outbox[0].body
    states = AuditEvent.objects.filter(action="breach.clock_warning").values_list(
        "data__state", flat=True
    )
    assert list(states) == ["warn_48", "warn_24", "overdue"]


def test_a_breach_first_seen_late_gets_only_the_most_urgent_warning(
    make_breach: Callable[..., Breach], at: Callable[..., None]
) -> None:
    make_breach()
    assert _beat_at(at, 50) == 1
    assert _beat_at(at, 51) == 0
    assert len(mail.outbox) == 1
    assert "22 h 00 min left" in mail.outbox[0].subject
    states = AuditEvent.objects.filter(action="breach.clock_warning").values_list(
        "data__state", flat=True
    )
    assert list(states) == ["warn_24"]


def test_no_warning_once_notified_or_decided_not_notifiable(
    make_breach: Callable[..., Breach],
    officer_actor: Actor,
    at: Callable[..., None],
) -> None:
    notified = make_breach(title="Notified in time")
    breach_notify_authority(
        actor=officer_actor, breach=notified, notified_at=FRIDAY_5PM, reference="R-1"
    )
    not_notifiable = make_breach(title="Unlikely to result in a risk")
    breach_update(
        actor=officer_actor,
        breach=not_notifiable,
        risk="none",
        authority_decision="not_notify",
        authority_decision_reasons="Encrypted backup tape, key never left the HSM.",
    )
    assert _beat_at(at, 80) == 0
    assert mail.outbox == []
