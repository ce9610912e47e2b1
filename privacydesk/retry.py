"""What every retried background job shares: back-off and attempt rows.

Request tasks (dsr) and consent propagations (consent) retry the same way and
record each try the same way; this is that one way.
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.db import models
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
