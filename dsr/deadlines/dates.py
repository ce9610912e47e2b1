"""Working days and calendar arithmetic for request deadlines.

Plain Python: no Django, no database, no clock. A ``WorkingCalendar`` knows
the weekends and public holidays of one jurisdiction; ``add_months`` and
``hours_deadline`` count periods in months and in hours. The deadline engine
(``dsr.deadlines.counting``) builds on them.
"""

import calendar as _calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import holidays

ONE_DAY = timedelta(days=1)


# --- Working days ------------------------------------------------------------


@lru_cache(maxsize=256)
def _public_holidays(
    country: str, subdivision: str | None, year: int
) -> frozenset[date]:
    """Public holidays of one jurisdiction for one year (cached per year)."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


@lru_cache(maxsize=64)
def _check_calendar(country: str, subdivision: str | None) -> None:
    """Raise ValueError for a calendar the holidays package does not know
    (cached: building one costs about 2 ms, and every request computes its
    deadlines)."""
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as error:
        raise ValueError(f"unknown holiday calendar: {error}") from error


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days of one jurisdiction: Monday to Friday, minus public holidays.

    ``country`` and ``subdivision`` are the codes of the ``holidays`` package,
    e.g. ``WorkingCalendar("GB", "ENG")``, ``WorkingCalendar("US", "CA")``.
    R1182 Art. 2(1): the public holidays are those of the state concerned.
    """

    country: str
    subdivision: str | None = None

    def __post_init__(self) -> None:
        # Fail on a typo in settings at start-up, not on the first due date.
        _check_calendar(self.country, self.subdivision)

    def is_working_day(self, day: date) -> bool:
        """True for Monday to Friday, unless the day is a public holiday."""
        if day.weekday() >= 5:  # Saturday (5) or Sunday (6)
            return False
        return day not in _public_holidays(self.country, self.subdivision, day.year)

    def next_working_day_on_or_after(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def add_business_days(self, day: date, n: int) -> date:
        """The n-th working day after ``day``; ``day`` itself is not counted.

        Received on Saturday: Monday is business day 1.
        """
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        remaining = n
        while remaining > 0:
            day += ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day


# --- Calendar arithmetic -------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same date ``months`` later, or that month's last day if it has no such date.

    R1182 Art. 3(2)(c); EDPB 01/2022 Examples 32-33: 5 Mar -> 5 Apr,
    31 Aug -> 30 Sep, 31 Jan 2024 -> 29 Feb 2024, 31 Jan 2025 -> 28 Feb 2025.
    ``months`` may be negative.
    """
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    last_day = _calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


def hours_deadline(start: datetime, hours: int) -> datetime:
    """``start`` plus ``hours`` real hours, e.g. a 72 h breach notice (GDPR Art. 33).

    Periods expressed in hours never roll over weekends or holidays
    (R1182 Art. 3(4) applies only to periods *not* expressed in hours).
    The sum is taken in UTC, so a period crossing a daylight-saving change
    is still exactly ``hours`` long; the result is in ``start``'s time zone.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be a time-zone-aware datetime")
    if hours < 0:
        raise ValueError(f"hours must not be negative, got {hours}")
    end_utc = start.astimezone(UTC) + timedelta(hours=hours)
    return end_utc.astimezone(start.tzinfo)
