"""Tests for dsr.deadlines (dates and counting).

Every expected date below was worked out by hand from the rule it tests and
checked against Python's ``calendar`` module and the ``holidays`` package
(weekday and bank-holiday status), never copied from the engine's output.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dsr.deadlines.counting import (
    RULES,
    DeadlineRules,
    Pause,
    can_extend,
    compute_deadlines,
    pause_is_honoured,
)
from dsr.deadlines.dates import WorkingCalendar, add_months, hours_deadline

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


# --- EU: identity suspension, only if ID was asked promptly (EDPB para 159) -----

EU_INCLUSIVE = DeadlineRules(
    identity="suspend",
    clarification="exclude_exclusive",
    identity_request_max_delay_days=3,
    suspension_counting="inclusive",
)
EU_NO_DELAY = DeadlineRules(
    identity="suspend",
    clarification="none",
    identity_request_max_delay_days=0,
)


@pytest.mark.parametrize(
    ("rules", "pauses", "extended", "paused_days", "due"),
    [
        # ID asked 2 days after receipt, 5-15 Sep: 10 days -> Mon 13 Oct.
        (
            None,
            [identity(date(2025, 9, 5), date(2025, 9, 15))],
            False,
            10,
            date(2025, 10, 13),
        ),
        # Asked exactly 3 days after receipt: still prompt enough.
        (
            None,
            [identity(date(2025, 9, 6), date(2025, 9, 16))],
            False,
            10,
            date(2025, 10, 13),
        ),
        # Asked 5 days after receipt: too late, the clock was not suspended.
        (
            None,
            [identity(date(2025, 9, 8), date(2025, 9, 18))],
            False,
            0,
            date(2025, 10, 3),
        ),
        # Inclusive counting adds the day the ID arrived: 11 days -> Tue 14 Oct.
        (
            EU_INCLUSIVE,
            [identity(date(2025, 9, 5), date(2025, 9, 15))],
            False,
            11,
            date(2025, 10, 14),
        ),
        # Zero-day threshold: asked on the day of receipt, 3-5 Sep = 2 days,
        # 3 Oct + 2 = Sun 5 Oct -> Mon 6 Oct.
        (
            EU_NO_DELAY,
            [identity(date(2025, 9, 3), date(2025, 9, 5))],
            False,
            2,
            date(2025, 10, 6),
        ),
        (
            EU_NO_DELAY,
            [identity(date(2025, 9, 4), date(2025, 9, 6))],
            False,
            0,
            date(2025, 10, 3),
        ),
        # Overlapping identity (4-9 Sep, 6 days) and clarification (8 Sep) pauses:
        # a day is paused once, so 6 days, not 7 -> Thu 9 Oct.
        (
            None,
            [
                identity(date(2025, 9, 4), date(2025, 9, 10)),
                clarification(date(2025, 9, 8), date(2025, 9, 9)),
            ],
            False,
            6,
            date(2025, 10, 9),
        ),
        # Extended: 3 Dec + 10 = Sat 13 Dec -> Mon 15 Dec.
        (
            None,
            [identity(date(2025, 9, 5), date(2025, 9, 15))],
            True,
            10,
            date(2025, 12, 15),
        ),
    ],
)
def test_eu_identity_suspension(
    rules: DeadlineRules | None,
    pauses: list[Pause],
    extended: bool,
    paused_days: int,
    due: date,
) -> None:
    result = compute_deadlines(
        regime="gdpr",
        received_on=date(2025, 9, 3),
        calendar=IRELAND,
        rules=rules,
        pauses=pauses,
        extended=extended,
    )
    assert result.clock_start == date(2025, 9, 3)
    assert result.paused_days == paused_days
    assert result.due_on == due


@pytest.mark.parametrize(
    ("rules", "pause", "received_on", "expected"),
    [
        (RULES["gdpr"], identity(date(2025, 9, 6)), date(2025, 9, 3), True),
        (RULES["gdpr"], identity(date(2025, 9, 7)), date(2025, 9, 3), False),
        (RULES["gdpr"], clarification(date(2025, 9, 20)), date(2025, 9, 3), True),
        (RULES["uk_gdpr"], identity(date(2025, 9, 20)), date(2025, 9, 3), True),
        (RULES["ccpa"], identity(date(2025, 9, 4)), date(2025, 9, 3), False),
        (RULES["ccpa"], clarification(date(2025, 9, 4)), date(2025, 9, 3), False),
    ],
)
def test_pause_is_honoured(
    rules: DeadlineRules, pause: Pause, received_on: date, expected: bool
) -> None:
    assert pause_is_honoured(pause, received_on=received_on, rules=rules) is expected


# --- Open pauses: counted up to the "today" the caller passes --------------------


@pytest.mark.parametrize(
    ("regime", "calendar", "pause", "paused_days", "due", "open_pause"),
    [
        # EU, waiting for ID since 4 Sep, today 10 Sep: 4-9 Sep = 6 days.
        ("gdpr", IRELAND, identity(date(2025, 9, 4)), 6, date(2025, 10, 9), True),
        # UK clarification since 8 Sep, today 10 Sep counts as paused: 3 days,
        # 3 Oct + 3 = Mon 6 Oct.
        (
            "uk_gdpr",
            ENGLAND,
            clarification(date(2025, 9, 8)),
            3,
            date(2025, 10, 6),
            True,
        ),
        # EU ID asked too late: ignored, so nothing is open as far as the clock goes.
        ("gdpr", IRELAND, identity(date(2025, 9, 8)), 0, date(2025, 10, 3), False),
    ],
)
def test_open_pause_counts_up_to_today(
    regime: str,
    calendar: WorkingCalendar,
    pause: Pause,
    paused_days: int,
    due: date,
    open_pause: bool,
) -> None:
    result = compute_deadlines(
        regime=regime,
        received_on=date(2025, 9, 3),
        calendar=calendar,
        pauses=[pause],
        today=date(2025, 9, 10),
    )
    assert result.paused_days == paused_days
    assert result.due_on == due
    assert result.open_pause is open_pause


# --- CCPA (Cal. Code Regs. tit. 11 §7021) ----------------------------------------


@pytest.mark.parametrize(
    ("received_on", "pauses", "acknowledge_by", "due", "extended_due"),
    [
        # 45 days after Wed 19 Nov 2025 is Sat 3 Jan 2026: not rolled.
        # 90 days: Tue 17 Feb 2026.
        (
            date(2025, 11, 19),
            [],
            date(2025, 12, 5),
            date(2026, 1, 3),
            date(2026, 2, 17),
        ),
        # Received Sat 22 Mar 2025: 45 days -> Tue 6 May, 90 days -> Fri 20 Jun.
        (date(2025, 3, 22), [], date(2025, 4, 7), date(2025, 5, 6), date(2025, 6, 20)),
        # Verification (an identity pause) never stops the clock.
        (
            date(2025, 11, 19),
            [identity(date(2025, 11, 20), date(2025, 12, 10))],
            date(2025, 12, 5),
            date(2026, 1, 3),
            date(2026, 2, 17),
        ),
    ],
)
def test_ccpa_deadlines(
    received_on: date,
    pauses: list[Pause],
    acknowledge_by: date,
    due: date,
    extended_due: date,
) -> None:
    result = compute_deadlines(
        regime="ccpa", received_on=received_on, calendar=CALIFORNIA, pauses=pauses
    )
    assert result.acknowledge_by == acknowledge_by
    assert result.paused_days == 0
    assert result.due_on == due
    assert result.standard_due_on == due
    assert result.extension_notice_by == due
    assert result.extended_due_on == extended_due
    assert result.open_pause is False


# --- can_extend: notice with reasons within the first period -------------------


@pytest.mark.parametrize(
    ("regime", "calendar", "pauses", "notice_sent_on", "expected"),
    [
        # Received 25 Nov 2025 (UK): the month ends on the rolled Mon 29 Dec.
        ("uk_gdpr", ENGLAND, [], date(2025, 12, 24), True),
        ("uk_gdpr", ENGLAND, [], date(2025, 12, 29), True),
        ("uk_gdpr", ENGLAND, [], date(2025, 12, 30), False),
        # A 5-day clarification pause (1-5 Dec, inclusive) moves the window:
        # 25 Dec + 5 = 30 Dec (Tue).
        (
            "uk_gdpr",
            ENGLAND,
            [clarification(date(2025, 12, 1), date(2025, 12, 5))],
            date(2025, 12, 30),
            True,
        ),
        (
            "uk_gdpr",
            ENGLAND,
            [clarification(date(2025, 12, 1), date(2025, 12, 5))],
            date(2025, 12, 31),
            False,
        ),
        # CCPA: within the first 45 days, i.e. by Fri 9 Jan 2026.
        ("ccpa", CALIFORNIA, [], date(2026, 1, 9), True),
        ("ccpa", CALIFORNIA, [], date(2026, 1, 10), False),
    ],
)
def test_can_extend(
    regime: str,
    calendar: WorkingCalendar,
    pauses: list[Pause],
    notice_sent_on: date,
    expected: bool,
) -> None:
    deadlines = compute_deadlines(
        regime=regime, received_on=date(2025, 11, 25), calendar=calendar, pauses=pauses
    )
    assert can_extend(deadlines, notice_sent_on=notice_sent_on) is expected


# --- Periods in hours never roll (R1182 Art. 3(4); GDPR Art. 33(1)) --------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Thursday + 72 h ends on a Sunday and stays there.
        (
            datetime(2025, 6, 5, 10, 0, tzinfo=UTC),
            72,
            datetime(2025, 6, 8, 10, 0, tzinfo=UTC),
        ),
        # Christmas Eve + 72 h: Saturday 27 Dec, after two bank holidays.
        (
            datetime(2025, 12, 24, 12, 0, tzinfo=LONDON),
            72,
            datetime(2025, 12, 27, 12, 0, tzinfo=LONDON),
        ),
        # Clocks go forward on 30 Mar 2025: 72 real hours end at 10:00 BST.
        (
            datetime(2025, 3, 28, 9, 0, tzinfo=LONDON),
            72,
            datetime(2025, 3, 31, 10, 0, tzinfo=LONDON),
        ),
        # Clocks go back on 26 Oct 2025: 72 real hours end at 08:00 GMT.
        (
            datetime(2025, 10, 24, 9, 0, tzinfo=LONDON),
            72,
            datetime(2025, 10, 27, 8, 0, tzinfo=LONDON),
        ),
        (
            datetime(2025, 6, 6, 18, 0, tzinfo=timezone(timedelta(hours=2))),
            72,
            datetime(2025, 6, 9, 18, 0, tzinfo=timezone(timedelta(hours=2))),
        ),
        (
            datetime(2025, 6, 6, 18, 0, tzinfo=UTC),
            0,
            datetime(2025, 6, 6, 18, 0, tzinfo=UTC),
        ),
    ],
)
def test_hours_deadline(start: datetime, hours: int, expected: datetime) -> None:
    result = hours_deadline(start, hours)
    # Same instant, same wall-clock reading and same offset as expected.
    assert result.isoformat() == expected.isoformat()
    assert result.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)


# --- Bad input is refused, not guessed at ----------------------------------------


def _open_pause_without_today() -> object:
    return compute_deadlines(
        regime="gdpr",
        received_on=date(2025, 9, 3),
        calendar=IRELAND,
        pauses=[identity(date(2025, 9, 4))],
    )


def _open_pause_starting_after_today() -> object:
    return compute_deadlines(
        regime="uk_gdpr",
        received_on=date(2025, 9, 3),
        calendar=ENGLAND,
        pauses=[clarification(date(2025, 9, 12))],
        today=date(2025, 9, 10),
    )


def _pause_before_receipt() -> object:
    return compute_deadlines(
        regime="uk_gdpr",
        received_on=date(2025, 9, 3),
        calendar=ENGLAND,
        pauses=[clarification(date(2025, 9, 1), date(2025, 9, 5))],
    )


def _ccpa_with_identity_suspension() -> object:
    return compute_deadlines(
        regime="ccpa",
        received_on=date(2025, 9, 3),
        calendar=CALIFORNIA,
        rules=RULES["gdpr"],
    )


def _unknown_regime() -> object:
    return compute_deadlines(
        regime="hipaa", received_on=date(2025, 9, 3), calendar=CALIFORNIA
    )


def _naive_breach_clock() -> object:
    naive = datetime(2025, 6, 5, 10, 0)  # noqa: DTZ001 - naive on purpose
    return hours_deadline(naive, 72)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (_open_pause_without_today, "pass today="),
        (_open_pause_starting_after_today, "after today"),
        (_pause_before_receipt, "before the request was received"),
        (_ccpa_with_identity_suspension, "CCPA"),
        (_unknown_regime, "hipaa"),
        (lambda: Pause("fee", date(2025, 9, 3)), "pause reason"),
        (lambda: identity(date(2025, 9, 5), date(2025, 9, 4)), "end before"),
        (lambda: DeadlineRules("pause", "none", 3), "identity rule"),
        (lambda: DeadlineRules("none", "pause", 3), "clarification rule"),
        (lambda: DeadlineRules("none", "none", 3, "weekly"), "suspension counting"),
        (lambda: DeadlineRules("suspend", "none", -1), "must not be negative"),
        (lambda: WorkingCalendar("XX"), "unknown holiday calendar"),
        (lambda: WorkingCalendar("GB", "XXX"), "unknown holiday calendar"),
        (lambda: ENGLAND.add_business_days(date(2025, 9, 3), -1), "negative"),
        (_naive_breach_clock, "aware"),
        (lambda: hours_deadline(datetime(2025, 6, 5, tzinfo=UTC), -1), "negative"),
    ],
)
def test_bad_input_is_rejected(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_default_rules() -> None:
    assert RULES["gdpr"] == DeadlineRules("suspend", "exclude_exclusive", 3)
    assert RULES["uk_gdpr"].identity == "restart"
    assert RULES["uk_gdpr"].clarification == "exclude_inclusive"
    assert RULES["ccpa"].identity == "none"
    assert RULES["ccpa"].clarification == "none"


def test_uk_restart_never_also_subtracts_the_id_wait() -> None:
    # Even when identity waits are counted inclusively, the day the ID arrives
    # is the new clock start, not a paused day: due one month later, 10 Oct.
    rules = DeadlineRules(
        identity="restart",
        clarification="exclude_inclusive",
        identity_request_max_delay_days=3,
        suspension_counting="inclusive",
    )
    result = compute_deadlines(
        regime="uk_gdpr",
        received_on=date(2025, 9, 3),
        calendar=ENGLAND,
        rules=rules,
        pauses=[identity(date(2025, 9, 4), date(2025, 9, 10))],
    )
    assert result.clock_start == date(2025, 9, 10)
    assert result.paused_days == 0
    assert result.due_on == date(2025, 10, 10)
