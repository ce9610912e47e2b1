"""Jobs worked outside: webhook callbacks and pull agents.

Reads (`agent_job_list`, `pull_connector_get`) and writes (claim, heartbeat,
report, callback, token) for the work a `http` or `pull` connector hands to
another system. A result is recorded through the executor's own services
(`task_complete`, `task_fail`), so a request closes the same way whoever
did the work. Every lookup by an agent is scoped to the connector its token
is bound to: another connector's job is "not found", never "forbidden".
Consent withdrawals (consent.services.jobs) use the same scoping and leases
(`agent_connector_id`, `agent_lease`).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.actors import Actor, actor_for_client
from accounts.choices import Scope
from accounts.models import ApiClient
from accounts.services import api_client_create
from audit.services import audit_record
from connectors.base import Job
from connectors.choices import Action, ConnectorKindChoice
from connectors.kinds.pull import PullConnector
from connectors.models import Connector
from connectors.signing import signature_verify
from connectors.wire import ReportedResult, job_payload, result_parse
from dsr.choices import AttemptOutcome, RequestStatus, TaskStatus
from dsr.models import RequestTask, TaskAttempt
from dsr.services.execution import (
    JsonlSink,
    subject_identity,
    task_complete,
    task_fail,
)
from privacydesk.errors import IllegalTransition, NotPermitted, ValidationFailed

AGENT_LIST_LIMIT = 100


@dataclass(frozen=True)
class AgentJob:
    """A job as its agent sees it: the job document and its lease."""

    document: dict[str, Any]
    created_at: datetime
    lease_expires_at: datetime | None


# --- reads ----------------------------------------------------------------------


def agent_connector_id(*, client: ApiClient) -> int:
    """The one connector an agent token works for; NotPermitted otherwise."""
    if client.connector_id is None or Scope.CONNECTORS_AGENT not in client.scopes:
        raise NotPermitted("this token is not an agent token bound to a connector")
    return client.connector_id


def _agent_tasks(client: ApiClient) -> QuerySet[RequestTask]:
    """Every job this agent may ever touch: its connector's, nothing else."""
    return RequestTask.objects.filter(
        connector_id=agent_connector_id(client=client),
        connector__kind=ConnectorKindChoice.PULL,
        manual=False,
    ).select_related("request", "connector")


def _agent_task(client: ApiClient, public_id: str) -> RequestTask:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise RequestTask.DoesNotExist from None
    return _agent_tasks(client).get(public_id=key)


def _free(now: datetime) -> Q:
    # An expired lease is free even before the sweeper clears it.
    return Q(lease_owner="") | Q(lease_expires_at__lt=now)


def agent_job_document(*, task: RequestTask) -> AgentJob:
    """The job document (with the decrypted identity) for one task."""
    job = Job(
        task_id=str(task.public_id),
        request_reference=task.request.reference,
        action=task.action,
        identity=subject_identity(request=task.request),
        changes=task.request.corrections or {},
    )
    return AgentJob(
        document=job_payload(job),
        created_at=task.created_at,
        lease_expires_at=task.lease_expires_at,
    )


def agent_job_list(*, client: ApiClient, limit: int = 20) -> list[AgentJob]:
    """Waiting jobs of the agent's connector that nobody holds, oldest first."""
    now = timezone.now()
    tasks = (
        _agent_tasks(client)
        .filter(_free(now), status=TaskStatus.WAITING)
        .filter(request__status=RequestStatus.IN_PROGRESS)
        .order_by("created_at", "pk")[: max(1, min(limit, AGENT_LIST_LIMIT))]
    )
    return [agent_job_document(task=task) for task in tasks]


def pull_connector_get(*, name: str) -> Connector:
    connector = Connector.objects.filter(name=name).first()
    if connector is None:
        raise ValidationFailed(f"no connector named {name!r}", field="connector")
    if connector.kind != ConnectorKindChoice.PULL:
        raise ValidationFailed(
            f"{name} is a {connector.kind} connector; only pull connectors have agents",
            field="connector",
        )
    return connector


# --- pull agents ----------------------------------------------------------------


