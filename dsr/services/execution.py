"""Fan-out: one RequestTask per (connector, action), run as Celery jobs.

The database is the truth; the broker only carries task ids. Every step is a
guarded transition (compare-and-swap on status), so a message delivered twice,
a worker killed mid-task or a sweeper re-enqueueing a task can never make an
action count twice or a request close early.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone

from accounts.actors import Actor, actor_system
from audit.services import audit_batch, audit_record
from connectors.base import (
    AccessRecord,
    ConnectorError,
    Deferred,
    ErasureReceipt,
    Exemption,
    Identity,
    Job,
    Outcome,
)
from connectors.choices import Action
from connectors.models import Connector
from dsr.choices import (
    TERMINAL_TASK_STATUSES,
    AttemptOutcome,
    RequestKind,
    RequestStatus,
    TaskStatus,
)
from dsr.models import Request, RequestTask, TaskAttempt
from dsr.selectors import holds_covering, holds_covering_exist
from privacydesk.errors import IllegalTransition, ValidationFailed
from privacydesk.retry import attempt_close, backoff_seconds
from subjects.models import SubjectIdentifier
from subjects.selectors import subjects_identity

logger = logging.getLogger(__name__)
SYSTEM = actor_system("executor")

ACTIONS_FOR_KIND: dict[str, str] = {
    RequestKind.ACCESS: Action.ACCESS,
    RequestKind.PORTABILITY: Action.ACCESS,
    RequestKind.RECTIFICATION: Action.RECTIFY,
    RequestKind.ERASURE: Action.ERASE,
    RequestKind.RESTRICTION: Action.RESTRICT,
    RequestKind.OBJECTION: Action.OBJECT,
}
PACKAGE_KINDS = (RequestKind.ACCESS, RequestKind.PORTABILITY)
# Restriction and objection fall back to a human where a store has no flag.
MANUAL_FALLBACK = {Action.RESTRICT, Action.OBJECT}


@dataclass(frozen=True)
class _Followup:
    """Work that a finishing task makes due (erasure's verification, the
    access package) and that the worker running it does itself, right after
    its own commit, instead of a round trip through the broker: a
    RequestTask to run, or the package of a request whose tasks have all
    ended (with the request and tasks as the finalizer read them under the
    row lock, so the package need not read them again)."""

    task_id: int | None = None
    package: tuple[Request, list[RequestTask]] | None = None

    def __str__(self) -> str:  # ids only, for the log
        if self.package is not None:
            return f"package of request {self.package[0].pk}"
        return f"task {self.task_id}"


# Set only while task_run completes a task.
_followups: ContextVar[list[_Followup] | None] = ContextVar("_followups", default=None)


# --- planning -----------------------------------------------------------------


def request_plan_tasks(
    *, actor: Actor, request: Request, fresh: bool = False
) -> list[RequestTask]:
    """Create the tasks of a request that has just become actionable
    (`fresh`: the caller knows it has none yet, so none is looked for).

    Runs inside the caller's transaction; the tasks are enqueued after commit.
    """
    action = ACTIONS_FOR_KIND[request.kind]
    existing = (
        {}
        if fresh
        else {t.connector_id: t for t in request.tasks.filter(action=action)}
    )
    now = timezone.now()
    tasks: list[RequestTask] = []
    new: list[RequestTask] = []
    for connector in Connector.objects.filter(enabled=True).order_by("name"):
        supported = action in connector.instance().actions
        if not supported and action not in MANUAL_FALLBACK:
            continue
        task = existing.get(connector.pk)
        if task is None:
            task = RequestTask(
                request=request,
                connector=connector,
                action=action,
                manual=not supported,
                status=TaskStatus.PENDING if supported else TaskStatus.WAITING,
                max_attempts=settings.TASK_MAX_ATTEMPTS,
                # set here, not by _enqueue_after_commit: one write, not two
                enqueued_at=now if supported else None,
                status_note=(
                    ""
                    if supported
                    else f"{connector.name} cannot {action} by itself: do it by hand"
                ),
            )
            new.append(task)
        tasks.append(task)
    RequestTask.objects.bulk_create(new)  # one INSERT for every store
    audit_record(
        actor=actor,
        action="request.fanned_out",
        obj=request,
        data={"tasks": [str(t.public_id) for t in tasks], "action": action},
    )
    pending = [t for t in tasks if t.status == TaskStatus.PENDING]
    _enqueue_after_commit(t for t in pending if t not in new)
    _enqueue_after_commit((t for t in pending if t in new), marked=True)
    return tasks


def _enqueue_after_commit(
    tasks: Iterable[RequestTask],
    *,
    countdown: float = 0,
    inline_first: bool = False,
    marked: bool = False,
) -> None:
    """Send the tasks to the broker after commit (`marked`: their enqueued_at
    was set when they were created)."""
    ids = [task.pk for task in tasks]
    if not ids:
        return
    # enqueued_at also marks an inline task: the sweeper re-queues it if this
    # worker dies before running it.
    if not marked:
        RequestTask.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())
    followups = _followups.get()
    if inline_first and followups is not None and not countdown:
        followups.append(_Followup(task_id=ids[0]))
        ids = ids[1:]
        if not ids:
            return

    def send() -> None:
        from dsr.tasks import run_request_task_task

        for task_id in ids:
            run_request_task_task.apply_async(args=[task_id], countdown=countdown)

    transaction.on_commit(send)


# --- running one task ----------------------------------------------------------


def subject_identity(*, request: Request) -> Identity:
    """Decrypt the subject's identifiers for a connector (memory only)."""
    emails: list[str] = []
    phones: list[str] = []
    customer_ids: dict[str, list[str]] = {}
    rows = SubjectIdentifier.objects.filter(subject_id=request.subject_id)
    for kind, namespace, value in rows.values_list("kind", "namespace", "value"):
        if kind == "email":
            emails.append(value)
        elif kind == "phone":
            phones.append(value)
        else:
            customer_ids.setdefault(namespace, []).append(value)
    return Identity(
        emails=tuple(emails),
        phones=tuple(phones),
        customer_ids={k: tuple(v) for k, v in customer_ids.items()},
    )


