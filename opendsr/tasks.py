"""Celery tasks of the OpenDSR door: ids in, one service call."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from opendsr.callbacks import opendsr_callback_deliver
from opendsr.services import opendsr_status_changed
from privacydesk.retry import backoff_seconds


@shared_task(acks_late=True)
def opendsr_status_changed_task(request_id: int) -> None:
    """Wired to the request lifecycle by name (settings.REQUEST_CLOSED_TASKS,
    REQUEST_STARTED_TASKS); does nothing for a request that did not come by
    OpenDSR."""
    opendsr_status_changed(request_id=request_id)


@shared_task(bind=True, acks_late=True, max_retries=None)
def opendsr_callback_deliver_task(self: Task[Any, None], delivery_id: int) -> None:
    """One callback, tried until delivered or OPENDSR_CALLBACK_MAX_ATTEMPTS
    attempts, with back-off and jitter between them (spec §8.5: processors
    SHOULD retry failed callbacks)."""
    attempt_number = self.request.retries + 1
    final = attempt_number >= settings.OPENDSR_CALLBACK_MAX_ATTEMPTS
    attempt = opendsr_callback_deliver(delivery_id=delivery_id, final=final)
    if attempt is None or attempt.delivered or not attempt.retryable or final:
        return
    raise self.retry(countdown=backoff_seconds(attempt_number))
