"""Erasures a store finishes on its own by a date (a vendor that deletes
"within N days"): the task stays `waiting` with that date in
`next_attempt_at`; once it has passed, the sweeper claims the task and a
worker asks the store again (`verify_erased` with the erasure's receipt).
Nothing left: the erasure is done, its check recorded as the store's
verification. Still found: the task waits again, a day later by default,
until its attempts run out (then it fails, naming what is left). It is
never completed before the store confirms.
"""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_batch
from connectors.base import (
    AccessRecord,
    ConnectorError,
    Deferred,
    ErasureReceipt,
    Job,
)
from connectors.choices import Action
from dsr.choices import TaskStatus
from dsr.models import RequestTask, TaskAttempt
from dsr.services.execution.planning import SYSTEM
from dsr.services.execution.recording import (
    ErasureCheck,
    task_finish,
    task_record_success,
)
from privacydesk.retry import AttemptOutcome, attempt_close, backoff_seconds
from subjects.selectors import subjects_identity

logger = logging.getLogger(__name__)

# A claimed check not run within this (its worker died) is claimed again.
CHECK_LEASE = timedelta(minutes=15)
CHECKS_PER_SWEEP = 200


def waiting_note(store: str, until: datetime, note: str = "") -> str:
    """`waiting on <store> until <date>`, the words the request page and the
    evidence pack show (a date, UTC), and the store's own note."""
    day = until.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    said = f"waiting on {store} until {day}"
    return f"{said}: {note}" if note else said


def task_mark_waiting(task: RequestTask, deferred: Deferred) -> None:
    """A running task handed over: `waiting`. An erasure with a date to
    check after also keeps that date and what the erasure did so far (its
    counts and its receipt, encrypted, for the check)."""
    fields: dict[str, object] = {
        "deferred_reference": deferred.reference[:200],
        "status_note": deferred.note,
    }
    if deferred.check_at is not None and task.action == Action.ERASE:
        fields["next_attempt_at"] = deferred.check_at
        fields["status_note"] = waiting_note(
            task.connector.name, deferred.check_at, deferred.note
        )
        receipt = deferred.receipt
        if receipt is not None:
            fields.update(
                erasure_receipt=receipt.to_json(),
                records_found=receipt.found,
                records_changed=receipt.changed,
                per_location=receipt.per_location,
            )
    RequestTask.objects.filter(pk=task.pk, status=TaskStatus.RUNNING).update(
        status=TaskStatus.WAITING, **fields
    )


def waiting_checks_take(now: datetime | None = None) -> list[int]:
    """Waiting erasures whose date has passed, claimed: their date moves a
    lease ahead, so each check is sent once (and again if its worker dies)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            RequestTask.objects.select_for_update(skip_locked=True)
            .filter(
                status=TaskStatus.WAITING,
                action=Action.ERASE,
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:CHECKS_PER_SWEEP]
        )
        RequestTask.objects.filter(pk__in=due).update(next_attempt_at=now + CHECK_LEASE)
    return due


class _NoRecords:
    """A verification writes no records."""

    def write(self, record: AccessRecord) -> None:
        raise ConnectorError("a verification pass wrote a record", permanent=True)


def waiting_task_check(*, task_id: int) -> str:
    """Ask the store again about one waiting erasure whose date has passed."""
    task = (
        RequestTask.objects.select_related("request", "connector")
        .filter(pk=task_id, status=TaskStatus.WAITING, action=Action.ERASE)
        .exclude(next_attempt_at__isnull=True)
        .first()
    )
    if task is None:
        return "not-waiting"
    if not task.request.is_open:
        task_finish(task, TaskStatus.SKIPPED, note="the request closed before this ran")
        return "request-closed"
    try:
        receipt = ErasureReceipt.from_json(task.erasure_receipt)
    except ValueError:
        receipt = ErasureReceipt(kind=task.connector.kind)
    number = task.attempts + 1
    RequestTask.objects.filter(pk=task.pk).update(attempts=F("attempts") + 1)
    at, started = timezone.now(), time.monotonic()
    attempt = TaskAttempt(
        task=task, number=number, started_at=at, worker=socket.gethostname()
    )
    job = Job(
        task_id=str(task.public_id),
        request_reference=task.request.reference,
        action=Action.VERIFY_ERASURE,
        identity=subjects_identity(subject_ids=[task.request.subject_id]),
        receipt=receipt,
        regime=task.request.regime,
        received_at=task.request.received_at,
    )
    try:
        outcome = task.connector.instance().run(job, _NoRecords())
    except ConnectorError as error:
        if error.permanent or number >= task.max_attempts:
            attempt_close(attempt, started, AttemptOutcome.FAILED, error.message)
            task_finish(task, TaskStatus.FAILED, error=error.message)
            return "failed"
        attempt_close(attempt, started, AttemptOutcome.RETRY, error.message)
        _wait_again(task, seconds=backoff_seconds(number), error=error.message)
        return "retry"
    if isinstance(outcome, Deferred) or outcome.found:
        left = 0 if isinstance(outcome, Deferred) else outcome.found
        message = f"{task.connector.name} still holds {left} record(s) after its date"
        if number >= task.max_attempts:
            attempt_close(attempt, started, AttemptOutcome.FAILED, message)
            task_finish(task, TaskStatus.FAILED, error=message)
            return "failed"
        attempt_close(attempt, started, AttemptOutcome.DEFERRED, message)
        _wait_again(task, seconds=settings.TASK_WAITING_RECHECK_SECONDS, error=message)
        return "waiting"
    receipt.note = f"{task.connector.name} confirmed the erasure after its date"
    check = ErasureCheck(outcome, at, int((time.monotonic() - started) * 1000))
    with transaction.atomic(), audit_batch():
        attempt_close(attempt, started, AttemptOutcome.SUCCEEDED)
        if not task_record_success(
            task=task, outcome=receipt, actor=SYSTEM, check=check
        ):
            return "not-waiting"
    return "succeeded"


def _wait_again(task: RequestTask, *, seconds: float, error: str) -> None:
    until = timezone.now() + timedelta(seconds=seconds)
    RequestTask.objects.filter(pk=task.pk, status=TaskStatus.WAITING).update(
        next_attempt_at=until,
        last_error=error[:2000],
        status_note=waiting_note(task.connector.name, until),
    )
