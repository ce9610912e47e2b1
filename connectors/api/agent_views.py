"""The pull-agent API and the webhook callback: parse, call one service, render.

Agents authenticate with a bearer token bound to one connector (scope
`connectors:agent`); webhooks call back without a token, signed with their
connector's key instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request as HttpRequest
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import Scope
from connectors.api import agent_serializers as s
from connectors.jobs import (
    AgentJob,
    agent_job_claim,
    agent_job_heartbeat,
    agent_job_list,
    agent_job_report,
    webhook_callback_record,
)
from connectors.signing import (
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureRejected,
)
from connectors.wire import MAX_RESULT_BYTES
from privacydesk.apikit import error_responses


def _errors(*codes: int, **described: str) -> dict[int, OpenApiResponse]:
    return error_responses(
        *codes,
        **{
            "e403": "The token lacks the scope, or is not bound to a connector.",
            "e404": "No such job for this token's connector.",
            "e409": "The job is not in a state (or lease) that allows this.",
            "e413": f"The body is larger than {MAX_RESULT_BYTES} bytes.",
            **described,
        },
    )


TASK_ID = OpenApiParameter(
    "task_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The job's id."
)
AGENT_SCOPE = f"Needs an agent token (scope `{Scope.CONNECTORS_AGENT}`)."


def _job(job: AgentJob) -> dict[str, Any]:
    return {
        **job.document,
        "created_at": job.created_at,
        "lease_expires_at": job.lease_expires_at,
    }


class AgentJobViewSet(viewsets.GenericViewSet):
    """Jobs of the token's connector: list, claim, heartbeat, report."""

    parser_classes = [JSONParser]
    pagination_class = None
    lookup_url_kwarg = "task_id"
    lookup_value_regex = "[^/]+"
    required_scopes = {"*": Scope.CONNECTORS_AGENT}

    @extend_schema(
        operation_id="agent_jobs_list",
        summary="List jobs waiting for an agent",
        description=(
            f"{AGENT_SCOPE} Waiting jobs of the token's connector that no agent "
            "holds (or whose lease expired), oldest first. Each carries the "
            "subject's identity: keep it in memory only."
        ),
        parameters=[s.JobListQuerySerializer],
        responses={200: s.JobSerializer(many=True), **_errors(400, 401, 403)},
        tags=["agent"],
    )
    def list(self, request: HttpRequest) -> Response:
        query = s.JobListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        jobs = agent_job_list(client=request.auth, limit=query.validated_data["limit"])
        return Response(s.JobSerializer([_job(job) for job in jobs], many=True).data)

    @extend_schema(
        operation_id="agent_jobs_claim",
        summary="Claim a job",
        description=(
            f"{AGENT_SCOPE} Takes the job's lease (the connector's "
            "`lease_seconds`, 300 by default). Of two agents claiming at once, "
            "one gets the job and the other 409."
        ),
        parameters=[TASK_ID],
        request=None,
        responses={200: s.JobSerializer, **_errors(401, 403, 404, 409)},
        tags=["agent"],
    )
    @action(detail=True, methods=["post"])
    def claim(self, request: HttpRequest, task_id: str) -> Response:
        job = agent_job_claim(client=request.auth, public_id=task_id)
        return Response(s.JobSerializer(_job(job)).data)

    @extend_schema(
        operation_id="agent_jobs_heartbeat",
        summary="Extend a claimed job's lease",
        description=f"{AGENT_SCOPE} Only the lease holder may extend it.",
        parameters=[TASK_ID],
        request=None,
        responses={200: s.LeaseSerializer, **_errors(401, 403, 404, 409)},
        tags=["agent"],
    )
    @action(detail=True, methods=["post"])
    def heartbeat(self, request: HttpRequest, task_id: str) -> Response:
        task = agent_job_heartbeat(client=request.auth, public_id=task_id)
        return Response(s.LeaseSerializer(task).data)

    @extend_schema(
        operation_id="agent_jobs_result",
        summary="Report a claimed job's result",
        description=(
            f"{AGENT_SCOPE} Only the lease holder may report. A retryable "
            "failure puts the job back in the list while attempts remain."
        ),
        parameters=[TASK_ID],
        request=s.JobResultSerializer,
        responses={200: s.TaskStateSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["agent"],
    )
    @action(detail=True, methods=["post"])
    def result(self, request: HttpRequest, task_id: str) -> Response:
        task = agent_job_report(
            client=request.auth, public_id=task_id, data=request.data
        )
        return Response(s.TaskStateSerializer(task).data)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"the body is larger than {MAX_RESULT_BYTES} bytes"
    default_code = "too_large"


SIGNED_CALLBACK_HEADERS = [
    OpenApiParameter(
        TIMESTAMP_HEADER,
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        required=True,
        description="Unix seconds when the callback was signed.",
    ),
    OpenApiParameter(
        SIGNATURE_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="`sha256=<hex>`.",
    ),
]
SIGNED_CALLBACK_HOW = (
    "No bearer token: sign the raw body like the job was signed, "
    f"`{SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of "
    '"{timestamp}.{body}" keyed with the signing key>` and '
    f"`{TIMESTAMP_HEADER}: <unix seconds>`, within {MAX_SKEW_SECONDS} "
    "seconds of our clock."
)

T = TypeVar("T")


class SignedCallbackView(APIView):
    """A webhook reports a result, signed with its connector's key rather
    than a bearer token. Subclasses name the service that records it."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    parser_classes = [JSONParser]

    def get_authenticate_header(self, request: HttpRequest) -> str:
        return 'PrivacyDesk-Signature realm="connector-callbacks"'

    def signed(self, request: HttpRequest, record: Callable[..., T], **ids: str) -> T:
        """Call `record(timestamp=, signature=, body=, **ids)` with the exact
        bytes sent (the signature covers them, so they are read unparsed)."""
        stream = request.stream
        body = stream.read(MAX_RESULT_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_RESULT_BYTES:
            raise PayloadTooLarge()
        try:
            return record(
                timestamp=request.headers.get(TIMESTAMP_HEADER),
                signature=request.headers.get(SIGNATURE_HEADER),
                body=body,
                **ids,
            )
        except SignatureRejected as error:
            raise exceptions.AuthenticationFailed(error.message) from error


class ConnectorCallbackView(SignedCallbackView):
    """A webhook reports the result of a job it accepted with 202."""

    @extend_schema(
        operation_id="connector_callbacks_create",
        summary="Report a webhook job's result",
        description=(
            f"{SIGNED_CALLBACK_HOW} A result for a task that already has one "
            "is refused with 409."
        ),
        auth=[],
        parameters=[TASK_ID, *SIGNED_CALLBACK_HEADERS],
        request=s.CallbackResultSerializer,
        responses={
            200: s.TaskStateSerializer,
            **_errors(
                400,
                401,
                404,
                409,
                413,
                e401="The signature is missing, stale or does not match.",
                e404="No webhook task with this id.",
                e409="The task already has its result.",
            ),
        },
        tags=["connector-callbacks"],
    )
    def post(self, request: HttpRequest, task_id: str) -> Response:
        task = self.signed(request, webhook_callback_record, public_id=task_id)
        return Response(s.TaskStateSerializer(task).data)
