"""What every retried background job shares: back-off, attempt rows, and the
sweeper's rules for jobs a dead worker or a lost message left behind.

Request tasks (dsr) and consent propagations (consent) retry the same way,
record each try the same way and are swept the same way; this is that one
way. A job model here has `status`, `attempts`, `started_at`, `enqueued_at`,
`next_attempt_at` and `last_error`; its attempt model `number`, `started_at`,
`finished_at`, `duration_ms`, `outcome` and `error`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone


def backoff_seconds(attempt: int) -> float:
    """Exponential back-off with jitter, capped: attempt 1 waits about the
    base, each later one about twice as long, never past the maximum."""
    base = settings.TASK_RETRY_BASE_SECONDS * (2 ** (attempt - 1))
    ceiling = min(base, settings.TASK_RETRY_MAX_SECONDS)
    return random.uniform(min(base / 2, ceiling), ceiling)  # noqa: S311 - not crypto


class AttemptOutcome(models.TextChoices):
    """How one try of a retried job ended (request tasks, withdrawals)."""

    SUCCEEDED = "succeeded", "Succeeded"
    DEFERRED = "deferred", "Handed over; result later"
    RETRY = "retry", "Failed, will retry"
    FAILED = "failed", "Failed for good"
    UNSUPPORTED = "unsupported", "Not supported"


class AttemptRow(Protocol):
    """The fields attempt_close writes on an attempt row (dsr, consent)."""

    # Typed as the models declare them: protocol attributes are invariant.
    finished_at: datetime | None
    duration_ms: int | None
    outcome: str
    error: str

    def save(self) -> None: ...


def attempt_close(
    attempt: AttemptRow, started: float, outcome: str, error: str = ""
) -> None:
    """Record how one try ended (`started` is a time.monotonic() reading)."""
    attempt.finished_at = timezone.now()
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    attempt.outcome = outcome
    attempt.error = error[:2000]
    attempt.save()


WORKER_LOST = "worker lost; re-queued"


def stale_jobs_take(
    jobs: QuerySet[Any], *, running: str, pending: str, now: datetime
) -> tuple[list[Any], list[Any]]:
    """The jobs a sweeper sends again, in the caller's transaction: those
    `running` on a worker that died (started more than TASK_STALE_AFTER_SECONDS
    ago), put back to `pending`; and those `pending` whose broker message was
    lost (enqueued, and due, more than TASK_LOST_AFTER_SECONDS ago). Rows that
    another sweeper holds are skipped. Returns (revived, lost), the revived
    as they were read (still `running`, with the attempt they were making)."""
    stale_running = now - timedelta(seconds=settings.TASK_STALE_AFTER_SECONDS)
    lost_pending = now - timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)
    revived = list(
        jobs.select_for_update(skip_locked=True).filter(
            status=running, started_at__lt=stale_running
        )
    )
    for job in revived:
        jobs.filter(pk=job.pk, status=running).update(
            status=pending, last_error=WORKER_LOST
        )
    lost = list(
        jobs.select_for_update(skip_locked=True)
        .filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=lost_pending),
            status=pending,
            enqueued_at__lt=lost_pending,
        )
        .exclude(pk__in=[job.pk for job in revived])  # each sent once
    )
    return revived, lost


def lost_attempts_record(
    revived: Sequence[Any],
    *,
    attempts: type[models.Model],
    job_field: str,
    now: datetime,
) -> None:
    """Put on record, closed, the try each dead worker was making: the open
    row of a job that writes its attempt when the try starts (consent), or a
    new row for one that writes it when the try ends (request tasks)."""
    manager = attempts._default_manager
    rows = manager.filter(**{f"{job_field}__in": revived}).values_list(
        f"{job_field}_id", "number", "finished_at"
    )
    existing = {(job_id, number): finished for job_id, number, finished in rows}
    missing = []
    for job in revived:
        if not job.started_at:
            continue
        lost = {
            "finished_at": now,
            "duration_ms": int((now - job.started_at).total_seconds() * 1000),
            "outcome": AttemptOutcome.RETRY,
            "error": WORKER_LOST,
        }
        key = (job.pk, job.attempts)
        if key not in existing:
            missing.append(
                attempts(
                    **{job_field: job},
                    number=job.attempts,
                    started_at=job.started_at,
                    **lost,
                )
            )
        elif existing[key] is None:
            manager.filter(
                **{f"{job_field}_id": job.pk},
                number=job.attempts,
                finished_at__isnull=True,
            ).update(**lost)
    manager.bulk_create(missing)
