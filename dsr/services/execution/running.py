"""Running one task once: claim it, call its store, record what happened.

A task claims itself (compare-and-swap on its status, so a message delivered
twice runs once); its attempt's row is written when the attempt ends. What
the task makes due next (erasure's verification, the access package) runs
right after it, in this process.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from audit.services import audit_batch, audit_record
from connectors.base import (
    AccessRecord,
    ConnectorError,
    Deferred,
    ErasureReceipt,
    Job,
    Outcome,
)
from connectors.choices import Action
from dsr.choices import TaskStatus
from dsr.models import RequestTask, TaskAttempt
from dsr.selectors import holds_covering, holds_covering_exist
from dsr.services.execution.finalising import request_finalize
from dsr.services.execution.ordering import task_hold_for_readers
from dsr.services.execution.planning import (
    SYSTEM,
    Followup,
    followups_pending,
    tasks_enqueue_after_commit,
)
from dsr.services.execution.recording import (
    ErasureCheck,
    erasure_receipt_read,
    task_finish,
    task_record_success,
)
from dsr.services.execution.waiting import task_mark_waiting
from privacydesk.json_text import encoder
from privacydesk.retry import AttemptOutcome, attempt_close, backoff_seconds
from subjects.selectors import subjects_identity

logger = logging.getLogger(__name__)


# One encoder for every line (json.dumps builds a new one per call); keys
# sorted, so a record's line is the same whatever its dict order.
_encode_line = encoder(sort_keys=True, default=str)
_LINES_PER_WRITE = 256


class JsonlSink:
    """Streams access records to a JSON-lines file and hashes them on the way."""

    def __init__(self, task: RequestTask) -> None:
        self.name = f"dsr/{task.request.public_id}/{task.public_id}.jsonl"
        self._digest = hashlib.sha256()
        # Memory stays flat: past 256 KB the buffer spills to a temporary
        # file (a bigger buffer only raises the worker's peak: growing it, then
        # spilling it, holds up to three copies at once).
        self._file = tempfile.SpooledTemporaryFile(max_size=256 * 1024)
        self._pending: list[str] = []  # lines encoded, not yet written

    def write(self, record: AccessRecord) -> None:
        self._pending.append(
            _encode_line(
                {
                    "location": record.location,
                    "key": record.key,
                    "category": record.category,
                    "data": record.data,
                }
            )
        )
        if len(self._pending) >= _LINES_PER_WRITE:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._pending.append("")  # the last line's newline
            chunk = "\n".join(self._pending).encode()
            self._digest.update(chunk)
            self._file.write(chunk)
            self._pending = []

    @property
    def digest(self) -> Any:
        """The SHA-256 of every line written so far."""
        self._flush()
        return self._digest

    def save(self) -> str:
        self._flush()
        self._file.seek(0)
        if default_storage.exists(self.name):
            default_storage.delete(self.name)  # a rerun replaces, never appends
        name = default_storage.save(self.name, self._file)
        self._file.close()
        return name


def task_run(*, task_id: int) -> str:
    """Run one task once. Returns what happened (for logs and tests).

    What the task makes due next (erasure's verification, the access
    package) runs right after it, in this process (see `followups_pending`)."""
    followups: list[Followup] = []
    with _collecting(followups):
        outcome = _task_run_once(task_id)
    _run_followups(followups)
    return outcome


@contextmanager
def _collecting(followups: list[Followup]) -> Iterator[None]:
    token = followups_pending.set(followups)
    try:
        yield
    finally:
        followups_pending.reset(token)


def _run_followups(followups: list[Followup]) -> None:
    """Run, after commit, what a finished task made due; anything that fails
    here goes to the broker instead (the sweeper covers a dead worker)."""
    from dsr.services.packages import access_package_build_and_close
    from dsr.tasks import build_access_package_task, run_request_task_task

    for followup in followups:
        try:
            if followup.task_id is not None:
                task_run(task_id=followup.task_id)
            elif followup.package is not None:
                request, tasks = followup.package
                access_package_build_and_close(request_id=request.pk, ended=tasks)
        except Exception:
            logger.exception("follow-up %s failed; handing it to the broker", followup)
            if followup.task_id is not None:
                run_request_task_task.delay(followup.task_id)
            elif followup.package is not None:
                build_access_package_task.delay(followup.package[0].pk)


def _task_run_once(task_id: int) -> str:
    if task_hold_for_readers(task_id=task_id):
        return "held"  # a store reading this one erases first; it releases
    now = timezone.now()
    # The claim is one statement that commits by itself; what follows only
    # reads. The attempt's row is written when the attempt ends, with its
    # outcome (one write, not two): a worker that dies before leaves the task
    # running with no row, and the sweeper records the attempt as lost.
    action = _claim(task_id, now)
    if action is None:
        return "not-pending"  # done, running elsewhere, or cancelled
    tasks = RequestTask.objects.select_related("request", "connector")
    task: RequestTask
    held = False
    if action == Action.ERASE:  # only erasure yields to a legal hold
        erase_task = tasks.annotate(held=holds_covering_exist()).get(pk=task_id)
        task, held = erase_task, erase_task.held
    else:
        task = tasks.get(pk=task_id)
    if not task.request.is_open:
        task_finish(task, TaskStatus.SKIPPED, note="the request closed before this ran")
        return "request-closed"
    if held and _exempt_if_held(task):
        return "exempted"
    attempt = TaskAttempt(  # saved by attempt_close, with its outcome
        task=task, number=task.attempts, started_at=now, worker=socket.gethostname()
    )
    identity = subjects_identity(subject_ids=[task.request.subject_id])
    started = time.monotonic()
    job = Job(
        task_id=str(task.public_id),
        request_reference=task.request.reference,
        action=task.action,
        identity=identity,
        changes=task.request.corrections or {},
        # A queued verification pass checks with what the erasure knew (its
        # receipt, read back from the erase task: recording.task_record_success).
        receipt=erasure_receipt_read(task) if action == Action.VERIFY_ERASURE else None,
        regime=task.request.regime,
        received_at=task.request.received_at,
    )
    sink = JsonlSink(task)
    connector = task.connector.instance()
    try:
        result = connector.run(job, sink)
        if isinstance(result, Outcome) and task.action == Action.ACCESS:
            task.result_file = sink.save()
            task.result_digest = sink.digest.hexdigest()
    except ConnectorError as error:
        return _record_failure(task, attempt, started, error.message, error.permanent)
    except Exception as error:  # an unknown failure: retry, and say only its type
        logger.exception("task %s failed unexpectedly", task.pk)
        return _record_failure(task, attempt, started, type(error).__name__, False)
    if isinstance(result, Deferred):
        attempt_close(attempt, started, AttemptOutcome.DEFERRED)
        task_mark_waiting(task, result)
        return "deferred"
    check = (
        _check_now(connector, job, sink, result) if job.action == Action.ERASE else None
    )
    # The attempt, the task's outcome (and the check) and the request's next
    # step commit together; their audit events go in one append at the end.
    with transaction.atomic(), audit_batch():
        attempt_close(attempt, started, AttemptOutcome.SUCCEEDED)
        if not task_record_success(
            task=task, outcome=result, actor=SYSTEM, check=check
        ):
            return "not-running"  # the sweeper took it back meanwhile
    return "succeeded"


def _claim(task_id: int, now: datetime) -> str | None:
    """Mark a pending task running (one statement, committed by itself) and
    return its action; None if it was not pending. Raw SQL only for
    RETURNING, which saves reading the action back."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {RequestTask._meta.db_table} SET status = %s, started_at = %s,"
            " attempts = attempts + 1, next_attempt_at = NULL"
            " WHERE id = %s AND status = %s RETURNING action",
            [
                TaskStatus.RUNNING,
                connection.ops.adapt_datetimefield_value(now),
                task_id,
                TaskStatus.PENDING,
            ],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _check_now(
    connector: Any, job: Job, sink: JsonlSink, erased: Outcome
) -> ErasureCheck | None:
    """Ask a store that answers at once, right after erasing in it, what of
    the subject remains: its verification pass, without a queued task of its
    own. None if it cannot (the finalizer then queues the pass). `erased`:
    the erasure's outcome, whose receipt the check is given (no instance
    state: the check knows what the erasure knew)."""
    if not (
        connector.verifies_in_process and Action.VERIFY_ERASURE in connector.actions
    ):
        return None
    receipt = erased if isinstance(erased, ErasureReceipt) else None
    at, started = timezone.now(), time.monotonic()
    try:
        outcome = connector.run(
            replace(job, action=Action.VERIFY_ERASURE, receipt=receipt), sink
        )
    except Exception as error:  # the queued pass will retry it properly
        logger.warning(
            "task %s: the check after erasing failed (%s); queueing the pass",
            job.task_id,
            type(error).__name__,
        )
        return None
    if not isinstance(outcome, Outcome):
        return None
    return ErasureCheck(outcome, at, int((time.monotonic() - started) * 1000))