class JsonlSink:
    """Streams access records to a JSON-lines file and hashes them on the way."""

    def __init__(self, task: RequestTask) -> None:
        self.name = f"dsr/{task.request.public_id}/{task.public_id}.jsonl"
        self.digest = hashlib.sha256()
        # Memory stays flat: past 256 KB the buffer spills to a temporary
        # file (a bigger buffer only raises the worker's peak: growing it, then
        # spilling it, holds up to three copies at once).
        self._file = tempfile.SpooledTemporaryFile(max_size=256 * 1024)

    def write(self, record: AccessRecord) -> None:
        line = (
            json.dumps(
                {
                    "location": record.location,
                    "key": record.key,
                    "category": record.category,
                    "data": record.data,
                },
                default=str,
                ensure_ascii=False,
                sort_keys=True,
            )
            + "\n"
        ).encode()
        self.digest.update(line)
        self._file.write(line)

    def save(self) -> str:
        self._file.seek(0)
        if default_storage.exists(self.name):
            default_storage.delete(self.name)  # a rerun replaces, never appends
        name = default_storage.save(self.name, self._file)
        self._file.close()
        return name


def task_run(*, task_id: int) -> str:
    """Run one task once. Returns what happened (for logs and tests).

    What the task makes due next (erasure's verification, the access
    package) runs right after it, in this process (see `_followups`)."""
    followups: list[_Followup] = []
    with _collecting(followups):
        outcome = _task_run_once(task_id)
    _run_followups(followups)
    return outcome


@contextmanager
def _collecting(followups: list[_Followup]) -> Iterator[None]:
    token = _followups.set(followups)
    try:
        yield
    finally:
        _followups.reset(token)


