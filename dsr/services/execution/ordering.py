"""Erasure in a store another store reads waits for that reader.

A store may read another while it works (`ConnectorKind.reads_from`: a
vector store matches the conversation ids a helpdesk lists for the subject).
If the helpdesk erased first, its tickets would be gone and the vector
store would no longer find the points of those conversations. So an erase
task whose connector is read by another erase task of the same request,
not yet ended, is held: left pending, without an attempt counted, with a
note saying whom it waits for. The reader's end releases it (the finalizer
runs on every task's end); the sweeper re-queues a hold whose release was
lost, like any pending task past `next_attempt_at`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from connectors.choices import Action
from connectors.registry import kind_available
from dsr.choices import TERMINAL_TASK_STATUSES, TaskStatus
from dsr.models import Request, RequestTask
from dsr.services.execution.planning import SYSTEM, tasks_enqueue_after_commit

HELD_NOTE = "held: waits for "


def _reads(reader: RequestTask, name: str) -> bool:
    kind = kind_available(reader.connector.kind)
    return kind is not None and name in kind.reads_from(reader.connector.config)


def readers_open(task: RequestTask, tasks: list[RequestTask]) -> list[RequestTask]:
    """The erase tasks among `tasks`, not ended, whose store reads `task`'s."""
    if task.action != Action.ERASE:
        return []
    return [
        other
        for other in tasks
        if other.pk != task.pk
        and other.action == Action.ERASE
        and other.status not in TERMINAL_TASK_STATUSES
        and _reads(other, task.connector.name)
    ]


def _other_erase_tasks(task: RequestTask) -> list[RequestTask]:
    return list(
        RequestTask.objects.filter(request_id=task.request_id, action=Action.ERASE)
        .exclude(status__in=TERMINAL_TASK_STATUSES)
        .exclude(pk=task.pk)
        .select_related("connector")
    )


def task_hold_for_readers(*, task_id: int) -> bool:
    """Before a pending erase task is claimed: hold it while a store that
    reads its store has an open erase task in the same request. True if held
    (nothing claimed, no attempt counted)."""
    task = (
        RequestTask.objects.select_related("connector")
        .filter(pk=task_id, status=TaskStatus.PENDING, action=Action.ERASE)
        .first()
    )
    if task is None or not readers_open(task, _other_erase_tasks(task)):
        return False
    # Under the request's lock, which the finalizer takes too: either the
    # reader's end sees this hold and releases it, or this sees the reader ended.
    with transaction.atomic():
        Request.objects.select_for_update().filter(pk=task.request_id).first()
        readers = readers_open(task, _other_erase_tasks(task))
        if not readers:
            return False
        names = ", ".join(sorted({r.connector.name for r in readers}))
        held = RequestTask.objects.filter(pk=task.pk, status=TaskStatus.PENDING).update(
            status_note=f"{HELD_NOTE}{names} (which read{'s' * (len(readers) == 1)}"
            " this store) to finish",
            next_attempt_at=timezone.now()
            + timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS),
        )
        if held:
            audit_record(
                actor=SYSTEM,
                action="task.held",
                obj=task.request,
                data={
                    "task": str(task.public_id),
                    "connector": task.connector.name,
                    "waits_for": [str(r.public_id) for r in readers],
                },
            )
    return True


def held_tasks_release(tasks: list[RequestTask]) -> None:
    """Send the held tasks among a request's `tasks` (read under its lock)
    whose readers have all ended; inside the finalizer's transaction."""
    released = [
        task
        for task in tasks
        if task.status == TaskStatus.PENDING
        and task.status_note.startswith(HELD_NOTE)
        and not readers_open(task, tasks)
    ]
    if not released:
        return
    RequestTask.objects.filter(pk__in=[t.pk for t in released]).update(
        status_note="", next_attempt_at=None
    )
    tasks_enqueue_after_commit(released)
