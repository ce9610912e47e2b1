"""What people and external parties do to a task: retry it, skip it, mark
it done by hand and attach the proof, or report its result or failure
(webhook, agent). What each task status allows is dsr.lifecycle's table."""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import get_valid_filename

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.base import Outcome
from dsr.choices import TaskStatus
from dsr.lifecycle import TaskAction, task_statuses_allowing, task_transition_check
from dsr.models import Request, RequestTask
from dsr.services.execution.finalising import request_finalize
from dsr.services.execution.planning import tasks_enqueue_after_commit
from dsr.services.execution.recording import task_finish, task_record_success
from privacydesk.errors import IllegalTransition, ValidationFailed

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


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
        task_transition_check(action=TaskAction.RETRY, request=request, task=task)
        changed = RequestTask.objects.filter(
            pk=task.pk, status__in=task_statuses_allowing(TaskAction.RETRY)
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
    task_transition_check(action=TaskAction.SKIP, request=task.request, task=task)
    status = TaskStatus.EXEMPTED if basis.strip() else TaskStatus.SKIPPED
    with transaction.atomic():
        changed = RequestTask.objects.filter(
            pk=task.pk, status__in=task_statuses_allowing(TaskAction.SKIP)
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
    task_transition_check(action=TaskAction.DONE, request=task.request, task=task)
    return task_complete(task=task, outcome=Outcome(note=text), actor=actor)


# --- the proof of work done by hand ----------------------------------------------


def _safe_file_name(name: str) -> str:
    base = PurePath(name or "").name.replace("\\", "_")
    try:
        cleaned = get_valid_filename(base)
    except Exception:  # SuspiciousFileOperation on "", "." or ".."
        cleaned = ""
    if not cleaned or cleaned.startswith("."):
        cleaned = f"attachment{cleaned}"
    stem, dot, suffix = cleaned.rpartition(".")
    if dot and len(suffix) <= 10:
        return f"{stem[:90]}.{suffix}"
    return cleaned[:100]


def task_manual_attach(
    *, actor: Actor, task: RequestTask, uploaded_file: UploadedFile[bytes]
) -> RequestTask:
    """Keep the proof of a manual task (a screenshot, an export, a letter).

    Stored under tasks/<task id>/ with its sha256 on the task
    (`result_file`, `result_digest`); the same file twice changes nothing.
    Updates the given `task` too, so a later `task_manual_done` on it keeps
    the attachment."""
    actor.require(Perm.REQUEST_CLOSE)
    task = RequestTask.objects.select_related("connector", "request").get(pk=task.pk)
    task_transition_check(action=TaskAction.ATTACH, request=task.request, task=task)
    size = uploaded_file.size or 0
    if size == 0:
        raise ValidationFailed("the file is empty", field="attachment")
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            f"at most {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB", field="attachment"
        )
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    if task.result_digest == sha256:
        return task
    uploaded_file.seek(0)
    name = default_storage.save(
        f"tasks/{task.public_id}/{_safe_file_name(uploaded_file.name or '')}",
        uploaded_file,
    )
    try:
        with transaction.atomic():
            changed = RequestTask.objects.filter(
                pk=task.pk, status=task.status, result_digest=task.result_digest
            ).update(result_file=name, result_digest=sha256)
            if changed != 1:
                raise IllegalTransition("the task changed meanwhile; try again")
            audit_record(
                actor=actor,
                action="task.attachment_added",
                obj=task.request,
                data={
                    # The file's name may name the subject: digest and size only.
                    "task": str(task.public_id),
                    "sha256": sha256,
                    "size": size,
                    "replaces": task.result_digest,
                },
            )
    except BaseException:
        default_storage.delete(name)
        raise
    task.result_file, task.result_digest = name, sha256
    return task