def _run_followups(followups: list[_Followup]) -> None:
    """Run, after commit, what a finished task made due; anything that fails
    here goes to the broker instead (the sweeper covers a dead worker)."""
    from dsr.tasks import build_access_package_task, run_request_task_task
    from evidence.services import access_package_build_and_close

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
    now = timezone.now()
    # The claim is one statement that commits by itself; what follows only
    # reads. The attempt's row is written when the attempt ends, with its
    # outcome (one write, not two): a worker that dies before leaves the task
    # running with no row, and the sweeper records the attempt as lost.
    action = _claim(task_id, now)
    if action is None:
        return "not-pending"  # done, running elsewhere, or cancelled
    tasks = RequestTask.objects.select_related("request", "connector")
    if action == Action.ERASE:  # only erasure yields to a legal hold
        tasks = tasks.annotate(held=holds_covering_exist())
    task = tasks.get(pk=task_id)
    if not task.request.is_open:
        _finish(task, TaskStatus.SKIPPED, note="the request closed before this ran")
        return "request-closed"
    if action == Action.ERASE and task.held and _exempt_if_held(task):
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
        # Erasure receipt: a queued verification pass checks with what the
        # erasure knew (read back from the erase task, see _complete).
        receipt=_erasure_receipt(task) if action == Action.VERIFY_ERASURE else None,
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
        _mark_waiting(task, result)
        return "deferred"
    # Erasure receipt: the check right after erasing gets the erasure's receipt.
    check = (
        _check_now(connector, job, sink, result) if job.action == Action.ERASE else None
    )
    # The attempt, the task's outcome (and the check) and the request's next
    # step commit together; their audit events go in one append at the end.
    with transaction.atomic(), audit_batch():
        attempt_close(attempt, started, AttemptOutcome.SUCCEEDED)
        if not _complete(task=task, outcome=result, actor=SYSTEM, check=check):
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


@dataclass(frozen=True)
class _Check:
    """A verification pass made in the erasing run, not yet recorded."""

    outcome: Outcome
    started_at: datetime
    duration_ms: int


def _check_now(
    connector: Any, job: Job, sink: JsonlSink, erased: Outcome
) -> _Check | None:
    """Ask a store that answers at once, right after erasing in it, what of
    the subject remains: its verification pass, without a queued task of its
    own. None if it cannot (the finalizer then queues the pass). `erased`:
    the erasure's outcome, whose receipt the check is given."""
    if not (
        connector.verifies_in_process and Action.VERIFY_ERASURE in connector.actions
    ):
        return None
    # Erasure receipt: verify from what the erasure knew, not instance state.
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
    return _Check(outcome, at, int((time.monotonic() - started) * 1000))


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
        _finish(task, TaskStatus.FAILED, error=message)
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
            _enqueue_after_commit([task], countdown=delay)
    return "retry"


def _mark_waiting(task: RequestTask, deferred: Deferred) -> None:
    RequestTask.objects.filter(pk=task.pk, status=TaskStatus.RUNNING).update(
        status=TaskStatus.WAITING,
        deferred_reference=deferred.reference[:200],
        status_note=deferred.note,
    )


def _finish(task: RequestTask, status: str, *, error: str = "", note: str = "") -> None:
    with transaction.atomic():
        changed = RequestTask.objects.filter(
            pk=task.pk,
            status__in=[TaskStatus.RUNNING, TaskStatus.PENDING, TaskStatus.WAITING],
        ).update(
            status=status,
            finished_at=timezone.now(),
            last_error=error[:2000],
            status_note=note or F("status_note"),
        )
        if changed:
            audit_record(
                actor=SYSTEM,
                action=f"task.{status}",
                obj=task.request,
                data={
                    "task": str(task.public_id),
                    "connector": task.connector.name,
                    "action": task.action,
                },
            )
            request_finalize(request=task.request)


def task_complete(*, task: RequestTask, outcome: Outcome, actor: Actor) -> RequestTask:
    """Record a successful outcome (from a worker, a webhook, an agent or a human)."""
    with transaction.atomic():
        if not _complete(task=task, outcome=outcome, actor=actor):
            raise IllegalTransition("this task is not running or waiting")
    task.refresh_from_db()
    return task


