"""The pull-agent API and the webhook callbacks: parse, call one service, render.

Agents authenticate with a bearer token bound to one connector (scope
`connectors:agent`); webhooks call back without a token, signed with their
connector's key instead. Every kind of job (connectors.jobkit) is served by
the same two views, `AgentQueueViewSet` (list, claim, heartbeat, result)
and `SignedCallbackView`; a kind describes its service, its shapes and the
words of its schema in an `AgentQueue` and a `SignedCallback`. Request
tasks are described in dsr.api.agent_views, consent withdrawals in
consent.api.agent_views.
Operation ids and paths are a contract: deployed agents are built on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request as HttpRequest
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import api_client_for_request
from accounts.choices import Scope
from connectors.api import agent_serializers as s
from connectors.jobkit import AgentJob, LeasedJobs
from connectors.signing import (
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureRejected,
)
from connectors.wire import MAX_RESULT_BYTES
from privacydesk.apikit import error_responses

AGENT_SCOPE = f"Needs an agent token (scope `{Scope.CONNECTORS_AGENT}`)."
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


def _errors(*codes: int, **described: str) -> dict[int, OpenApiResponse]:
    return error_responses(
        *codes,
        **{
            "e403": "The token lacks the scope, or is not bound to a connector.",
            "e409": "The job is not in a state (or lease) that allows this.",
            "e413": f"The body is larger than {MAX_RESULT_BYTES} bytes.",
            **described,
        },
    )


def _job(job: AgentJob) -> dict[str, Any]:
    return {
        **job.document,
        "created_at": job.created_at,
        "lease_expires_at": job.lease_expires_at,
    }


# --- pull agents ------------------------------------------------------------------


@dataclass(frozen=True)
class AgentQueue:
    """One kind of job as its agents see it: the service, the shapes, and the
    words of the schema."""

    jobs: LeasedJobs[Any]
    job: type[serializers.Serializer[Any]]  # a listed or claimed job
    result: type[serializers.Serializer[Any]]  # what an agent posts (for the schema)
    state: type[serializers.Serializer[Any]]  # where the job stands after its result
    job_id: OpenApiParameter  # the `task_id` of the URLs
    operation_prefix: str  # "agent_jobs": agent_jobs_list, agent_jobs_claim, ...
    noun: str  # "job": "Claim a job"
    plural: str
    list_description: str
    result_description: str
    e404: str

    def schema(self) -> dict[str, Any]:
        """`extend_schema_view` arguments for the four operations."""
        claim_rules = (
            f"{AGENT_SCOPE} Takes the job's lease (the connector's "
            "`lease_seconds`, 300 by default). Of two agents claiming at once, "
            "one gets the job and the other 409."
        )

        def operation(verb: str, summary: str, **kwargs: Any) -> Any:
            return extend_schema(
                operation_id=f"{self.operation_prefix}_{verb}",
                summary=summary,
                tags=["agent"],
                **kwargs,
            )

        def errors(*codes: int) -> dict[int, OpenApiResponse]:
            return _errors(*codes, e404=self.e404)

        return {
            "list": operation(
                "list",
                f"List {self.plural} waiting for an agent",
                description=f"{AGENT_SCOPE} {self.list_description}",
                parameters=[s.JobListQuerySerializer],
                responses={200: self.job(many=True), **errors(400, 401, 403)},
            ),
            "claim": operation(
                "claim",
                f"Claim a {self.noun}",
                description=claim_rules,
                parameters=[self.job_id],
                request=None,
                responses={200: self.job, **errors(401, 403, 404, 409)},
            ),
            "heartbeat": operation(
                "heartbeat",
                f"Extend a claimed {self.noun}'s lease",
                description=f"{AGENT_SCOPE} Only the lease holder may extend it.",
                parameters=[self.job_id],
                request=None,
                responses={200: s.LeaseSerializer, **errors(401, 403, 404, 409)},
            ),
            "result": operation(
                "result",
                f"Report a claimed {self.noun}'s result",
                description=f"{AGENT_SCOPE} {self.result_description}",
                parameters=[self.job_id],
                request=self.result,
                responses={200: self.state, **errors(400, 401, 403, 404, 409)},
            ),
        }


class AgentQueueViewSet(viewsets.GenericViewSet[Any]):
    """The jobs of one kind for the token's connector: list, claim, heartbeat,
    report. A subclass names its `queue` and takes its schema from it."""

    queue: AgentQueue
    parser_classes = [JSONParser]
    pagination_class = None
    lookup_url_kwarg = "task_id"
    lookup_value_regex = "[^/]+"
    required_scopes = {"*": Scope.CONNECTORS_AGENT}

    def list(self, request: HttpRequest) -> Response:
        query = s.JobListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        jobs = self.queue.jobs.agent_list(
            client=api_client_for_request(request), limit=query.validated_data["limit"]
        )
        return Response(self.queue.job([_job(job) for job in jobs], many=True).data)

    @action(detail=True, methods=["post"])
    def claim(self, request: HttpRequest, task_id: str) -> Response:
        job = self.queue.jobs.agent_claim(
            client=api_client_for_request(request), public_id=task_id
        )
        return Response(self.queue.job(_job(job)).data)

    @action(detail=True, methods=["post"])
    def heartbeat(self, request: HttpRequest, task_id: str) -> Response:
        job = self.queue.jobs.agent_heartbeat(
            client=api_client_for_request(request), public_id=task_id
        )
        return Response(s.LeaseSerializer(job).data)

    @action(detail=True, methods=["post"])
    def result(self, request: HttpRequest, task_id: str) -> Response:
        job = self.queue.jobs.agent_report(
            client=api_client_for_request(request), public_id=task_id, data=request.data
        )
        return Response(self.queue.state(job).data)


# --- webhook callbacks ------------------------------------------------------------


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"the body is larger than {MAX_RESULT_BYTES} bytes"
    default_code = "too_large"


@dataclass(frozen=True)
class SignedCallback:
    """One kind of job's webhook callback: the service, the shapes, and the
    words of the schema."""

    jobs: LeasedJobs[Any]
    result: type[serializers.Serializer[Any]]  # what the webhook posts (for the schema)
    state: type[serializers.Serializer[Any]]  # where the job stands after its result
    job_id: OpenApiParameter  # named as in the URL
    operation_id: str
    summary: str
    description: str
    e404: str
    e409: str

    def schema(self) -> dict[str, Any]:
        """`extend_schema_view` arguments for the one operation."""
        return {
            "post": extend_schema(
                operation_id=self.operation_id,
                summary=self.summary,
                description=f"{SIGNED_CALLBACK_HOW} {self.description}",
                auth=[],
                parameters=[self.job_id, *SIGNED_CALLBACK_HEADERS],
                request=self.result,
                responses={
                    200: self.state,
                    **_errors(
                        400,
                        401,
                        404,
                        409,
                        413,
                        e401="The signature is missing, stale or does not match.",
                        e404=self.e404,
                        e409=self.e409,
                    ),
                },
                tags=["connector-callbacks"],
            )
        }


class SignedCallbackView(APIView):
    """A webhook reports a result, signed with its connector's key rather
    than a bearer token. A subclass names its `callback` and takes its schema
    from it."""

    callback: SignedCallback
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    parser_classes = [JSONParser]

    def get_authenticate_header(self, request: HttpRequest) -> str:
        return 'PrivacyDesk-Signature realm="connector-callbacks"'

    def post(self, request: HttpRequest, **ids: str) -> Response:
        # The signature covers the exact bytes sent, so they are read unparsed.
        stream = request.stream
        body = stream.read(MAX_RESULT_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_RESULT_BYTES:
            raise PayloadTooLarge()
        try:
            job = self.callback.jobs.callback_record(
                public_id=ids[self.callback.job_id.name],
                timestamp=request.headers.get(TIMESTAMP_HEADER),
                signature=request.headers.get(SIGNATURE_HEADER),
                body=body,
            )
        except SignatureRejected as error:
            raise exceptions.AuthenticationFailed(error.message) from error
        return Response(self.callback.state(job).data)
