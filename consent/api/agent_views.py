"""Consent withdrawals for pull agents and webhook callbacks: the views of
connectors.api.agent_views, with the consent shapes and words.

A sibling of the request jobs' `/agent/jobs/`, with the same verbs and
rules, so an agent works both queues with one loop; kept apart so an agent
built for request jobs never meets a job shape it does not know.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_view

from connectors.api.agent_views import (
    AgentQueue,
    AgentQueueViewSet,
    SignedCallback,
    SignedCallbackView,
)
from consent.api import agent_serializers as s
from consent.services.jobs import withdrawal_jobs


def _job_id(name: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        OpenApiTypes.UUID,
        OpenApiParameter.PATH,
        description="The withdrawal job's id (`task_id` in the job).",
    )


CONSENT_JOBS = AgentQueue(
    jobs=withdrawal_jobs,
    job=s.ConsentJobSerializer,
    result=s.ConsentJobResultSerializer,
    state=s.ConsentJobStateSerializer,
    job_id=_job_id("task_id"),
    operation_prefix="agent_consent_jobs",
    noun="consent withdrawal",
    plural="consent withdrawals",
    list_description=(
        "A subject withdrew consent for a purpose this connector honours: stop "
        "using their data for it (set an opt-out flag, delete training copies, "
        "as `instructions` says). Waiting jobs no agent holds (or whose lease "
        "expired), oldest first. The verbs and rules are those of "
        "`/api/v1/agent/jobs/`. Each job carries the subject's identity: keep "
        "it in memory only."
    ),
    result_description=(
        "Only the lease holder may report. A retryable failure puts the job "
        "back in the list while attempts remain; `exemptions` and `records` "
        "are refused."
    ),
    e404="No such withdrawal job for this token's connector.",
)


@extend_schema_view(**CONSENT_JOBS.schema())
class ConsentAgentJobViewSet(AgentQueueViewSet):
    """Consent withdrawals of the token's connector: list, claim, heartbeat,
    report."""

    queue = CONSENT_JOBS


CONSENT_CALLBACK = SignedCallback(
    jobs=withdrawal_jobs,
    result=s.ConsentCallbackResultSerializer,
    state=s.ConsentJobStateSerializer,
    job_id=_job_id("propagation_id"),
    operation_id="connector_callbacks_consent_create",
    summary="Report a webhook's consent withdrawal result",
    description=(
        "The job's `callback_url` points here. A result for a withdrawal that "
        "already has one is refused with 409."
    ),
    e404="No webhook withdrawal job with this id.",
    e409="The withdrawal already has its result.",
)


@extend_schema_view(**CONSENT_CALLBACK.schema())
class ConsentCallbackView(SignedCallbackView):
    """A webhook reports a consent withdrawal it accepted with 202."""

    callback = CONSENT_CALLBACK