def _complete(
    *, task: RequestTask, outcome: Outcome, actor: Actor, check: _Check | None = None
) -> bool:
    """task_complete inside the caller's transaction; False if the task was
    not running or waiting (nothing written). `check`: the verification pass
    made in the same run, recorded as the store's verification task."""
    exemptions = [_exemption_json(e) for e in outcome.exemptions]
    # Erasure receipt: stored (encrypted) on the erase task, for a queued
    # verification pass in another process (_erasure_receipt reads it back).
    receipt = (
        {"erasure_receipt": outcome.to_json()}
        if isinstance(outcome, ErasureReceipt)
        else {}
    )
    changed = RequestTask.objects.filter(
        pk=task.pk, status__in=[TaskStatus.RUNNING, TaskStatus.WAITING]
    ).update(
        **receipt,
        status=TaskStatus.SUCCEEDED,
        finished_at=timezone.now(),
        records_found=outcome.found,
        records_changed=outcome.changed,
        per_location=outcome.per_location,
        exemptions=exemptions,
        result_file=task.result_file,
        result_digest=task.result_digest,
        status_note=outcome.note or F("status_note"),
        last_error="",
        lease_owner="",
        lease_expires_at=None,
    )
    if changed != 1:
        return False
    _audit_succeeded(task, outcome, actor)
    if check is not None:
        _record_check(task, check)
    request_finalize(request=task.request)
    return True


def _audit_succeeded(task: RequestTask, outcome: Outcome, actor: Actor) -> None:
    audit_record(
        actor=actor,
        action="task.succeeded",
        obj=task.request,
        data={
            "task": str(task.public_id),
            "connector": task.connector.name,
            "action": task.action,
            "found": outcome.found,
            "changed": outcome.changed,
            "digest": task.result_digest,
            "exemptions": len(outcome.exemptions),
        },
    )


def _erasure_receipt(task: RequestTask) -> ErasureReceipt | None:
    """Erasure receipt: the receipt stored on the erase task that `task` (a
    verification pass) verifies; None when the erasure left none."""
    stored = (
        RequestTask.objects.filter(
            request_id=task.request_id,
            connector_id=task.connector_id,
            action=Action.ERASE,
        )
        .values_list("erasure_receipt", flat=True)
        .first()
    )
    if stored is None:
        return None
    try:
        return ErasureReceipt.from_json(stored)
    except ValueError:
        logger.warning("task %s: unreadable erasure receipt, not used", task.pk)
        return None


def _record_check(erased: RequestTask, check: _Check) -> None:
    """The store's verification task, done: what the check found remains."""
    finished = check.started_at + timedelta(milliseconds=check.duration_ms)
    outcome = check.outcome
    verify = RequestTask.objects.create(
        request=erased.request,
        connector=erased.connector,
        action=Action.VERIFY_ERASURE,
        status=TaskStatus.SUCCEEDED,
        attempts=1,
        max_attempts=settings.TASK_MAX_ATTEMPTS,
        started_at=check.started_at,
        finished_at=finished,
        records_found=outcome.found,
        records_changed=outcome.changed,
        per_location=outcome.per_location,
        exemptions=[_exemption_json(e) for e in outcome.exemptions],
        status_note="checked in the erasing run, right after the erasure",
    )
    TaskAttempt.objects.create(
        task=verify,
        number=1,
        started_at=check.started_at,
        finished_at=finished,
        duration_ms=check.duration_ms,
        outcome=AttemptOutcome.SUCCEEDED,
        worker=socket.gethostname(),
    )
    _audit_succeeded(verify, outcome, SYSTEM)


def task_fail(*, task: RequestTask, error: str, actor: Actor) -> RequestTask:
    """An external party reports failure (webhook callback, agent)."""
    _finish(task, TaskStatus.FAILED, error=error)
    task.refresh_from_db()
    return task


def _exemption_json(exemption: Exemption) -> dict[str, Any]:
    return {
        "location": exemption.location,
        "fields": list(exemption.fields),
        "basis": exemption.basis,
        "reason": exemption.reason,
        "count": exemption.count,
    }


# --- staff actions on tasks --------------------------------------------------------


