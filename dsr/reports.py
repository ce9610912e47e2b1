"""Reads that sum requests up: volume, on-time rate and days to close for the
dashboard's charts, and the CCPA metrics of Cal. Code Regs. tit. 11 §7102.

Every date is the controller's (the zone the legal clock runs in); "days to
close" counts calendar days from the day a request was received to the day
it was answered.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import QuerySet

from accounts.actors import Actor
from accounts.permissions import Perm
from dsr.choices import DenialBasis, Regime, RequestKind, RequestStatus
from dsr.clock import controller_zone, local_date
from dsr.models import Request

# A request is answered when it is closed with a substantive response: done
# (in whole or in part), failed after the work was attempted, or refused. A
# cancelled request was withdrawn, not answered.
ANSWERED_STATUSES = (
    RequestStatus.COMPLETED,
    RequestStatus.PARTIALLY_COMPLETED,
    RequestStatus.FAILED,
    RequestStatus.REJECTED,
)
COMPLIED_STATUSES = (RequestStatus.COMPLETED, RequestStatus.PARTIALLY_COMPLETED)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=controller_zone())


def _received_between(start: date, end: date) -> QuerySet[Request]:
    """Requests received from `start` to `end`, both days included."""
    return Request.objects.filter(
        received_at__gte=day_start(start),
        received_at__lt=day_start(date.fromordinal(end.toordinal() + 1)),
    )


def _month(day: date) -> date:
    return day.replace(day=1)


def months_ending(last: date, count: int) -> list[date]:
    """The first days of the `count` months up to the month of `last`."""
    year, month = last.year, last.month
    months = []
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


@dataclass(frozen=True)
class MonthFigures:
    """One month: requests received, and those answered in it."""

    month: date
    received: int
    answered: int
    on_time: int
    median_days: float | None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.answered if self.answered else None


@dataclass(frozen=True)
class RequestStats:
    """Volume and timeliness over a run of months."""

    months: list[MonthFigures]
    by_kind: list[tuple[str, str, int]]  # (value, label, received)
    by_regime: list[tuple[str, str, int]]
    received: int
    answered: int
    on_time: int
    median_days: float | None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.answered if self.answered else None


def request_stats(*, actor: Actor, last: date, months: int) -> RequestStats:
    """Requests received per month, kind and regime, and for those answered
    in each month: how many on time (by the due date then in force) and the
    median days from receipt to answer, over the `months` up to `last`'s."""
    actor.require(Perm.REQUEST_VIEW)
    firsts = months_ending(last, months)
    start = firsts[0]
    received = list(
        _received_between(start, last).values_list("received_at", "kind", "regime")
    )
    per_month = Counter(_month(local_date(at)) for at, _, _ in received)
    kinds = Counter(kind for _, kind, _ in received)
    regimes = Counter(regime for _, _, regime in received)
    answered = Request.objects.filter(
        status__in=ANSWERED_STATUSES,
        closed_at__gte=day_start(start),
        closed_at__lt=day_start(date.fromordinal(last.toordinal() + 1)),
    ).values_list("received_at", "closed_at", "due_on")
    days_by_month: dict[date, list[int]] = {month: [] for month in firsts}
    on_time_by_month: Counter[date] = Counter()
    for received_at, closed_at, due_on in answered:
        if closed_at is None:  # the filter on closed_at rules it out
            continue
        closed_on = local_date(closed_at)
        month = _month(closed_on)
        days_by_month.setdefault(month, []).append(
            (closed_on - local_date(received_at)).days
        )
        on_time_by_month[month] += closed_on <= due_on
    figures = [
        MonthFigures(
            month=month,
            received=per_month[month],
            answered=len(days_by_month[month]),
            on_time=on_time_by_month[month],
            median_days=_median(days_by_month[month]),
        )
        for month in firsts
    ]
    every_day = [days for month in firsts for days in days_by_month[month]]
    return RequestStats(
        months=figures,
        by_kind=[(k.value, str(k.label), kinds[k.value]) for k in RequestKind],
        by_regime=[(r.value, str(r.label), regimes[r.value]) for r in Regime],
        received=len(received),
        answered=len(every_day),
        on_time=sum(on_time_by_month.values()),
        median_days=_median(every_day),
    )


