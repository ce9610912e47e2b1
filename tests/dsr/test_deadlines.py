"""Tests for dsr.deadlines.

Every expected date below was worked out by hand from the rule it tests and
checked against Python's ``calendar`` module and the ``holidays`` package
(weekday and bank-holiday status), never copied from the engine's output.
"""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dsr.deadlines import (
    RULES,
    DeadlineRules,
    Pause,
    WorkingCalendar,
    add_months,
    can_extend,
    compute_deadlines,
    hours_deadline,
    pause_is_honoured,
)

ENGLAND = WorkingCalendar("GB", "ENG")
IRELAND = WorkingCalendar("IE")
GERMANY = WorkingCalendar("DE")
CALIFORNIA = WorkingCalendar("US", "CA")
LONDON = ZoneInfo("Europe/London")


def identity(started_on: date, ended_on: date | None = None) -> Pause:
    return Pause(reason="identity", started_on=started_on, ended_on=ended_on)


def clarification(started_on: date, ended_on: date | None = None) -> Pause:
    return Pause(reason="clarification", started_on=started_on, ended_on=ended_on)


# --- add_months (R1182 Art. 3(2)(c)) -------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 3, 5), 1, date(2025, 4, 5)),  # EDPB Example 32
        (date(2025, 8, 31), 1, date(2025, 9, 30)),  # EDPB Example 33
        (date(2025, 3, 31), 1, date(2025, 4, 30)),  # ICO example
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2025, 1, 31), 1, date(2025, 2, 28)),  # non-leap year
        (date(2024, 2, 29), 1, date(2024, 3, 29)),  # from a leap day
        (date(2023, 1, 30), 1, date(2023, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # 2028 is a leap year
        (date(2100, 1, 31), 1, date(2100, 2, 28)),  # 2100 is not (century rule)
        (date(2099, 12, 31), 2, date(2100, 2, 28)),  # across a year end
        (date(2096, 2, 29), 48, date(2100, 2, 28)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 5, 31), 0, date(2025, 5, 31)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# --- Working calendars ----------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        (ENGLAND, date(2025, 12, 25), False),  # Christmas Day, Thursday
        (ENGLAND, date(2025, 12, 26), False),  # Boxing Day, Friday
        (ENGLAND, date(2025, 12, 27), False),  # Saturday
        (ENGLAND, date(2025, 12, 28), False),  # Sunday
        (ENGLAND, date(2025, 12, 29), True),  # Monday
        (ENGLAND, date(2026, 12, 28), False),  # Boxing Day substitute (Monday)
        (ENGLAND, date(2025, 4, 21), False),  # Easter Monday
        (ENGLAND, date(2025, 5, 5), False),  # early May bank holiday
        (ENGLAND, date(2025, 2, 3), True),  # an ordinary Monday in England...
        (IRELAND, date(2025, 2, 3), False),  # ...but St Brigid's Day in Ireland
        (ENGLAND, date(2025, 3, 17), True),
        (IRELAND, date(2025, 3, 17), False),  # St Patrick's Day
        (GERMANY, date(2025, 10, 3), False),  # Day of German Unity
        (CALIFORNIA, date(2025, 3, 31), False),  # Cesar Chavez Day
        (CALIFORNIA, date(2025, 11, 28), False),  # day after Thanksgiving
        (CALIFORNIA, date(2025, 12, 1), True),
    ],
)
def test_is_working_day(calendar: WorkingCalendar, day: date, expected: bool) -> None:
    assert calendar.is_working_day(day) is expected


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        (ENGLAND, date(2025, 10, 3), date(2025, 10, 3)),  # already a working day
        (ENGLAND, date(2025, 10, 4), date(2025, 10, 6)),  # Saturday -> Monday
        (ENGLAND, date(2025, 12, 25), date(2025, 12, 29)),  # Christmas -> Monday
        (ENGLAND, date(2025, 4, 18), date(2025, 4, 22)),  # Good Friday -> Tuesday
        (GERMANY, date(2025, 10, 3), date(2025, 10, 6)),
    ],
)
def test_next_working_day_on_or_after(
    calendar: WorkingCalendar, day: date, expected: date
) -> None:
    assert calendar.next_working_day_on_or_after(day) == expected


