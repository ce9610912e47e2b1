"""What people and external parties do to a task: retry it, skip it, mark
it done by hand, or report its result or failure (webhook, agent)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.base import Outcome
from dsr.choices import TaskStatus
from dsr.models import Request, RequestTask
from dsr.services.execution.finalising import request_finalize
from dsr.services.execution.planning import tasks_enqueue_after_commit
from dsr.services.execution.recording import task_finish, task_record_success
from privacydesk.errors import IllegalTransition, ValidationFailed


def task_complete(*, task: RequestTask, outcome: Outcome, actor: Actor) -> RequestTask:
    """Record a successful outcome (from a worker, a webhook, an agent or a human)."""
    with transaction.atomic():
        if not task_record_success(task=task, outcome=outcome, actor=actor):
            raise IllegalTransition("this task is not running or waiting")
    task.refresh_from_db()
    return task


def task_fail(*, task: RequestTask, error: str, actor: Actor) -> RequestTask:
    """An external party reports failure (webhook callback, agent)."""
    task_finish(task, TaskStatus.FAILED, error=error)
    task.refresh_from_db()
    return task


def task_retry(*, actor: Actor, task: RequestTask) -> RequestTask:
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
        tasks_enqueue_after_commit([task])
    task.refresh_from_db()
    return task


def task_skip(
    *, actor: Actor, task: RequestTask, reason: str, basis: str = ""
) -> RequestTask:
    """Staff close a task without running it: with a legal basis it is an
    exemption (the request can still complete), without one it is skipped."""
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
    actor.require(Perm.REQUEST_CLOSE)
    text = (note or "").strip()
    if len(text) < 5:
        raise ValidationFailed("say what was done", field="note")
    if task.status != TaskStatus.WAITING:
        raise IllegalTransition("this task is not waiting for a person")
    return task_complete(task=task, outcome=Outcome(note=text), actor=actor)