# --- CCPA metrics (Cal. Code Regs. tit. 11 §7102(a)(1)) ------------------------

# Each CCPA request type, and the request kinds that are one. Opt-outs of
# sale/sharing also arrive as consent withdrawals (GPC); consent adds those.
CCPA_TYPES: list[tuple[str, str, tuple[str, ...]]] = [
    ("know", "Requests to know", (RequestKind.ACCESS, RequestKind.PORTABILITY)),
    ("delete", "Requests to delete", (RequestKind.ERASURE,)),
    ("correct", "Requests to correct", (RequestKind.RECTIFICATION,)),
    ("opt_out", "Requests to opt out of sale/sharing", (RequestKind.OBJECTION,)),
    ("limit", "Requests to limit use of sensitive PI", (RequestKind.RESTRICTION,)),
]


@dataclass
class CcpaRow:
    """One request type's figures for one calendar year."""

    key: str
    label: str
    received: int = 0
    complied_whole: int = 0
    complied_part: int = 0
    denied: int = 0
    # Denials by ground (§7102(a)(2)): DenialBasis values, "" not stated.
    denied_by_basis: Counter[str] = field(default_factory=Counter)
    # Answered otherwise (failed, cancelled) or not answered yet.
    other: int = 0
    pending: int = 0
    # Calendar days from receipt to the substantive response, per answer.
    response_days: list[int] = field(default_factory=list)

    @property
    def complied(self) -> int:
        return self.complied_whole + self.complied_part

    @property
    def median_days(self) -> float | None:
        return _median(self.response_days)

    @property
    def mean_days(self) -> float | None:
        days = self.response_days
        return round(statistics.fmean(days), 1) if days else None

    def denied_for(self, basis: str) -> int:
        """Denials on this ground; OTHER also counts those with none stated."""
        if basis == DenialBasis.OTHER:
            return self.denied_by_basis[basis] + self.denied_by_basis[""]
        return self.denied_by_basis[basis]


def ccpa_year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def ccpa_request_metrics(*, actor: Actor, year: int) -> list[CcpaRow]:
    """§7102(a)(1) for the requests (regime CCPA) received in `year`: per
    type, received, complied with in whole or in part, denied (and on what
    ground), and the days to a substantive response (a completion or a
    denial). Status is as of now, so a December request answered in
    January counts as answered."""
    actor.require(Perm.REQUEST_VIEW)
    start, end = ccpa_year_bounds(year)
    rows = {key: CcpaRow(key, label) for key, label, _ in CCPA_TYPES}
    type_of = {kind: key for key, _, kinds in CCPA_TYPES for kind in kinds}
    requests = (
        _received_between(start, end)
        .filter(regime=Regime.CCPA)
        .values_list("kind", "status", "denial_basis", "received_at", "closed_at")
    )
    for kind, status, basis, received_at, closed_at in requests:
        row = rows[type_of[kind]]
        row.received += 1
        if status == RequestStatus.COMPLETED:
            row.complied_whole += 1
        elif status == RequestStatus.PARTIALLY_COMPLETED:
            row.complied_part += 1
        elif status == RequestStatus.REJECTED:
            row.denied += 1
            row.denied_by_basis[basis] += 1
        elif status in (RequestStatus.FAILED, RequestStatus.CANCELLED):
            row.other += 1
        else:
            row.pending += 1
        if status in (*COMPLIED_STATUSES, RequestStatus.REJECTED) and closed_at:
            row.response_days.append(
                (local_date(closed_at) - local_date(received_at)).days
            )
    return list(rows.values())