def agent_lease(*, connector: Connector) -> timedelta:
    """How long a claim on one of this connector's jobs lasts."""
    instance = connector.instance()
    if isinstance(instance, PullConnector):
        return instance.lease
    return timedelta(seconds=300)


def _lease(task: RequestTask) -> timedelta:
    return agent_lease(connector=task.connector)


def agent_job_claim(*, client: ApiClient, public_id: str) -> AgentJob:
    """Take a job's lease. A compare-and-swap on the free lease: of two agents
    claiming at once exactly one wins, the other gets IllegalTransition."""
    task = _agent_task(client, public_id)
    if not task.request.is_open:
        raise IllegalTransition(f"request {task.request.reference} is closed")
    if task.status != TaskStatus.WAITING:
        raise IllegalTransition(f"this job is {task.status}, not waiting")
    now = timezone.now()
    owner = str(client.public_id)
    with transaction.atomic():
        claimed = (
            RequestTask.objects.filter(pk=task.pk, status=TaskStatus.WAITING)
            .filter(_free(now))
            .update(
                lease_owner=owner,
                lease_expires_at=now + _lease(task),
                attempts=F("attempts") + 1,
            )
        )
        if claimed != 1:
            raise IllegalTransition("another agent holds this job")
        task.refresh_from_db()
        # An earlier holder whose lease ran out left its attempt open.
        TaskAttempt.objects.filter(task=task, finished_at__isnull=True).update(
            finished_at=now, outcome=AttemptOutcome.RETRY, error="lease expired"
        )
        TaskAttempt.objects.create(
            task=task,
            number=task.attempts,
            started_at=now,
            worker=f"agent {client.name}"[:200],
        )
        audit_record(
            actor=actor_for_client(client),
            action="task.claimed",
            obj=task.request,
            data={
                "task": str(task.public_id),
                "lease_expires_at": task.lease_expires_at,
            },
        )
    return agent_job_document(task=task)


def agent_job_heartbeat(*, client: ApiClient, public_id: str) -> RequestTask:
    """The holder is still at work: extend its lease from now."""
    task = _agent_task(client, public_id)
    extended = RequestTask.objects.filter(
        pk=task.pk, status=TaskStatus.WAITING, lease_owner=str(client.public_id)
    ).update(lease_expires_at=timezone.now() + _lease(task))
    if extended != 1:
        raise IllegalTransition("this token does not hold the job's lease")
    task.refresh_from_db()
    return task


def agent_job_report(*, client: ApiClient, public_id: str, data: Any) -> RequestTask:
    """The holder reports the job's result; the task succeeds, fails, or (a
    retryable failure with attempts left) goes back to the queue."""
    task = _agent_task(client, public_id)
    owner = str(client.public_id)
    if task.status != TaskStatus.WAITING or task.lease_owner != owner:
        raise IllegalTransition("this token does not hold the job's lease")
    result = result_parse(data, action=task.action, task_id=str(task.public_id))
    with transaction.atomic():
        task = _lock(task)
        if task.status != TaskStatus.WAITING or task.lease_owner != owner:
            raise IllegalTransition("this token does not hold the job's lease")
        return _record(task, result, actor_for_client(client))


# --- webhook callbacks ------------------------------------------------------------


def webhook_callback_record(
    *, public_id: str, timestamp: str | None, signature: str | None, body: bytes
) -> RequestTask:
    """A webhook reports a deferred result, signed with the connector's key.

    Refused (SignatureRejected, 401) when unsigned, forged, or signed more
    than five minutes from now; a task that is no longer open to a result is
    an IllegalTransition (409), which also stops a replay within the window.
    A task still "running" is accepted: a fast webhook may call back before
    our request to it has returned.
    """
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise RequestTask.DoesNotExist from None
    task = RequestTask.objects.select_related("connector", "request").get(
        public_id=key, connector__kind=ConnectorKindChoice.HTTP, manual=False
    )
    signature_verify(
        key=(task.connector.secrets or {}).get("signing_key", ""),
        timestamp=timestamp,
        signature=signature,
        body=body,
    )
    try:
        data = json.loads(body)
    except ValueError:
        raise ValidationFailed("the body must be a JSON object") from None
    result = result_parse(
        data, action=task.action, task_id=str(task.public_id), require_task_id=True
    )
    actor = Actor(
        kind="api",
        ref=f"connector:{task.connector.public_id}",
        label=f"webhook of {task.connector.name}",
    )
    with transaction.atomic():
        task = _lock(task)
        if task.status not in (TaskStatus.WAITING, TaskStatus.RUNNING):
            raise IllegalTransition(f"this task is {task.status}; it takes no result")
        return _record(task, result, actor)


