"""Privacy Desk as an OpenDSR controller: the callbacks of the processors
our `opendsr` connectors forward requests to (connectors/kinds/opendsr.py).

A callback is checked by the connector of its task before anything is
parsed, then its status is recorded on the task through the executor's own
services, so a request closes the same way whoever did the work:
`completed` succeeds the task (an access task keeps the processor's
`results_url` and count in its note), `cancelled` fails it, `pending` and
`in_progress` are noted. A callback repeated after the task ended is taken
(202) and changes nothing, so the processor stops retrying.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.db import transaction

from accounts.actors import Actor
from connectors import opendsr_protocol as protocol
from connectors.choices import Action, ConnectorKindChoice
from connectors.kinds.opendsr import (
    CallbackRefused,
    OpenDsrConnector,
    ProcessorStatus,
    callback_url,
    erasure_receipt,
    subject_request_id_for,
)
from connectors.values import Outcome
from dsr.choices import TaskStatus
from dsr.models import RequestTask
from dsr.services.execution.staff import task_complete, task_fail

OPEN = (TaskStatus.RUNNING, TaskStatus.WAITING)


class UnknownTask(Exception):
    """No task of an `opendsr` connector has this id."""


def opendsr_callback_receive(
    *, task_id: str, headers: Mapping[str, str], body: bytes
) -> RequestTask:
    """Check and record one processor callback; CallbackRefused (400/401)
    or UnknownTask (404) when it is not taken."""
    try:
        key = uuid.UUID(task_id)
    except ValueError:
        raise UnknownTask(task_id) from None
    task = (
        RequestTask.objects.select_related("connector", "request")
        .filter(public_id=key, connector__kind=ConnectorKindChoice.OPENDSR)
        .first()
    )
    if task is None:
        raise UnknownTask(task_id)
    connector = task.connector.instance()
    if not isinstance(connector, OpenDsrConnector):
        raise UnknownTask(task_id)
    status = connector.callback_verify(
        headers=headers, body=body, own_url=callback_url(str(task.public_id))
    )
    if status.subject_request_id != subject_request_id_for(str(task.public_id)):
        raise CallbackRefused("subject_request_id is not this task's", status=400)
    actor = Actor(
        kind="api",
        ref=f"connector:{task.connector.public_id}",
        label=f"OpenDSR processor of {task.connector.name}",
    )
    note = status.note(task.connector.name)
    if status.request_status not in protocol.CLOSED:
        RequestTask.objects.filter(pk=task.pk, status__in=OPEN).update(
            status_note=note[:2000]
        )
        return task
    with transaction.atomic():
        task = RequestTask.objects.select_for_update().get(pk=task.pk)
        if task.status not in OPEN:
            return task  # told before: taken, nothing changes
        if status.request_status == protocol.CANCELLED:
            return task_fail(
                task=task,
                error=f"{task.connector.name} cancelled the request",
                actor=actor,
            )
        return task_complete(task=task, outcome=_outcome(task, status), actor=actor)


def _outcome(task: RequestTask, status: ProcessorStatus) -> Outcome:
    note = status.note(task.connector.name)
    if task.action == Action.ERASE:
        return erasure_receipt(status.subject_request_id, note)
    return Outcome(note=note)
