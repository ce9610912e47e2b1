"""The 72-hour clock of Art. 33(1): real hours, warnings at 48 and 24."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from breaches.choices import ClockState
from breaches.clock import breach_clock
from breaches.models import Breach
from tests.breaches.conftest import FRIDAY_5PM

pytestmark = pytest.mark.django_db


def _breach(aware_at: datetime, **fields: object) -> Breach:
    return Breach(aware_at=aware_at, **fields)


def test_the_clock_runs_72_real_hours_across_a_weekend() -> None:
    # given a breach known on a Friday at 17:00
    breach = _breach(FRIDAY_5PM)
    # then notification is due on Monday at 17:00, not rolled to a working day
    clock = breach_clock(breach, now=FRIDAY_5PM)
    assert clock.notify_by == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
    assert clock.notify_by.weekday() == 0
    assert clock.hours_left == 72
    # and on Sunday at 17:00 (a weekend day) there are 24 hours left
    sunday = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
    assert breach_clock(breach, now=sunday).hours_left == 24


def test_a_breach_known_on_a_saturday_is_due_on_tuesday_same_hour() -> None:
    saturday = datetime(2026, 3, 7, 9, 30, tzinfo=UTC)
    clock = breach_clock(_breach(saturday), now=saturday)
    assert clock.notify_by == datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hours_after_awareness", "state"),
    [
        (0, ClockState.RUNNING),
        (23.99, ClockState.RUNNING),
        (24, ClockState.WARN_48),
        (47.99, ClockState.WARN_48),
        (48, ClockState.WARN_24),
        (72, ClockState.WARN_24),
        (72.01, ClockState.OVERDUE),
    ],
)
def test_warnings_at_48_and_24_hours_left_then_overdue(
    hours_after_awareness: float, state: str
) -> None:
    now = FRIDAY_5PM + timedelta(hours=hours_after_awareness)
    clock = breach_clock(_breach(FRIDAY_5PM), now=now)
    assert clock.state == state
    assert clock.hours_left == pytest.approx(72 - hours_after_awareness)


def test_an_overdue_clock_says_by_how_much() -> None:
    now = FRIDAY_5PM + timedelta(hours=75, minutes=30)
    clock = breach_clock(_breach(FRIDAY_5PM), now=now)
    assert clock.label == "3 h 30 min overdue"
    assert clock.tone == "overdue"


def test_the_clock_stops_at_the_notification() -> None:
    in_time = _breach(
        FRIDAY_5PM, authority_notified_at=FRIDAY_5PM + timedelta(hours=70)
    )
    late = _breach(FRIDAY_5PM, authority_notified_at=FRIDAY_5PM + timedelta(hours=80))
    much_later = FRIDAY_5PM + timedelta(days=30)

    assert breach_clock(in_time, now=much_later).state == ClockState.NOTIFIED
    assert breach_clock(in_time, now=much_later).hours_left == 2
    assert breach_clock(late, now=much_later).state == ClockState.NOTIFIED_LATE
    assert breach_clock(late, now=much_later).hours_left == -8


def test_a_decision_not_to_notify_stops_the_clock() -> None:
    breach = _breach(FRIDAY_5PM, authority_decision="not_notify")
    clock = breach_clock(breach, now=FRIDAY_5PM + timedelta(days=10))
    assert clock.state == ClockState.NOT_REQUIRED
    assert not clock.running
