"""Celery tasks of the breach register: ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from breaches.services.alerts import breach_clock_warnings_send
from breaches.services.notices import breach_notice_send


@shared_task(
    acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def send_breach_notice_task(notice_id: int) -> str:
    """Send one Art. 34 notice; safe to deliver twice (a sent one is left)."""
    return breach_notice_send(notice_id=notice_id)


@shared_task(acks_late=True)
def breach_clock_warnings_task() -> int:
    return breach_clock_warnings_send()
