"""Celery tasks: ids in, one service call, nothing else."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from alerts.delivery import alert_delivery_send
from alerts.services import alerts_evaluate, audit_chain_check
from privacydesk.retry import backoff_seconds


@shared_task(acks_late=True)
def alerts_evaluate_task() -> int:
    """Beat: the rules over the audit events written since the last run."""
    return len(alerts_evaluate().raised)


@shared_task(acks_late=True)
def audit_chain_check_task() -> bool:
    """Beat: verify the audit chain; a break raises an alert."""
    return audit_chain_check() is None


@shared_task(bind=True, acks_late=True, max_retries=None)
def alert_deliver_task(self: Task[Any, None], delivery_id: int) -> None:
    """Send one alert by one channel; a failure is tried again with back-off
    until ALERT_DELIVERY_MAX_ATTEMPTS (counted on the delivery row)."""
    outcome = alert_delivery_send(delivery_id=delivery_id)
    if outcome is not None and outcome.retry:
        raise self.retry(countdown=backoff_seconds(outcome.delivery.attempts))