@pytest.mark.parametrize(
    ("calendar", "day", "n", "expected"),
    [
        # Wed 19 Nov 2025: 20, 21, 24, 25, 26 Nov (5); 27-28 Nov are Thanksgiving
        # and the day after; 1, 2, 3, 4, 5 Dec (10).
        (CALIFORNIA, date(2025, 11, 19), 10, date(2025, 12, 5)),
        # Sat 22 Mar 2025: 24-28 Mar (5); 31 Mar is Cesar Chavez Day;
        # 1-4 Apr (9); Mon 7 Apr (10).
        (CALIFORNIA, date(2025, 3, 22), 10, date(2025, 4, 7)),
        (ENGLAND, date(2025, 12, 24), 1, date(2025, 12, 29)),
        (ENGLAND, date(2025, 12, 24), 0, date(2025, 12, 24)),
    ],
)
def test_add_business_days(
    calendar: WorkingCalendar, day: date, n: int, expected: date
) -> None:
    assert calendar.add_business_days(day, n) == expected


# --- One month, rolled to a working day (GDPR/UK GDPR Art. 12(3); R1182; ICO) ---


@pytest.mark.parametrize(
    ("regime", "calendar", "received_on", "expected_due"),
    [
        ("uk_gdpr", ENGLAND, date(2025, 9, 3), date(2025, 10, 3)),  # ICO example
        # ICO example: 25 Dec is Christmas (Thu), 26 Boxing Day, 27-28 weekend.
        ("uk_gdpr", ENGLAND, date(2025, 11, 25), date(2025, 12, 29)),
        ("uk_gdpr", ENGLAND, date(2025, 3, 31), date(2025, 4, 30)),  # ICO example
        # 18 Apr 2025 is Good Friday, then a weekend, then Easter Monday.
        ("uk_gdpr", ENGLAND, date(2025, 3, 18), date(2025, 4, 22)),
        # Received on a Saturday; 5 May 2025 is the early May bank holiday.
        ("uk_gdpr", ENGLAND, date(2025, 4, 5), date(2025, 5, 6)),
        ("uk_gdpr", ENGLAND, date(2025, 9, 4), date(2025, 10, 6)),  # Sat -> Mon
        ("uk_gdpr", ENGLAND, date(2024, 1, 31), date(2024, 2, 29)),  # Thursday
        ("uk_gdpr", ENGLAND, date(2025, 1, 31), date(2025, 2, 28)),  # Friday
        ("uk_gdpr", ENGLAND, date(2023, 1, 30), date(2023, 2, 28)),  # Tuesday
        # 29 Mar 2024 is Good Friday and 1 Apr Easter Monday.
        ("uk_gdpr", ENGLAND, date(2024, 2, 29), date(2024, 4, 2)),
        ("uk_gdpr", ENGLAND, date(2028, 1, 31), date(2028, 2, 29)),  # Tuesday
        ("gdpr", IRELAND, date(2025, 8, 31), date(2025, 9, 30)),  # EDPB Ex. 33
        # 3 Feb 2025 is St Brigid's Day in Ireland but a working day in England.
        ("gdpr", IRELAND, date(2025, 1, 3), date(2025, 2, 4)),
        ("uk_gdpr", ENGLAND, date(2025, 1, 3), date(2025, 2, 3)),
        # 3 Oct 2025 is the Day of German Unity (Friday).
        ("gdpr", GERMANY, date(2025, 9, 3), date(2025, 10, 6)),
    ],
)
def test_one_month_due_date(
    regime: str, calendar: WorkingCalendar, received_on: date, expected_due: date
) -> None:
    result = compute_deadlines(
        regime=regime, received_on=received_on, calendar=calendar
    )
    assert result.clock_start == received_on
    assert result.paused_days == 0
    assert result.standard_due_on == expected_due
    assert result.due_on == expected_due
    assert result.extension_notice_by == expected_due
    assert result.acknowledge_by is None
    assert result.open_pause is False