def task_retry(*, actor: Actor, task: RequestTask) -> RequestTask:
    from accounts.permissions import Perm

    actor.require(Perm.REQUEST_CLOSE)
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=task.request_id)
        if not request.is_open:
            raise IllegalTransition(f"request {request.reference} is closed")
        changed = RequestTask.objects.filter(
            pk=task.pk, status=TaskStatus.FAILED
        ).update(
            status=TaskStatus.PENDING,
            max_attempts=F("attempts") + settings.TASK_MAX_ATTEMPTS,
            finished_at=None,
        )
        if changed != 1:
            raise IllegalTransition("only a failed task can be retried")
        audit_record(
            actor=actor,
            action="task.retried",
            obj=request,
            data={"task": str(task.public_id)},
        )
        _enqueue_after_commit([task])
    task.refresh_from_db()
    return task


def task_skip(
    *, actor: Actor, task: RequestTask, reason: str, basis: str = ""
) -> RequestTask:
    """Staff close a task without running it: with a legal basis it is an
    exemption (the request can still complete), without one it is skipped."""
    from accounts.permissions import Perm

    actor.require(Perm.REQUEST_CLOSE)
    text = (reason or "").strip()
    if len(text) < 5:
        raise ValidationFailed("give a reason (at least a few words)", field="reason")
    status = TaskStatus.EXEMPTED if basis.strip() else TaskStatus.SKIPPED
    with transaction.atomic():
        changed = RequestTask.objects.filter(
            pk=task.pk,
            status__in=[TaskStatus.PENDING, TaskStatus.WAITING, TaskStatus.FAILED],
        ).update(
            status=status,
            finished_at=timezone.now(),
            status_note=text,
            exemptions=[
                {
                    "location": "*",
                    "fields": [],
                    "basis": basis.strip(),
                    "reason": text,
                    "count": 0,
                }
            ]
            if basis.strip()
            else [],
        )
        if changed != 1:
            raise IllegalTransition(
                "only a queued, waiting or failed task can be skipped"
            )
        audit_record(
            actor=actor,
            action=f"task.{status}",
            obj=task.request,
            data={"task": str(task.public_id), "basis": basis.strip()},
        )
        request_finalize(request=task.request)
    task.refresh_from_db()
    return task


def task_manual_done(*, actor: Actor, task: RequestTask, note: str) -> RequestTask:
    """A person did the work of a manual task and says what they did."""
    from accounts.permissions import Perm

    actor.require(Perm.REQUEST_CLOSE)
    text = (note or "").strip()
    if len(text) < 5:
        raise ValidationFailed("say what was done", field="note")
    if task.status != TaskStatus.WAITING:
        raise IllegalTransition("this task is not waiting for a person")
    return task_complete(task=task, outcome=Outcome(note=text), actor=actor)


# --- finishing a request -----------------------------------------------------------


def request_finalize(*, request: Request) -> str:
    """Called whenever a task ends; the last one closes the request.

    Runs under the request's row lock, so two tasks finishing at once cannot
    both (or neither) close it. Inside a caller's transaction it is part of
    it (no savepoint: a failure here must undo the caller's write too)."""
    with transaction.atomic(savepoint=False):
        locked, tasks = request_locked_with_tasks(request.pk)
        if locked is None:
            return "waiting"
        request = locked
        if request.status != RequestStatus.IN_PROGRESS:
            return "not-in-progress"
        if any(t.status not in TERMINAL_TASK_STATUSES for t in tasks):
            return "waiting"
        if request.kind == RequestKind.ERASURE and _plan_verification(request, tasks):
            return "verifying"
        if request.kind in PACKAGE_KINDS and any(
            t.status == TaskStatus.SUCCEEDED for t in tasks
        ):
            # What was found is delivered even when a store failed; the
            # package lists that store as incomplete and the request closes
            # as partially completed.
            _enqueue_package(request, tasks)
            return "packaging"
        return request_close_on_tasks(
            actor=SYSTEM, request=request, tasks=tasks, notice="closed"
        )


