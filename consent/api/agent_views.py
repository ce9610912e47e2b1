"""Consent withdrawals for pull agents and webhook callbacks: parse, call one
service, render.

A sibling of the request jobs' `/agent/jobs/`, with the same verbs and
rules, so an agent works both queues with one loop; kept apart so an agent
built for request jobs never meets a job shape it does not know.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request as HttpRequest
from rest_framework.response import Response

from accounts.choices import Scope
from connectors.api.agent_serializers import JobListQuerySerializer, LeaseSerializer
from connectors.api.agent_views import (
    AGENT_SCOPE,
    SIGNED_CALLBACK_HEADERS,
    SIGNED_CALLBACK_HOW,
    SignedCallbackView,
)
from connectors.wire import MAX_RESULT_BYTES
from consent.api import agent_serializers as s
from consent.services.jobs import (
    AgentWithdrawal,
    propagation_agent_claim,
    propagation_agent_heartbeat,
    propagation_agent_list,
    propagation_agent_report,
    propagation_callback_record,
)
from privacydesk.apikit import error_responses


def _errors(*codes: int, **described: str) -> dict[int, OpenApiResponse]:
    return error_responses(
        *codes,
        **{
            "e403": "The token lacks the scope, or is not bound to a connector.",
            "e404": "No such withdrawal job for this token's connector.",
            "e409": "The job is not in a state (or lease) that allows this.",
            "e413": f"The body is larger than {MAX_RESULT_BYTES} bytes.",
            **described,
        },
    )


JOB_ID = OpenApiParameter(
    "task_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The withdrawal job's id (`task_id` in the job).",
)


def _job(job: AgentWithdrawal) -> dict[str, Any]:
    return {
        **job.document,
        "created_at": job.created_at,
        "lease_expires_at": job.lease_expires_at,
    }


class ConsentAgentJobViewSet(viewsets.GenericViewSet):
    """Consent withdrawals of the token's connector: list, claim, heartbeat,
    report."""

    parser_classes = [JSONParser]
    pagination_class = None
    lookup_url_kwarg = "task_id"
    lookup_value_regex = "[^/]+"
    required_scopes = {"*": Scope.CONNECTORS_AGENT}

    @extend_schema(
        operation_id="agent_consent_jobs_list",
        summary="List consent withdrawals waiting for an agent",
        description=(
            f"{AGENT_SCOPE} A subject withdrew consent for a purpose this "
            "connector honours: stop using their data for it (set an opt-out "
            "flag, delete training copies, as `instructions` says). Waiting "
            "jobs no agent holds (or whose lease expired), oldest first. The "
            "verbs and rules are those of `/api/v1/agent/jobs/`. Each job "
            "carries the subject's identity: keep it in memory only."
        ),
        parameters=[JobListQuerySerializer],
        responses={200: s.ConsentJobSerializer(many=True), **_errors(400, 401, 403)},
        tags=["agent"],
    )
    def list(self, request: HttpRequest) -> Response:
        query = JobListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        jobs = propagation_agent_list(
            client=request.auth, limit=query.validated_data["limit"]
        )
        return Response(
            s.ConsentJobSerializer([_job(job) for job in jobs], many=True).data
        )

    @extend_schema(
        operation_id="agent_consent_jobs_claim",
        summary="Claim a consent withdrawal",
        description=(
            f"{AGENT_SCOPE} Takes the job's lease (the connector's "
            "`lease_seconds`, 300 by default). Of two agents claiming at once, "
            "one gets the job and the other 409."
        ),
        parameters=[JOB_ID],
        request=None,
        responses={200: s.ConsentJobSerializer, **_errors(401, 403, 404, 409)},
        tags=["agent"],
    )
    @action(detail=True, methods=["post"])
    def claim(self, request: HttpRequest, task_id: str) -> Response:
        job = propagation_agent_claim(client=request.auth, public_id=task_id)
        return Response(s.ConsentJobSerializer(_job(job)).data)

    @extend_schema(
        operation_id="agent_consent_jobs_heartbeat",
        summary="Extend a claimed consent withdrawal's lease",
        description=f"{AGENT_SCOPE} Only the lease holder may extend it.",
        parameters=[JOB_ID],
        request=None,
        responses={200: LeaseSerializer, **_errors(401, 403, 404, 409)},
        tags=["agent"],
    )
    @action(detail=True, methods=["post"])
    def heartbeat(self, request: HttpRequest, task_id: str) -> Response:
        propagation = propagation_agent_heartbeat(
            client=request.auth, public_id=task_id
        )
        return Response(LeaseSerializer(propagation).data)

    @extend_schema(
        operation_id="agent_consent_jobs_result",
        summary="Report a claimed consent withdrawal's result",
        description=(
            f"{AGENT_SCOPE} Only the lease holder may report. A retryable "
            "failure puts the job back in the list while attempts remain; "
            "`exemptions` and `records` are refused."
        ),
        parameters=[JOB_ID],
        request=s.ConsentJobResultSerializer,
        responses={
            200: s.ConsentJobStateSerializer,
            **_errors(400, 401, 403, 404, 409),
        },
        tags=["agent"],
    )
    @action(detail=True, methods=["post"])
    def result(self, request: HttpRequest, task_id: str) -> Response:
        propagation = propagation_agent_report(
            client=request.auth, public_id=task_id, data=request.data
        )
        return Response(s.ConsentJobStateSerializer(propagation).data)


class ConsentCallbackView(SignedCallbackView):
    """A webhook reports a consent withdrawal it accepted with 202."""

    @extend_schema(
        operation_id="connector_callbacks_consent_create",
        summary="Report a webhook's consent withdrawal result",
        description=(
            f"{SIGNED_CALLBACK_HOW} The job's `callback_url` points here. A "
            "result for a withdrawal that already has one is refused with 409."
        ),
        auth=[],
        parameters=[
            OpenApiParameter(
                "propagation_id",
                OpenApiTypes.UUID,
                OpenApiParameter.PATH,
                description="The withdrawal job's id (`task_id` in the job).",
            ),
            *SIGNED_CALLBACK_HEADERS,
        ],
        request=s.ConsentCallbackResultSerializer,
        responses={
            200: s.ConsentJobStateSerializer,
            **_errors(
                400,
                401,
                404,
                409,
                413,
                e401="The signature is missing, stale or does not match.",
                e404="No webhook withdrawal job with this id.",
                e409="The withdrawal already has its result.",
            ),
        },
        tags=["connector-callbacks"],
    )
    def post(self, request: HttpRequest, propagation_id: str) -> Response:
        propagation = self.signed(
            request, propagation_callback_record, public_id=propagation_id
        )
        return Response(s.ConsentJobStateSerializer(propagation).data)
