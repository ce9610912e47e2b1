"""The bridge between a Request's rows and the pure deadline engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from dsr.deadlines.counting import (
    RULES,
    DeadlineRules,
    Deadlines,
    Pause,
    compute_deadlines,
)
from dsr.deadlines.dates import WorkingCalendar
from dsr.models import ClockPause, Request


def controller_zone() -> ZoneInfo:
    return ZoneInfo(settings.CONTROLLER_TIME_ZONE)


def local_date(moment: datetime) -> date:
    """The controller's calendar day of an instant (23:30 local counts that day)."""
    return moment.astimezone(controller_zone()).date()


def local_today() -> date:
    return local_date(timezone.now())


def end_of_day(day: date) -> datetime:
    """A period ends at the end of its last day, in the controller's zone."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=controller_zone())


def working_calendar() -> WorkingCalendar:
    return WorkingCalendar(
        country=settings.DEADLINE_COUNTRY, subdivision=settings.DEADLINE_SUBDIVISION
    )


def deadline_rules(regime: str) -> DeadlineRules:
    """Per-regime counting rules, with the configurable EU promptness window."""
    return replace(
        RULES[regime],
        identity_request_max_delay_days=settings.DEADLINE_ID_REQUEST_MAX_DELAY_DAYS,
    )


def request_deadlines(
    request: Request,
    *,
    extended: bool | None = None,
    pauses: Iterable[ClockPause] | None = None,
) -> Deadlines:
    """`pauses`: the request's pauses, for one not saved yet (else read)."""
    if pauses is None:
        pauses = request.pauses.all() if request.pk else []
    spans = [
        Pause(
            reason=p.reason,
            started_on=local_date(p.started_at),
            ended_on=local_date(p.ended_at) if p.ended_at else None,
        )
        for p in pauses
    ]
    identity_pauses = [p for p in spans if p.reason == "identity" and p.ended_on]
    return compute_deadlines(
        regime=request.regime,
        received_on=local_date(request.received_at),
        calendar=working_calendar(),
        rules=deadline_rules(request.regime),
        pauses=spans,
        identity_received_on=identity_pauses[-1].ended_on if identity_pauses else None,
        extended=request.is_extended if extended is None else extended,
        today=local_today(),
    )


def apply_deadlines(
    request: Request, *, pauses: Iterable[ClockPause] | None = None
) -> Deadlines:
    """Recompute and set (not save) the stored dates of a request."""
    deadlines = request_deadlines(request, pauses=pauses)
    request.clock_start_on = deadlines.clock_start
    request.due_on = deadlines.due_on
    request.standard_due_on = deadlines.standard_due_on
    request.extension_notice_by = deadlines.extension_notice_by
    request.acknowledge_by = deadlines.acknowledge_by
    return deadlines


def days_left(request: Request, *, today: date | None = None) -> int:
    return (request.due_on - (today or local_today())).days
