"""The CCPA metrics report (Cal. Code Regs. tit. 11 §7102): the requests, and
the opt-outs of sale/sharing that came as consent withdrawals (a Global
Privacy Control signal, a "Do not sell or share" choice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from accounts.actors import Actor
from accounts.permissions import Perm
from consent.choices import ConsentAction
from consent.models import ConsentEvent
from dsr.clock import local_date
from dsr.reports import CcpaRow, ccpa_request_metrics, ccpa_year_bounds, day_start


@dataclass(frozen=True)
class CcpaReport:
    """A calendar year's §7102(a)(1) figures, one row per request type."""

    year: int
    rows: list[CcpaRow]
    # Of the opt-out row, how many were consent withdrawals (not requests).
    optout_withdrawals: int


def ccpa_optout_withdrawals(*, year: int) -> list[int]:
    """Opt-outs of sale/sharing recorded as consent withdrawals in `year`:
    one per subject and day (a GPC signal withdraws every sale/sharing
    purpose at once, and is one opt-out). Each is complied with when
    recorded; returns the days from the choice to its recording, per opt-out."""
    start, end = ccpa_year_bounds(year)
    events = (
        ConsentEvent.objects.filter(
            action=ConsentAction.WITHDRAW,
            purpose__is_sale_or_sharing=True,
            occurred_at__gte=day_start(start),
            occurred_at__lt=day_start(date(end.year + 1, 1, 1)),
        )
        .values_list("subject_id", "occurred_at", "created_at")
        .order_by("occurred_at")
    )
    first_recorded: dict[tuple[int, date], int] = {}
    for subject_id, occurred_at, created_at in events:
        day = local_date(occurred_at)
        key = (subject_id, day)
        days = max((local_date(created_at) - day).days, 0)
        first_recorded.setdefault(key, days)
    return list(first_recorded.values())


def ccpa_metrics(*, actor: Actor, year: int) -> CcpaReport:
    """§7102(a)(1) for `year`: requests to know, delete, correct, opt out
    and limit received, complied with in whole or in part, denied, and the
    median and mean days to a substantive response."""
    actor.require(Perm.REQUEST_VIEW)
    actor.require(Perm.CONSENT_VIEW)
    rows = ccpa_request_metrics(actor=actor, year=year)
    withdrawals = ccpa_optout_withdrawals(year=year)
    for row in rows:
        if row.key == "opt_out":
            row.received += len(withdrawals)
            row.complied_whole += len(withdrawals)
            row.response_days.extend(withdrawals)
    return CcpaReport(year=year, rows=rows, optout_withdrawals=len(withdrawals))
