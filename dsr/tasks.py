"""Celery tasks: ids in, one service call, nothing else."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_subject_notice_task(request_id: int, notice: str) -> None:
    from dsr.models import Request
    from dsr.notifications import notify_subject

    request = Request.objects.filter(pk=request_id).first()
    if request is not None:
        notify_subject(request=request, notice=notice)


@shared_task(acks_late=True)
def deadline_reminders_task() -> int:
    from dsr.services.reminders import deadline_reminders_send

    return deadline_reminders_send()