def _exempt_if_held(task: RequestTask) -> bool:
    """An active legal hold on the subject, the connector or one of its tables
    wins over erasure (GDPR 17(3)(b),(e)): the task is exempted with the
    hold's legal basis, and nothing in that store is erased. A table hold
    exempts the whole store's task (erasure cannot yet skip single tables)."""
    holds = holds_covering(subject=task.request.subject, connector=task.connector)
    if not holds:
        return False
    exemptions = [
        {
            "location": hold.table or "*",
            "fields": [],
            "basis": hold.legal_basis,
            "reason": f"legal hold: {hold.reason}",
            "count": 0,
            "hold": str(hold.public_id),
        }
        for hold in holds
    ]
    with transaction.atomic():
        changed = RequestTask.objects.filter(
            pk=task.pk, status=TaskStatus.RUNNING
        ).update(
            status=TaskStatus.EXEMPTED,
            finished_at=timezone.now(),
            exemptions=exemptions,
            status_note="kept under a legal hold",
        )
        if changed:
            audit_record(
                actor=SYSTEM,
                action="task.exempted",
                obj=task.request,
                data={
                    "task": str(task.public_id),
                    "connector": task.connector.name,
                    "action": task.action,
                    "holds": [str(hold.public_id) for hold in holds],
                    "basis": [hold.legal_basis for hold in holds],
                },
            )
            request_finalize(request=task.request)
    return True


def _record_failure(
    task: RequestTask,
    attempt: TaskAttempt,
    started: float,
    message: str,
    permanent: bool,
) -> str:
    final = permanent or task.attempts >= task.max_attempts
    attempt_close(
        attempt,
        started,
        AttemptOutcome.FAILED if final else AttemptOutcome.RETRY,
        message,
    )
    if final:
        task_finish(task, TaskStatus.FAILED, error=message)
        return "failed"
    delay = backoff_seconds(task.attempts)
    with transaction.atomic():
        moved = RequestTask.objects.filter(
            pk=task.pk, status=TaskStatus.RUNNING
        ).update(
            status=TaskStatus.PENDING,
            last_error=message[:2000],
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        if moved:
            tasks_enqueue_after_commit([task], countdown=delay)
    return "retry"
