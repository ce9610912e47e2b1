"""E-mails to the privacy officers as a breach's 72-hour clock runs down.

Beat runs `breach_clock_warnings_send` every few minutes. Each threshold
(48 hours left, 24 hours left, overdue) is e-mailed once per breach: the
breach row is locked, its `warned_*` stamp checked and set in the same
transaction as the e-mail is handed over, so a second run (or two beats at
once) sends nothing more. A breach first seen past two thresholds gets only
the most urgent e-mail, and the ones it supersedes are stamped too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from breaches.choices import AuthorityDecision, BreachStatus, ClockState
from breaches.clock import WARN_FIRST_HOURS, breach_clock
from breaches.models import NOTIFICATION_PERIOD, Breach
from dsr.notifications import send_templated

logger = logging.getLogger(__name__)
# Each state, and the stamps an e-mail about it sets (itself and the
# thresholds it supersedes).
_STAMPS = {
    ClockState.WARN_48: ("warned_48_at",),
    ClockState.WARN_24: ("warned_48_at", "warned_24_at"),
    ClockState.OVERDUE: ("warned_48_at", "warned_24_at", "warned_overdue_at"),
}


def breaches_on_the_clock(*, now: datetime) -> list[int]:
    """Open breaches not yet notified nor decided not notifiable, whose clock
    has reached the first warning."""
    horizon = now - NOTIFICATION_PERIOD + timedelta(hours=WARN_FIRST_HOURS)
    return list(
        Breach.objects.filter(
            status=BreachStatus.OPEN,
            authority_notified_at__isnull=True,
            aware_at__lte=horizon,
            warned_overdue_at__isnull=True,
        )
        .exclude(authority_decision=AuthorityDecision.NOT_NOTIFY)
        .values_list("pk", flat=True)
    )


def breach_clock_warnings_send(*, now: datetime | None = None) -> int:
    """Warn the officers of each threshold reached since the last run."""
    now = now or timezone.now()
    sent = 0
    for breach_id in breaches_on_the_clock(now=now):
        sent += _warn(breach_id, now=now)
    return sent


def _warn(breach_id: int, *, now: datetime) -> int:
    with transaction.atomic():
        breach = (
            Breach.objects.select_for_update(skip_locked=True)
            .filter(pk=breach_id)
            .first()
        )
        if breach is None:
            return 0  # another run holds it
        clock = breach_clock(breach, now=now)
        stamps = _STAMPS.get(ClockState(clock.state))
        if not stamps or getattr(breach, stamps[-1]) is not None:
            return 0
        for stamp in stamps:
            if getattr(breach, stamp) is None:
                setattr(breach, stamp, now)
        breach.save(update_fields=[*stamps, "updated_at"])
        audit_record(
            actor="system:breaches",
            action="breach.clock_warning",
            obj=breach,
            data={
                "state": clock.state,
                "hours_left": round(clock.hours_left, 2),
                "notify_by": clock.notify_by,
            },
        )
        if settings.PRIVACY_OFFICER_EMAILS:
            send_templated(
                name="officer_breach_clock",
                to=list(settings.PRIVACY_OFFICER_EMAILS),
                context={
                    "breach": breach,
                    "clock": clock,
                    "overdue": clock.state == ClockState.OVERDUE,
                    "breach_url": settings.SITE_URL
                    + reverse("dashboard:breach_detail", args=[breach.public_id]),
                },
            )
    logger.info("breach %s: clock warning %s sent", breach.pk, clock.state)
    return 1
