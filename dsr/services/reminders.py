"""The daily digest of due-soon and overdue requests for privacy officers."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from django.conf import settings

from dsr.clock import local_today
from dsr.notifications import send_templated
from dsr.selectors import requests_needing_attention, requests_with_running_pause
from dsr.services.clock import request_refresh_deadlines


class DueRow(TypedDict):
    """One line of the digest: a reference and its clock, no personal data."""

    reference: str
    kind: str
    status: str
    due_on: date
    days_left: int


def deadline_reminders_send() -> int:
    """Refresh paused clocks, then e-mail the officers a list (references only)."""
    for request in requests_with_running_pause():
        request_refresh_deadlines(request=request)
    today = local_today()
    due = list(
        requests_needing_attention(due_within_days=settings.DEADLINE_DUE_SOON_DAYS)
    )
    if not due or not settings.PRIVACY_OFFICER_EMAILS:
        return 0
    rows: list[DueRow] = [
        {
            "reference": r.reference,
            "kind": r.kind,
            "status": r.status,
            "due_on": r.due_on,
            "days_left": (r.due_on - today).days,
        }
        for r in due
    ]
    send_templated(
        name="officer_deadlines",
        to=settings.PRIVACY_OFFICER_EMAILS,
        context={
            "rows": rows,
            "overdue": sum(1 for row in rows if row["days_left"] < 0),
            "dashboard_url": settings.SITE_URL
            + "/dashboard/?due_within="
            + str(settings.DEADLINE_DUE_SOON_DAYS),
        },
    )
    return len(rows)
