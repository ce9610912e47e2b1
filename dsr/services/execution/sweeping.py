"""The sweeper: re-enqueue what a dead worker or a lost message left behind,
and send the checks of waiting erasures whose store's date has passed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from dsr.choices import PACKAGE_KINDS, TERMINAL_TASK_STATUSES, RequestStatus, TaskStatus
from dsr.models import Request, RequestTask, TaskAttempt
from dsr.services.execution.finalising import access_package_enqueue
from dsr.services.execution.planning import tasks_enqueue_after_commit
from dsr.services.execution.waiting import waiting_checks_take
from privacydesk.retry import lost_attempts_record, stale_jobs_take

logger = logging.getLogger(__name__)


def tasks_sweep() -> dict[str, int]:
    """Re-enqueue what a dead worker or a lost message left behind."""
    now = timezone.now()
    lost_pending = now - timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)
    with transaction.atomic():
        revived, lost = stale_jobs_take(
            RequestTask.objects.all(),
            running=TaskStatus.RUNNING,
            pending=TaskStatus.PENDING,
            now=now,
        )
        lost_attempts_record(revived, attempts=TaskAttempt, job_field="task", now=now)
        # Pull agents whose lease ran out give their job back.
        expired = RequestTask.objects.filter(
            status=TaskStatus.WAITING, lease_expires_at__lt=now
        ).update(lease_owner="", lease_expires_at=None)
        tasks_enqueue_after_commit(revived + lost)
        unpackaged = _requests_awaiting_package(older_than=lost_pending)
        for request in unpackaged:
            access_package_enqueue(request)
    checks = waiting_checks_take(now)
    if checks:
        _checks_send(checks)
    if revived or lost or expired or checks:
        logger.info(
            "sweeper: %d revived, %d re-enqueued, %d leases expired, "
            "%d waiting erasures checked",
            len(revived),
            len(lost),
            expired,
            len(checks),
        )
    return {
        "revived": len(revived),
        "requeued": len(lost),
        "leases_expired": expired,
        "packages_requeued": len(unpackaged),
        "waiting_checked": len(checks),
    }


def _checks_send(task_ids: list[int]) -> None:
    # Local: dsr.tasks imports the executor back (task <-> service pair).
    from dsr.tasks import check_waiting_task_task

    for task_id in task_ids:
        check_waiting_task_task.delay(task_id)


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
