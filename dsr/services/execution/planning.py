"""Planning a request's tasks and sending them to the worker after commit.

Also what a worker finishing a task runs itself, right after its own commit
(`Followup`), instead of a round trip through the broker.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor, actor_system
from accounts.permissions import Perm
from audit.services import audit_record
from connectors.models import Connector
from dsr.choices import TaskStatus
from dsr.fanout import (
    ACTIONS_FOR_KIND,
    store_takes,
    stores_enabled,
    stores_unplanned,
)
from dsr.lifecycle import RequestAction, request_transition_check
from dsr.models import Request, RequestTask

SYSTEM = actor_system("executor")


@dataclass(frozen=True)
class Followup:
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
followups_pending: ContextVar[list[Followup] | None] = ContextVar(
    "followups_pending", default=None
)


def request_plan_tasks(
    *, actor: Actor, request: Request, fresh: bool = False
) -> list[RequestTask]:
    """Create the tasks of a request that has just become actionable
    (`fresh`: the caller knows it has none yet, so none is looked for).

    Runs inside the caller's transaction; the tasks are enqueued after commit.
    """
    existing = (
        {}
        if fresh
        else {
            t.connector_id: t
            for t in request.tasks.filter(action=ACTIONS_FOR_KIND[request.kind])
        }
    )
    return requests_plan_tasks(
        actor=actor, requests=[request], existing={request.pk: existing}
    )[0]


def requests_plan_tasks(
    *,
    actor: Actor,
    requests: list[Request],
    existing: dict[int, dict[int, RequestTask]] | None = None,
) -> list[list[RequestTask]]:
    """`request_plan_tasks` for several requests at once (a batch taken in):
    one read of the stores, one INSERT of every new task, one `fanned_out`
    event per request, one message per task after commit. `existing`: per
    request id, its tasks already planned, by connector id (none if absent).
    Returns each request's tasks, in the order of `requests`."""
    stores = stores_enabled()
    now = timezone.now()
    planned: list[list[RequestTask]] = []
    new: list[RequestTask] = []
    for request in requests:
        action = ACTIONS_FOR_KIND[request.kind]
        known = (existing or {}).get(request.pk, {})
        tasks: list[RequestTask] = []
        for connector, actions in stores:
            supported = action in actions
            if not store_takes(action, actions):
                continue
            task = known.get(connector.pk)
            if task is None:
                task = _task_new(request, connector, action, supported, now)
                new.append(task)
            tasks.append(task)
        planned.append(tasks)
    RequestTask.objects.bulk_create(new)  # one INSERT for every store
    for request, tasks in zip(requests, planned, strict=True):
        audit_record(
            actor=actor,
            action="request.fanned_out",
            obj=request,
            data={
                "tasks": [str(t.public_id) for t in tasks],
                "action": ACTIONS_FOR_KIND[request.kind],
            },
        )
    created = {id(task) for task in new}
    pending = [t for tasks in planned for t in tasks if t.status == TaskStatus.PENDING]
    tasks_enqueue_after_commit(t for t in pending if id(t) not in created)
    tasks_enqueue_after_commit((t for t in pending if id(t) in created), marked=True)
    return planned


def request_stores_unplanned(*, request: Request) -> list[Connector]:
    """The enabled stores that would get a task of this request and have
    none: what "send to the stores again" would plan. A read, for the page."""
    return [connector for connector, _ in stores_unplanned(request)]


def request_replan(*, actor: Actor, request: Request) -> list[RequestTask]:
    """Send an in-progress request to the stores again: a task for every
    enabled store that can do its work and has none yet, queued after
    commit. Idempotent: a store with a task, whatever its state, gets no
    second one (a failed task is retried on its own). Returns the new
    tasks; none, and no event, when every store has one already."""
    actor.require(Perm.REQUEST_CLOSE)
    with transaction.atomic():
        locked = (
            Request.objects.select_for_update(of=("self",))
            .select_related("subject")
            .get(pk=request.pk)
        )
        request_transition_check(action=RequestAction.SEND_AGAIN, request=locked)
        missing = stores_unplanned(locked)
        if not missing:
            return []
        action = ACTIONS_FOR_KIND[locked.kind]
        now = timezone.now()
        new = [
            _task_new(locked, store, action, supported, now)
            for store, supported in missing
        ]
        RequestTask.objects.bulk_create(new)
        audit_record(
            actor=actor,
            action="request.sent_again",
            obj=locked,
            data={"tasks": [str(t.public_id) for t in new], "action": action},
        )
        tasks_enqueue_after_commit(
            (t for t in new if t.status == TaskStatus.PENDING), marked=True
        )
        return new


def _task_new(
    request: Request, connector: Connector, action: str, supported: bool, now: datetime
) -> RequestTask:
    return RequestTask(
        request=request,
        connector=connector,
        action=action,
        manual=not supported,
        status=TaskStatus.PENDING if supported else TaskStatus.WAITING,
        max_attempts=settings.TASK_MAX_ATTEMPTS,
        # set here, not by tasks_enqueue_after_commit: one write, not two
        enqueued_at=now if supported else None,
        status_note=(
            ""
            if supported
            else f"{connector.name} cannot {action} by itself: do it by hand"
        ),
    )


def tasks_enqueue_after_commit(
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
    followups = followups_pending.get()
    if inline_first and followups is not None and not countdown:
        followups.append(Followup(task_id=ids[0]))
        ids = ids[1:]
        if not ids:
            return

    def send() -> None:
        # Local: dsr.tasks imports the executor back (task <-> service pair).
        from dsr.tasks import run_request_task_task

        for task_id in ids:
            run_request_task_task.apply_async(args=(task_id,), countdown=countdown)

    transaction.on_commit(send)