# --- agent tokens -----------------------------------------------------------------


def agent_token_create(
    *, actor: Actor, connector: Connector, name: str = ""
) -> tuple[ApiClient, str]:
    """Issue a bearer token that works the jobs of this one pull connector."""
    if connector.kind != ConnectorKindChoice.PULL:
        raise ValidationFailed("only pull connectors have agents", field="connector")
    name = name.strip()
    if not name:
        taken = set(
            ApiClient.objects.filter(
                name__startswith=f"agent-{connector.name}"
            ).values_list("name", flat=True)
        )
        number = 1
        while f"agent-{connector.name}-{number}" in taken:
            number += 1
        name = f"agent-{connector.name}-{number}"
    return api_client_create(
        actor=actor,
        name=name,
        scopes=[Scope.CONNECTORS_AGENT],
        connector=connector,
    )


# --- recording a result -----------------------------------------------------------


def _lock(task: RequestTask) -> RequestTask:
    return (
        RequestTask.objects.select_for_update(of=("self",))
        .select_related("request", "connector")
        .get(pk=task.pk)
    )


def _close_attempt(task: RequestTask, outcome: str, error: str = "") -> None:
    TaskAttempt.objects.filter(task=task, finished_at__isnull=True).update(
        finished_at=timezone.now(), outcome=outcome, error=error[:2000]
    )


def _record(task: RequestTask, result: ReportedResult, actor: Actor) -> RequestTask:
    """Record a parsed result on a locked task (inside the caller's transaction)."""
    if result.done:
        if task.action == Action.ACCESS:
            sink = JsonlSink(task)
            for record in result.records:
                sink.write(record)
            task.result_file = sink.save()
            task.result_digest = sink.digest.hexdigest()
        if task.connector.kind == ConnectorKindChoice.PULL:
            _close_attempt(task, AttemptOutcome.SUCCEEDED)
        return task_complete(task=task, outcome=result.outcome, actor=actor)
    if result.retryable and task.attempts < task.max_attempts:
        return _retry(task, result.error, actor)
    if task.connector.kind == ConnectorKindChoice.PULL:
        _close_attempt(task, AttemptOutcome.FAILED, result.error)
    return task_fail(task=task, error=result.error, actor=actor)


def _retry(task: RequestTask, error: str, actor: Actor) -> RequestTask:
    """A retryable failure: an agent's job goes back to the queue; a webhook
    job is sent again after a back-off."""
    now = timezone.now()
    if task.connector.kind == ConnectorKindChoice.PULL:
        RequestTask.objects.filter(pk=task.pk, status=TaskStatus.WAITING).update(
            lease_owner="", lease_expires_at=None, last_error=error[:2000]
        )
        _close_attempt(task, AttemptOutcome.RETRY, error)
    else:
        delay = _backoff_seconds(task.attempts)
        RequestTask.objects.filter(
            pk=task.pk, status__in=[TaskStatus.WAITING, TaskStatus.RUNNING]
        ).update(
            status=TaskStatus.PENDING,
            last_error=error[:2000],
            next_attempt_at=now + timedelta(seconds=delay),
            enqueued_at=now,
        )
        _enqueue_after_commit(task.pk, delay)
    audit_record(
        actor=actor,
        action="task.retry_requested",
        obj=task.request,
        data={"task": str(task.public_id), "attempts": task.attempts},
    )
    task.refresh_from_db()
    return task


def _backoff_seconds(attempt: int) -> float:
    base = settings.TASK_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0))
    return random.uniform(base / 2, min(base, settings.TASK_RETRY_MAX_SECONDS))  # noqa: S311


def _enqueue_after_commit(task_pk: int, countdown: float) -> None:
    def send() -> None:
        from dsr.tasks import run_request_task_task

        run_request_task_task.apply_async(args=[task_pk], countdown=countdown)

    transaction.on_commit(send)