def request_close_on_tasks(
    *, actor: Actor, request: Request, tasks: list[RequestTask], notice: str
) -> str:
    """Close a locked, in-progress request whose tasks have all ended, with
    the outcome they add up to (`request_outcome`); returns that outcome."""
    from dsr.services.requests import request_close_locked

    outcome, note = request_outcome(tasks=tasks)
    request_close_locked(
        actor=actor, request=request, outcome=outcome, note=note[:5000], notice=notice
    )
    return outcome


def request_locked_with_tasks(
    request_id: int, tasks: QuerySet[RequestTask] | None = None
) -> tuple[Request | None, list[RequestTask]]:
    """The request, locked (with its subject, whose pseudonym the access
    package prints), and its tasks with their connectors: one query, inside
    the caller's transaction. (None, []) if it has no task, and then nothing
    is locked. `tasks`: a RequestTask query to start from (annotated)."""
    rows = list(
        (tasks if tasks is not None else RequestTask.objects.all())
        .filter(request_id=request_id)
        .select_related("request__subject", "connector")
        .select_for_update(of=("request",))
    )
    if not rows:
        return None, []
    request = rows[0].request
    for row in rows:
        row.request = request  # one instance: the one the caller saves
    return request, rows


def _plan_verification(request: Request, tasks: list[RequestTask]) -> bool:
    """Queue the verification pass of every store erased in that has not
    been checked yet (stores that answer at once were checked in the erasing
    run: `_check_now`). True if any was queued."""
    checked = {t.connector_id for t in tasks if t.action == Action.VERIFY_ERASURE}
    now = timezone.now()
    verify = [
        RequestTask(
            request=request,
            connector=t.connector,
            action=Action.VERIFY_ERASURE,
            max_attempts=settings.TASK_MAX_ATTEMPTS,
            enqueued_at=now,
        )
        for t in tasks
        if t.action == Action.ERASE
        and t.status == TaskStatus.SUCCEEDED
        and not t.manual
        and t.connector_id not in checked
        and Action.VERIFY_ERASURE in t.connector.instance().actions
    ]
    if verify:
        RequestTask.objects.bulk_create(verify)
        audit_record(
            actor=SYSTEM,
            action="request.verification_planned",
            obj=request,
            data={"tasks": [str(t.public_id) for t in verify]},
        )
        _enqueue_after_commit(verify, inline_first=True, marked=True)
    return bool(verify)


def _enqueue_package(request: Request, tasks: list[RequestTask] | None = None) -> None:
    """Build the access package after commit: in this process when a worker
    is finishing a task here (with the `tasks` just read), else through the
    broker."""
    from dsr.tasks import build_access_package_task

    followups = _followups.get()
    if followups is not None and tasks is not None:
        followups.append(_Followup(package=(request, tasks)))
        return
    transaction.on_commit(lambda: build_access_package_task.delay(request.pk))


def request_outcome(*, tasks: list[RequestTask]) -> tuple[str, str]:
    """The closing status of a request whose tasks all ended, and why."""
    problems: list[str] = []
    for t in tasks:
        if t.status == TaskStatus.FAILED:
            problems.append(
                f"{t.connector.name} {t.action} failed: {t.last_error[:200]}"
            )
        elif t.status == TaskStatus.SKIPPED:
            problems.append(
                f"{t.connector.name} {t.action} skipped: {t.status_note[:200]}"
            )
        elif t.action == Action.VERIFY_ERASURE and t.records_found:
            problems.append(
                f"{t.connector.name} still holds {t.records_found} record(s) "
                "after erasure"
            )
    if not problems:
        return RequestStatus.COMPLETED, ""
    succeeded = any(
        t.status in (TaskStatus.SUCCEEDED, TaskStatus.EXEMPTED) for t in tasks
    )
    status = RequestStatus.PARTIALLY_COMPLETED if succeeded else RequestStatus.FAILED
    return status, "; ".join(problems)


# --- the sweeper ---------------------------------------------------------------


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
        _enqueue_after_commit(revived + lost)
        unpackaged = _requests_awaiting_package(older_than=lost_pending)
        for request in unpackaged:
            _enqueue_package(request)
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
