"""The 72-hour clock of Art. 33(1), in real hours.

Unlike a request's month, a period in hours never rolls over a weekend or a
holiday: 72 hours from Friday 17:00 end on Monday 17:00. The clock stops when
the authority is notified, or when the officer records the decision, with its
reasons, that the breach is unlikely to result in a risk (Art. 33(5)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from breaches.choices import AuthorityDecision, ClockState
from breaches.models import NOTIFICATION_PERIOD, Breach

# The dashboard and the officers' e-mails warn at these hours left.
WARN_FIRST_HOURS = 48
WARN_SECOND_HOURS = 24


@dataclass(frozen=True)
class Clock:
    """Where a breach's clock stands at one instant."""

    state: str
    notify_by: datetime
    hours_left: float  # negative once overdue; at the stop, if stopped
    label: str

    @property
    def running(self) -> bool:
        return self.state in (
            ClockState.RUNNING,
            ClockState.WARN_48,
            ClockState.WARN_24,
            ClockState.OVERDUE,
        )

    @property
    def warning(self) -> bool:
        return self.state in (ClockState.WARN_48, ClockState.WARN_24)

    @property
    def tone(self) -> str:
        """The dashboard's colour for it: ok, soon, overdue or closed."""
        if self.warning:
            return "soon"
        if self.state in (ClockState.OVERDUE, ClockState.NOTIFIED_LATE):
            return "overdue"
        return "ok" if self.state == ClockState.RUNNING else "closed"


def _hours(label_hours: float) -> str:
    whole = int(abs(label_hours))
    minutes = int(round((abs(label_hours) - whole) * 60))
    if minutes == 60:
        whole, minutes = whole + 1, 0
    return f"{whole} h {minutes:02d} min"


def notification_late(*, aware_at: datetime, notified_at: datetime) -> bool:
    """Was the authority told more than 72 hours after awareness?"""
    return notified_at > aware_at + NOTIFICATION_PERIOD


def breach_clock(breach: Breach, *, now: datetime | None = None) -> Clock:
    """The clock of `breach` at `now` (default: now)."""
    now = now or timezone.now()
    notify_by = breach.aware_at + NOTIFICATION_PERIOD
    if breach.authority_notified_at is not None:
        left = (notify_by - breach.authority_notified_at).total_seconds() / 3600
        if left < 0:
            return Clock(
                ClockState.NOTIFIED_LATE,
                notify_by,
                left,
                f"Notified {_hours(left)} late",
            )
        return Clock(
            ClockState.NOTIFIED, notify_by, left, f"Notified with {_hours(left)} left"
        )
    if breach.authority_decision == AuthorityDecision.NOT_NOTIFY:
        return Clock(ClockState.NOT_REQUIRED, notify_by, 0.0, "Not notifiable")
    left = (notify_by - now).total_seconds() / 3600
    if left < 0:
        return Clock(ClockState.OVERDUE, notify_by, left, f"{_hours(left)} overdue")
    label = f"{_hours(left)} left"
    if left <= WARN_SECOND_HOURS:
        return Clock(ClockState.WARN_24, notify_by, left, label)
    if left <= WARN_FIRST_HOURS:
        return Clock(ClockState.WARN_48, notify_by, left, label)
    return Clock(ClockState.RUNNING, notify_by, left, label)
