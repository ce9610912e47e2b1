"""Request tasks worked outside: pull agents' jobs and webhooks' callbacks.

`request_task_jobs` is the lease kit (connectors.jobkit) for request tasks
the executor parked "waiting" for a `pull` agent or an `http` webhook. A
result is recorded through the executor's own services (`task_complete`,
`task_fail`), so a request closes the same way whoever did the work. An
agent's token is issued by connectors.agent_tokens.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.actors import Actor
from audit.services import audit_record
from connectors.base import Job
from connectors.choices import Action
from connectors.jobkit import LeasedJobs
from connectors.wire import ReportedResult, job_payload
from dsr.choices import RequestStatus
from dsr.models import RequestTask
from dsr.services.execution.running import JsonlSink
from dsr.services.execution.staff import task_complete, task_fail
from privacydesk.errors import IllegalTransition
from subjects.selectors import subjects_identity


class RequestTaskJobs(LeasedJobs[RequestTask]):
    """Request tasks of `pull` and `http` connectors (never manual ones)."""

    model = RequestTask
    related = ("request", "connector")
    noun = "task"
    # Agents are offered the jobs of requests in progress only.
    listed = Q(request__status=RequestStatus.IN_PROGRESS)

    def rows(self) -> QuerySet[RequestTask]:
        return RequestTask.objects.filter(manual=False)

    def check_claim(self, task: RequestTask) -> None:
        # A closed request takes no more work, though its task still waits.
        if not task.request.is_open:
            raise IllegalTransition(f"request {task.request.reference} is closed")

    def document(self, task: RequestTask) -> dict[str, Any]:
        return job_payload(
            Job(
                task_id=str(task.public_id),
                request_reference=task.request.reference,
                action=task.action,
                identity=subjects_identity(subject_ids=[task.request.subject_id]),
                changes=task.request.corrections or {},
            )
        )

    def action(self, task: RequestTask) -> str:
        return task.action

    def attempt_rows(self, task: RequestTask) -> Any:
        return task.tries

    def audit(
        self, actor: Actor, task: RequestTask, event: str, /, **data: Any
    ) -> None:
        audit_record(
            actor=actor,
            action=f"task.{event}",
            obj=task.request,
            data={"task": str(task.public_id), **data},
        )

    def succeed(
        self, task: RequestTask, result: ReportedResult, actor: Actor
    ) -> RequestTask:
        if task.action == Action.ACCESS:
            sink = JsonlSink(task)
            for record in result.records:
                sink.write(record)
            task.result_file = sink.save()
            task.result_digest = sink.digest.hexdigest()
        return task_complete(task=task, outcome=result.outcome, actor=actor)

    def fail(self, task: RequestTask, error: str, actor: Actor) -> RequestTask:
        return task_fail(task=task, error=error, actor=actor)

    def send_again(self, task: RequestTask, *, countdown: float) -> None:
        def send() -> None:
            from dsr.tasks import run_request_task_task

            run_request_task_task.apply_async(args=(task.pk,), countdown=countdown)

        transaction.on_commit(send)


request_task_jobs = RequestTaskJobs()
