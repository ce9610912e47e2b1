"""Celery tasks: ids in, one service call, nothing else."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from accounts.actors import actor_system
from dsr.models import Request
from dsr.notifications import notify_subject
from dsr.services.execution.running import task_run
from dsr.services.execution.sweeping import tasks_sweep
from dsr.services.execution.waiting import waiting_task_check
from dsr.services.packages import (
    access_package_build_and_close,
    access_package_notify_ready,
    access_packages_purge_expired,
)
from dsr.services.recipients import recipient_notification_email_send
from dsr.services.reminders import deadline_reminders_send
from privacydesk.retry import backoff_seconds
from privacydesk.wiring import wired_tasks_send


@shared_task(
    acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def send_subject_notice_task(request_id: int, notice: str) -> None:
    request = Request.objects.filter(pk=request_id).first()
    if request is not None:
        notify_subject(request=request, notice=notice)


@shared_task(bind=True, acks_late=True, max_retries=5)
def request_closed_task(
    self: Task[Any, None],
    request_id: int,
    notice: str | None,
    pack_queued: bool = False,
) -> None:
    """What a closed request still needs, in one message sent at notice
    priority (so it waits behind request tasks): the work the composition
    root wired to a close queued (settings.REQUEST_CLOSED_TASKS: its evidence
    pack), then the subject told (`notice`: "package_ready" for the access
    package's page, another notice name, or None). A failed e-mail is tried
    again without queueing that work a second time."""
    if not pack_queued:
        channel = (
            Request.objects.filter(pk=request_id)
            .values_list("channel", flat=True)
            .first()
        )
        wired_tasks_send("REQUEST_CLOSED_TASKS", args=[request_id], channel=channel)
    try:
        if notice == "package_ready":
            access_package_notify_ready(request_id=request_id)
        elif notice:
            request = Request.objects.filter(pk=request_id).first()
            if request is not None:
                notify_subject(request=request, notice=notice)
    except OSError as error:  # the mail server: try the e-mail again later
        raise self.retry(
            exc=error,
            kwargs={"request_id": request_id, "notice": notice, "pack_queued": True},
            countdown=backoff_seconds(self.request.retries + 1),
        ) from error


@shared_task(
    acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8
)
def send_recipient_notification_task(notification_id: int) -> str:
    """E-mail one recipient of a rectification, erasure or restriction
    (Art. 19); safe to deliver twice (only a pending one is sent)."""
    return recipient_notification_email_send(
        notification_id=notification_id, actor=actor_system("recipients")
    )


@shared_task(acks_late=True)
def deadline_reminders_task() -> int:
    return deadline_reminders_send()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_request_task_task(task_id: int) -> str:
    """Run one RequestTask; safe to deliver twice (the service claims it)."""
    return task_run(task_id=task_id)


@shared_task(acks_late=True)
def sweep_request_tasks_task() -> dict[str, int]:
    return tasks_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def check_waiting_task_task(task_id: int) -> str:
    """Ask a store again about an erasure it promised to finish by a date
    (sent by the sweeper once the date has passed)."""
    return waiting_task_check(task_id=task_id)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def build_access_package_task(request_id: int) -> str:
    """Zip the access results, then close the request (idempotent)."""
    return access_package_build_and_close(request_id=request_id)


@shared_task(acks_late=True)
def purge_expired_access_packages_task() -> int:
    return access_packages_purge_expired()