# --- Extension: three months from the start, not chained -----------------------


@pytest.mark.parametrize(
    ("received_on", "expected_standard", "expected_extended"),
    [
        # Chaining from 28 Feb would give 28 Apr; three months from 31 Jan is 30 Apr.
        (date(2025, 1, 31), date(2025, 2, 28), date(2025, 4, 30)),
        # Chaining from the rolled 29 Dec would give 2 Mar 2026 (28 Feb is a
        # Saturday); three months from 25 Nov is Wed 25 Feb 2026.
        (date(2025, 11, 25), date(2025, 12, 29), date(2026, 2, 25)),
        # 18 Apr 2025 is Good Friday: the extended date rolls to Tue 22 Apr.
        (date(2025, 1, 18), date(2025, 2, 18), date(2025, 4, 22)),
        (date(2023, 11, 30), date(2024, 1, 2), date(2024, 2, 29)),
    ],
)
def test_extension_counts_three_months_from_start(
    received_on: date, expected_standard: date, expected_extended: date
) -> None:
    standard = compute_deadlines(
        regime="uk_gdpr", received_on=received_on, calendar=ENGLAND
    )
    extended = compute_deadlines(
        regime="uk_gdpr", received_on=received_on, calendar=ENGLAND, extended=True
    )
    assert standard.due_on == expected_standard
    assert standard.extended_due_on == expected_extended
    assert extended.due_on == expected_extended
    # Extending never moves the window in which the notice had to be sent.
    assert extended.extension_notice_by == expected_standard


# --- UK: the clock restarts when requested ID arrives (DPA 2018 s.54(3)) --------


@pytest.mark.parametrize(
    (
        "pauses",
        "identity_received_on",
        "today",
        "clock_start",
        "due",
        "extended_due",
        "open_pause",
    ),
    [
        # No ID asked for: the request itself starts the clock.
        ([], None, None, date(2025, 9, 3), date(2025, 10, 3), date(2025, 12, 3), False),
        # ID arrived on 10 Sep: one month from then, nothing subtracted twice.
        (
            [],
            date(2025, 9, 10),
            None,
            date(2025, 9, 10),
            date(2025, 10, 10),
            date(2025, 12, 10),
            False,
        ),
        (
            [identity(date(2025, 9, 4), date(2025, 9, 10))],
            date(2025, 9, 10),
            None,
            date(2025, 9, 10),
            date(2025, 10, 10),
            date(2025, 12, 10),
            False,
        ),
        # The recorded identity pause alone also restarts the clock.
        (
            [identity(date(2025, 9, 4), date(2025, 9, 10))],
            None,
            None,
            date(2025, 9, 10),
            date(2025, 10, 10),
            date(2025, 12, 10),
            False,
        ),
        # Still waiting on 20 Sep: assume the ID arrives today. Three months
        # from 20 Sep is Sat 20 Dec, rolled to Mon 22 Dec.
        (
            [identity(date(2025, 9, 4))],
            None,
            date(2025, 9, 20),
            date(2025, 9, 20),
            date(2025, 10, 20),
            date(2025, 12, 22),
            True,
        ),
        # A clarification pause while the clock had not started yet is not
        # subtracted again from the restarted month.
        (
            [
                identity(date(2025, 9, 4), date(2025, 9, 10)),
                clarification(date(2025, 9, 4), date(2025, 9, 6)),
            ],
            None,
            None,
            date(2025, 9, 10),
            date(2025, 10, 10),
            date(2025, 12, 10),
            False,
        ),
    ],
)
def test_uk_identity_restarts_the_clock(
    pauses: list[Pause],
    identity_received_on: date | None,
    today: date | None,
    clock_start: date,
    due: date,
    extended_due: date,
    open_pause: bool,
) -> None:
    result = compute_deadlines(
        regime="uk_gdpr",
        received_on=date(2025, 9, 3),
        calendar=ENGLAND,
        pauses=pauses,
        identity_received_on=identity_received_on,
        today=today,
    )
    assert result.clock_start == clock_start
    assert result.paused_days == 0
    assert result.due_on == due
    assert result.extended_due_on == extended_due
    assert result.open_pause is open_pause


