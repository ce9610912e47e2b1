"""The sweeper: re-enqueue what a dead worker or a lost message left behind."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from dsr.choices import PACKAGE_KINDS, TERMINAL_TASK_STATUSES, RequestStatus, TaskStatus
from dsr.models import Request, RequestTask, TaskAttempt
from dsr.services.execution.finalising import access_package_enqueue
from dsr.services.execution.planning import tasks_enqueue_after_commit
from privacydesk.retry import AttemptOutcome

logger = logging.getLogger(__name__)


def tasks_sweep() -> dict[str, int]:
    """Re-enqueue what a dead worker or a lost message left behind."""
    now = timezone.now()
    stale_running = now - timedelta(seconds=settings.TASK_STALE_AFTER_SECONDS)
    lost_pending = now - timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)
    with transaction.atomic():
        # A worker that died mid-task leaves it "running": put it back.
        revived = list(
            RequestTask.objects.select_for_update(skip_locked=True).filter(
                status=TaskStatus.RUNNING, started_at__lt=stale_running
            )
        )
        for task in revived:
            RequestTask.objects.filter(pk=task.pk, status=TaskStatus.RUNNING).update(
                status=TaskStatus.PENDING, last_error="worker lost; re-queued"
            )
        _record_lost_attempts(revived, now)
        # A message lost with the broker leaves a task "pending" forever.
        lost = list(
            RequestTask.objects.select_for_update(skip_locked=True).filter(
                Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=lost_pending),
                status=TaskStatus.PENDING,
                enqueued_at__lt=lost_pending,
            )
        )
        # Pull agents whose lease ran out give their job back.
        expired = RequestTask.objects.filter(
            status=TaskStatus.WAITING, lease_expires_at__lt=now
        ).update(lease_owner="", lease_expires_at=None)
        tasks_enqueue_after_commit(revived + lost)
        unpackaged = _requests_awaiting_package(older_than=lost_pending)
        for request in unpackaged:
            access_package_enqueue(request)
    if revived or lost or expired:
        logger.info(
            "sweeper: %d revived, %d re-enqueued, %d leases expired",
            len(revived),
            len(lost),
            expired,
        )
    return {
        "revived": len(revived),
        "requeued": len(lost),
        "leases_expired": expired,
        "packages_requeued": len(unpackaged),
    }


def _record_lost_attempts(tasks: list[RequestTask], now: datetime) -> None:
    """Put on record the attempt each dead worker was making (an attempt's
    row is written when it ends, so a worker killed mid-attempt left none)."""
    have = set(
        TaskAttempt.objects.filter(task__in=tasks).values_list("task_id", "number")
    )
    TaskAttempt.objects.bulk_create(
        TaskAttempt(
            task=task,
            number=task.attempts,
            started_at=task.started_at,
            finished_at=now,
            duration_ms=int((now - task.started_at).total_seconds() * 1000),
            outcome=AttemptOutcome.RETRY,
            error="worker lost; re-queued",
        )
        for task in tasks
        if task.started_at and (task.pk, task.attempts) not in have
    )


def _requests_awaiting_package(*, older_than: datetime) -> list[Request]:
    """Access requests whose work ended but whose package job was lost."""
    candidates = (
        Request.objects.filter(
            status=RequestStatus.IN_PROGRESS,
            kind__in=PACKAGE_KINDS,
            access_package__isnull=True,
            tasks__status=TaskStatus.SUCCEEDED,
        )
        .annotate(last_finished=Max("tasks__finished_at"))
        .filter(last_finished__lt=older_than)
        .distinct()
    )
    return [
        request
        for request in candidates
        if not request.tasks.exclude(status__in=TERMINAL_TASK_STATUSES).exists()
        and not request.notes.filter(author="system:access_package").exists()
    ]
