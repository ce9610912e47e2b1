"""Request tasks for pull agents and webhook callbacks: the views of
connectors.api.agent_views, with the request jobs' shapes and words.

Operation ids and paths are a contract: deployed agents are built on them.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_view

from connectors.api.agent_serializers import JobResultSerializer
from connectors.api.agent_views import (
    AgentQueue,
    AgentQueueViewSet,
    SignedCallback,
    SignedCallbackView,
)
from dsr.api import agent_serializers as s
from dsr.services.agent_jobs import request_task_jobs

TASK_ID = OpenApiParameter(
    "task_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The job's id."
)

REQUEST_JOBS = AgentQueue(
    jobs=request_task_jobs,
    job=s.JobSerializer,
    result=JobResultSerializer,
    state=s.TaskStateSerializer,
    job_id=TASK_ID,
    operation_prefix="agent_jobs",
    noun="job",
    plural="jobs",
    list_description=(
        "Waiting jobs of the token's connector that no agent holds (or whose "
        "lease expired), oldest first. Each carries the subject's identity: "
        "keep it in memory only."
    ),
    result_description=(
        "Only the lease holder may report. A retryable failure puts the job "
        "back in the list while attempts remain."
    ),
    e404="No such job for this token's connector.",
)


@extend_schema_view(**REQUEST_JOBS.schema())
class AgentJobViewSet(AgentQueueViewSet):
    """Jobs of the token's connector: list, claim, heartbeat, report."""

    queue = REQUEST_JOBS


REQUEST_TASK_CALLBACK = SignedCallback(
    jobs=request_task_jobs,
    result=s.CallbackResultSerializer,
    state=s.TaskStateSerializer,
    job_id=TASK_ID,
    operation_id="connector_callbacks_create",
    summary="Report a webhook job's result",
    description="A result for a task that already has one is refused with 409.",
    e404="No webhook task with this id.",
    e409="The task already has its result.",
)


@extend_schema_view(**REQUEST_TASK_CALLBACK.schema())
class ConnectorCallbackView(SignedCallbackView):
    """A webhook reports the result of a job it accepted with 202."""

    callback = REQUEST_TASK_CALLBACK
