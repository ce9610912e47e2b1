"""Deadline engine for data-subject requests.

Plain Python: no Django, no database, no clock. Callers pass dates in (already
converted to the controller's time zone, so a request received at 23:30 local
time counts on that local day) and get dates back.

How a GDPR / UK GDPR deadline is counted, step by step:

1. The *clock start* is the day the request was received (under UK rules: the
   day the requested ID arrived, if that is later).
2. The nominal end is the same date one month later (three months for an
   extended request); see ``add_months``.
3. Each paused day (waiting for ID or for clarification, as the regime's
   ``DeadlineRules`` allow) pushes that end one day later.
4. An end on a Saturday, Sunday or public holiday rolls forward to the next
   working day of the configured ``WorkingCalendar``
   (``dsr.deadlines.dates``, with the month and hour arithmetic).

CCPA counts calendar days instead (45, or 90 when extended) and never pauses.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from dsr.deadlines.dates import ONE_DAY, WorkingCalendar, add_months

# GDPR Art. 12(3) / UK GDPR Art. 12(3): one month, extendable by two further
# months, i.e. three months from the start in total.
GDPR_RESPONSE_MONTHS = 1
GDPR_EXTENDED_MONTHS = 3

# CCPA regs, Cal. Code Regs. tit. 11 §7021(a) and (b).
CCPA_ACKNOWLEDGE_BUSINESS_DAYS = 10
CCPA_RESPONSE_DAYS = 45
CCPA_EXTENDED_DAYS = 90


class Regime(StrEnum):
    """The legal regime a request falls under. Plain strings are accepted too."""

    GDPR = "gdpr"
    UK_GDPR = "uk_gdpr"
    CCPA = "ccpa"


# --- Pauses and counting rules -------------------------------------------------

PAUSE_REASONS = ("identity", "clarification")
IDENTITY_RULES = ("restart", "suspend", "none")
CLARIFICATION_RULES = ("exclude_inclusive", "exclude_exclusive", "none")
SUSPENSION_COUNTINGS = ("exclusive", "inclusive")


@dataclass(frozen=True)
class Pause:
    """A stretch of time spent waiting for the requester.

    ``reason`` is "identity" (waiting for proof of identity) or
    "clarification" (waiting for the requester to say what they want).
    ``ended_on`` is the day the awaited information arrived; None while the
    pause is still open.
    """

    reason: str
    started_on: date
    ended_on: date | None = None

    def __post_init__(self) -> None:
        if self.reason not in PAUSE_REASONS:
            raise ValueError(f"pause reason must be one of {PAUSE_REASONS}")
        if self.ended_on is not None and self.ended_on < self.started_on:
            raise ValueError("a pause cannot end before it starts")


@dataclass(frozen=True)
class DeadlineRules:
    """How one regime treats pauses. Configured per regime (from settings).

    identity:
      "restart"  UK: the period starts when the requested ID arrives
                 (DPA 2018 s.54(3); UK GDPR Art. 12A; ICO).
      "suspend"  EU: the period is suspended while waiting for ID, but only if
                 ID was asked for within ``identity_request_max_delay_days`` of
                 receipt (EDPB 01/2022 para 159: "without undue delay").
      "none"     CCPA: verification never pauses the clock (§7021(b)).
    clarification:
      "exclude_inclusive"  UK DPA 2018 s.54(3C): the days from the day
                           clarification is asked to the day it is received,
                           both included, do not count.
      "exclude_exclusive"  as above, but the day the answer arrives counts.
      "none"               clarification does not pause the clock.
    suspension_counting (EU identity suspension only; the EDPB gives no method):
      "exclusive"  paused days = ended_on - started_on.
      "inclusive"  one more: the day the ID arrives is paused too.
    """

    identity: str
    clarification: str
    identity_request_max_delay_days: int
    suspension_counting: str = "exclusive"

    def __post_init__(self) -> None:
        if self.identity not in IDENTITY_RULES:
            raise ValueError(f"identity rule must be one of {IDENTITY_RULES}")
        if self.clarification not in CLARIFICATION_RULES:
            raise ValueError(f"clarification rule must be one of {CLARIFICATION_RULES}")
        if self.suspension_counting not in SUSPENSION_COUNTINGS:
            raise ValueError(
                f"suspension counting must be one of {SUSPENSION_COUNTINGS}"
            )
        if self.identity_request_max_delay_days < 0:
            raise ValueError("identity_request_max_delay_days must not be negative")


RULES: dict[str, DeadlineRules] = {
    # EU law has no codified clarification pause; excluding it (answer day
    # counting) is our configurable default, not a rule of the GDPR.
    Regime.GDPR: DeadlineRules(
        identity="suspend",
        clarification="exclude_exclusive",
        identity_request_max_delay_days=3,
    ),
    # identity_request_max_delay_days is not used by "restart".
    Regime.UK_GDPR: DeadlineRules(
        identity="restart",
        clarification="exclude_inclusive",
        identity_request_max_delay_days=3,
    ),
    Regime.CCPA: DeadlineRules(
        identity="none",
        clarification="none",
        identity_request_max_delay_days=0,
    ),
}


def pause_is_honoured(pause: Pause, *, received_on: date, rules: DeadlineRules) -> bool:
    """Whether ``rules`` let this pause affect the deadline at all.

    Use it to refuse recording a pause that would not stop the clock, e.g. an
    EU identity request made too late (REQUIREMENTS B10).
    """
    if pause.reason == "clarification":
        return rules.clarification != "none"
    if rules.identity == "suspend":
        delay = (pause.started_on - received_on).days
        return delay <= rules.identity_request_max_delay_days
    return rules.identity == "restart"


# --- The result ----------------------------------------------------------------


@dataclass(frozen=True)
class Deadlines:
    """Every date a request's clock produces.

    ``paused_days`` is the number of days excluded from the period behind
    ``due_on`` (a pause that starts after a period has run out does not
    count for it). When ``open_pause`` is True a pause is still running and
    the dates assume it ends on the ``today`` passed in; they move as it goes on.
    """

    clock_start: date
    paused_days: int
    due_on: date
    standard_due_on: date
    extended_due_on: date
    extension_notice_by: date
    acknowledge_by: date | None
    open_pause: bool


def can_extend(deadlines: Deadlines, *, notice_sent_on: date) -> bool:
    """True if an extension notice sent on ``notice_sent_on`` is in time.

    GDPR Art. 12(3): the notice with reasons goes out within the first month
    (moved by clarification pauses, DPA 2018 s.54(3C)); CCPA §1798.130(a)(2):
    within the first 45 days.
    """
    return notice_sent_on <= deadlines.extension_notice_by


# --- The engine ----------------------------------------------------------------


def compute_deadlines(
    *,
    regime: str,
    received_on: date,
    calendar: WorkingCalendar,
    rules: DeadlineRules | None = None,
    pauses: Sequence[Pause] = (),
    identity_received_on: date | None = None,
    extended: bool = False,
    today: date | None = None,
) -> Deadlines:
    """Compute the deadlines of one request.

    ``received_on``: the day the request first reached any official channel
    (EDPB 01/2022 para 159), not the day staff triaged it.
    ``rules``: defaults to ``RULES[regime]``.
    ``identity_received_on``: used only by the "restart" identity rule (UK).
    ``today``: required as soon as any pause is still open (``ended_on`` None).

    Raises ValueError on an unknown regime, a pause starting before receipt,
    an open pause without ``today``, or CCPA rules that pause for identity.
    """
    regime = Regime(regime)
    rules = RULES[regime] if rules is None else rules
    if regime is Regime.CCPA and rules.identity != "none":
        # Cal. Code Regs. tit. 11 §7021(b): 45 days "regardless of time spent
        # verifying"; a setting cannot change the law.
        raise ValueError("CCPA rules must use identity='none'")
    for pause in pauses:
        if pause.started_on < received_on:
            raise ValueError("a pause cannot start before the request was received")
        _last_day_of(pause, today)  # checks open pauses against today

    honoured = [
        p for p in pauses if pause_is_honoured(p, received_on=received_on, rules=rules)
    ]
    clock_start = received_on
    clock_stoppers = honoured
    if rules.identity == "restart":
        # DPA 2018 s.54(3): the period starts at the latest of receipt of the
        # request and receipt of the requested ID. A still-open ID request is
        # assumed to be answered today. These pauses restart the clock, so
        # they are not also subtracted as paused days.
        id_arrivals = [
            _last_day_of(p, today) for p in honoured if p.reason == "identity"
        ]
        if identity_received_on is not None:
            id_arrivals.append(identity_received_on)
        clock_start = max([received_on, *id_arrivals])
        clock_stoppers = [p for p in honoured if p.reason != "identity"]

    # Days before the clock starts were never on the clock, so they cannot pause it.
    paused = sorted(
        {
            day
            for pause in clock_stoppers
            for day in _paused_days(pause, rules, today)
            if day >= clock_start
        }
    )

    if regime is Regime.CCPA:
        # §7021(b): 45 calendar days after receipt (90 with an extension).
        # The regulation says nothing about a last day on a weekend; we do not
        # roll, which is the conservative (earlier) reading.
        standard_due_on, standard_paused = _push_past_pauses(
            clock_start + timedelta(days=CCPA_RESPONSE_DAYS), paused
        )
        extended_due_on, extended_paused = _push_past_pauses(
            clock_start + timedelta(days=CCPA_EXTENDED_DAYS), paused
        )
        # §7021(a): confirm receipt within 10 business days.
        acknowledge_by: date | None = calendar.add_business_days(
            received_on, CCPA_ACKNOWLEDGE_BUSINESS_DAYS
        )
    else:
        # R1182 Art. 3(2)(c) and 3(4); EDPB 01/2022 paras 160-161; ICO.
        # The extension runs three months from the start: it is not chained
        # from the (possibly rolled) one-month date.
        standard_end, standard_paused = _push_past_pauses(
            add_months(clock_start, GDPR_RESPONSE_MONTHS), paused
        )
        extended_end, extended_paused = _push_past_pauses(
            add_months(clock_start, GDPR_EXTENDED_MONTHS), paused
        )
        standard_due_on = calendar.next_working_day_on_or_after(standard_end)
        extended_due_on = calendar.next_working_day_on_or_after(extended_end)
        acknowledge_by = None

    return Deadlines(
        clock_start=clock_start,
        paused_days=extended_paused if extended else standard_paused,
        due_on=extended_due_on if extended else standard_due_on,
        standard_due_on=standard_due_on,
        extended_due_on=extended_due_on,
        extension_notice_by=standard_due_on,
        acknowledge_by=acknowledge_by,
        open_pause=any(p.ended_on is None for p in honoured),
    )


def _last_day_of(pause: Pause, today: date | None) -> date:
    """The day a pause ended, or ``today`` for a pause that is still open."""
    if pause.ended_on is not None:
        return pause.ended_on
    if today is None:
        raise ValueError("a pause is still open: pass today= to count it up to today")
    if today < pause.started_on:
        raise ValueError("an open pause cannot start after today")
    return today


def _paused_days(pause: Pause, rules: DeadlineRules, today: date | None) -> set[date]:
    """The calendar days one honoured pause takes off the clock."""
    if pause.reason == "identity":
        inclusive = rules.suspension_counting == "inclusive"
    else:
        inclusive = rules.clarification == "exclude_inclusive"
    last = _last_day_of(pause, today)
    if not inclusive:
        last -= ONE_DAY  # the day the information arrives counts again
    length = (last - pause.started_on).days + 1
    return {pause.started_on + timedelta(days=i) for i in range(length)}


def _push_past_pauses(nominal_end: date, paused: Iterable[date]) -> tuple[date, int]:
    """Move a period's end one day later for each paused day inside the period.

    ``paused`` must be sorted. A paused day only matters while the clock is
    still running: a pause that starts after the period ran out cannot revive
    it. Returns the new (unrolled) end and the number of days it moved.
    """
    end = nominal_end
    moved = 0
    for day in paused:
        if day > end:
            break
        end += ONE_DAY
        moved += 1
    return end, moved