def test_identity_received_on_does_not_restart_an_eu_clock() -> None:
    result = compute_deadlines(
        regime="gdpr",
        received_on=date(2025, 9, 3),
        calendar=IRELAND,
        identity_received_on=date(2025, 9, 10),
    )
    assert result.clock_start == date(2025, 9, 3)
    assert result.due_on == date(2025, 10, 3)


# --- Clarification: "stop the clock" (DPA 2018 s.54(3C)) ------------------------

UK_EXCLUSIVE_CLARIFICATION = DeadlineRules(
    identity="restart",
    clarification="exclude_exclusive",
    identity_request_max_delay_days=3,
)


@pytest.mark.parametrize(
    (
        "rules",
        "pauses",
        "extended",
        "paused_days",
        "due",
        "notice_by",
        "extended_due",
    ),
    [
        # Asked Mon 8 Sep, answered Fri 12 Sep: 8-12 Sep inclusive = 5 days.
        # 3 Oct + 5 = Wed 8 Oct; 3 Dec + 5 = Mon 8 Dec.
        (
            None,
            [clarification(date(2025, 9, 8), date(2025, 9, 12))],
            False,
            5,
            date(2025, 10, 8),
            date(2025, 10, 8),
            date(2025, 12, 8),
        ),
        # Same pause, the answer day counting (4 days): Tue 7 Oct.
        (
            UK_EXCLUSIVE_CLARIFICATION,
            [clarification(date(2025, 9, 8), date(2025, 9, 12))],
            False,
            4,
            date(2025, 10, 7),
            date(2025, 10, 7),
            date(2025, 12, 8),  # 3 Dec + 4 = Sun 7 Dec -> Mon 8 Dec
        ),
        # A pause running past the original end keeps pushing it:
        # 29 Sep-20 Oct inclusive = 22 days; 3 Oct + 22 = Sat 25 Oct -> Mon 27 Oct.
        # Extended: 3 Dec + 22 = 25 Dec (Christmas), Boxing Day, weekend -> 29 Dec.
        (
            None,
            [clarification(date(2025, 9, 29), date(2025, 10, 20))],
            False,
            22,
            date(2025, 10, 27),
            date(2025, 10, 27),
            date(2025, 12, 29),
        ),
        # A pause asked on the last day of the month still counts (1 day):
        # 3 Oct + 1 = Sat 4 Oct -> Mon 6 Oct.
        (
            None,
            [clarification(date(2025, 10, 3), date(2025, 10, 3))],
            False,
            1,
            date(2025, 10, 6),
            date(2025, 10, 6),
            date(2025, 12, 4),
        ),
        # Asked after the month ran out (4 Oct): it cannot revive the period.
        # The extended period was still running: 4-8 Oct = 5 days -> Mon 8 Dec.
        (
            None,
            [clarification(date(2025, 10, 4), date(2025, 10, 8))],
            False,
            0,
            date(2025, 10, 3),
            date(2025, 10, 3),
            date(2025, 12, 8),
        ),
        # Asked during a properly extended period (10-15 Oct, 6 days): it moves
        # the extended date (3 Dec + 6 = Tue 9 Dec) but not the notice window.
        (
            None,
            [clarification(date(2025, 10, 10), date(2025, 10, 15))],
            True,
            6,
            date(2025, 12, 9),
            date(2025, 10, 3),
            date(2025, 12, 9),
        ),
    ],
)
def test_uk_clarification_pause(
    rules: DeadlineRules | None,
    pauses: list[Pause],
    extended: bool,
    paused_days: int,
    due: date,
    notice_by: date,
    extended_due: date,
) -> None:
    result = compute_deadlines(
        regime="uk_gdpr",
        received_on=date(2025, 9, 3),
        calendar=ENGLAND,
        rules=rules,
        pauses=pauses,
        extended=extended,
    )
    assert result.paused_days == paused_days
    assert result.due_on == due
    assert result.extension_notice_by == notice_by
    assert result.extended_due_on == extended_due
