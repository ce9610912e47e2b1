"""Finishing a request: the last task to end closes it.

Runs under the request's row lock. Erasure first gets its verification pass,
access and portability their package; everything else closes with the
outcome its tasks add up to.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.actors import Actor
from audit.services import audit_record
from connectors.choices import Action
from dsr.choices import (
    PACKAGE_KINDS,
    TERMINAL_TASK_STATUSES,
    RequestKind,
    RequestStatus,
    TaskStatus,
)
from dsr.models import Request, RequestTask
from dsr.services.execution.ordering import held_tasks_release
from dsr.services.execution.planning import (
    SYSTEM,
    Followup,
    followups_pending,
    tasks_enqueue_after_commit,
)
from dsr.services.requests import request_close_locked


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
            held_tasks_release(tasks)
            return "waiting"
        if request.kind == RequestKind.ERASURE and _plan_verification(request, tasks):
            return "verifying"
        if request.kind in PACKAGE_KINDS and any(
            t.status == TaskStatus.SUCCEEDED for t in tasks
        ):
            # What was found is delivered even when a store failed; the
            # package lists that store as incomplete and the request closes
            # as partially completed.
            access_package_enqueue(request, tasks)
            return "packaging"
        return request_close_on_tasks(
            actor=SYSTEM, request=request, tasks=tasks, notice="closed"
        )


def request_close_on_tasks(
    *, actor: Actor, request: Request, tasks: list[RequestTask], notice: str
) -> str:
    """Close a locked, in-progress request whose tasks have all ended, with
    the outcome they add up to (`request_outcome`); returns that outcome."""
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
        tasks_enqueue_after_commit(verify, inline_first=True, marked=True)
    return bool(verify)


def access_package_enqueue(
    request: Request, tasks: list[RequestTask] | None = None
) -> None:
    """Build the access package after commit: in this process when a worker
    is finishing a task here (with the `tasks` just read), else through the
    broker."""
    # Local: dsr.tasks imports the executor back (task <-> service pair).
    from dsr.tasks import build_access_package_task

    followups = followups_pending.get()
    if followups is not None and tasks is not None:
        followups.append(Followup(package=(request, tasks)))
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
