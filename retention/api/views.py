"""The retention API: parse, call one service or selector, serialize."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request as HttpRequest
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.api.authentication import client_actor
from accounts.choices import Scope
from connectors.models import Connector
from dsr.models import LegalHold, Request
from privacydesk.apikit import (
    error_responses,
    id_parameter,
    parse,
    public_uuid,
)
from privacydesk.errors import ValidationFailed
from retention.api import serializers as s
from retention.models import PurgeRun, RetentionPolicy
from retention.selectors import (
    hold_get,
    hold_list,
    hold_subject_of_request,
    policy_connector_get,
    policy_get,
    policy_last_runs,
    policy_list,
    run_get,
    run_list,
)
from retention.services.confirmations import policy_confirmation
from retention.services.holds import (
    hold_subject_for_identity,
    legal_hold_place,
    legal_hold_release,
)
from retention.services.policies import (
    retention_builtin_ensure,
    retention_policy_create,
    retention_policy_update,
)
from retention.services.runs import purge_run_enqueue
from subjects.models import DataSubject

TAGS = ["retention"]


def _connector(actor: Actor, public_id: Any) -> Connector:
    try:
        return policy_connector_get(actor=actor, public_id=str(public_id))
    except Connector.DoesNotExist as exc:
        raise ValidationFailed("no connector with this id", field="connector") from exc


class PolicyViewSet(viewsets.GenericViewSet):
    """Retention policies: how long each table may keep rows."""

    parser_classes = [JSONParser]
    lookup_url_kwarg = "id"
    required_scopes = {
        "list": Scope.RETENTION_READ,
        "retrieve": Scope.RETENTION_READ,
        "create": Scope.RETENTION_WRITE,
        "partial_update": Scope.RETENTION_WRITE,
        "run": Scope.RETENTION_WRITE,
    }

    def _policy(self, *, manage: bool = False) -> RetentionPolicy:
        return policy_get(
            actor=client_actor(self.request),
            public_id=public_uuid(self.kwargs["id"], what="policy"),
            manage=manage,
        )

    def _out(self, policies: list[RetentionPolicy]) -> dict[str, Any]:
        return {
            "last_runs": policy_last_runs(policies=policies),
            "confirmations": {
                policy.pk: policy_confirmation(policy=policy) for policy in policies
            },
        }

    @extend_schema(
        operation_id="retention_policies_list",
        summary="List retention policies",
        description=f"Needs `{Scope.RETENTION_READ}`. The built-in policy first.",
        responses={
            200: s.PolicySerializer(many=True),
            **error_responses(400, 401, 403),
        },
        tags=TAGS,
    )
    def list(self, request: HttpRequest) -> Response:
        policies = policy_list(actor=client_actor(request))
        retention_builtin_ensure()
        page = list(self.paginate_queryset(policies) or [])
        data = s.PolicySerializer(page, many=True, context=self._out(page)).data
        return self.get_paginated_response(data)

    @extend_schema(
        operation_id="retention_policies_create",
        summary="Add a retention policy",
        description=(
            f"Needs `{Scope.RETENTION_WRITE}`. The connector must be able to purge "
            "(kind `sql`) and map the table. Versioned and audited."
        ),
        request=s.PolicyCreateSerializer,
        responses={201: s.PolicySerializer, **error_responses(400, 401, 403)},
        tags=TAGS,
    )
    def create(self, request: HttpRequest) -> Response:
        actor = client_actor(request)
        data = parse(s.PolicyCreateSerializer, request.data)
        data["connector"] = _connector(actor, data["connector"])
        policy = retention_policy_create(actor=actor, **data)
        return Response(
            s.PolicySerializer(policy, context=self._out([policy])).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="retention_policies_retrieve",
        summary="Get a retention policy",
        description=f"Needs `{Scope.RETENTION_READ}`.",
        parameters=[id_parameter("policy")],
        responses={200: s.PolicySerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def retrieve(self, request: HttpRequest, **kwargs: str) -> Response:
        policy = self._policy()
        return Response(s.PolicySerializer(policy, context=self._out([policy])).data)

    @extend_schema(
        operation_id="retention_policies_partial_update",
        summary="Change a retention policy",
        description=(
            f"Needs `{Scope.RETENTION_WRITE}`. Only the keys sent change; the "
            "built-in policy takes only description, schedule, batch_size, enabled."
        ),
        parameters=[id_parameter("policy")],
        request=s.PolicyUpdateSerializer,
        responses={200: s.PolicySerializer, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def partial_update(self, request: HttpRequest, **kwargs: str) -> Response:
        actor = client_actor(request)
        data = parse(s.PolicyUpdateSerializer, request.data)
        if "connector" in data:
            data["connector"] = _connector(actor, data["connector"])
        policy = retention_policy_update(
            actor=actor, policy=self._policy(manage=True), **data
        )
        return Response(s.PolicySerializer(policy, context=self._out([policy])).data)

    @extend_schema(
        operation_id="retention_policies_run",
        summary="Run a policy now (or dry-run it)",
        description=(
            f"Needs `{Scope.RETENTION_WRITE}`. Queues the run on a worker; it "
            "appears under `/retention/runs/` when it starts. A dry run counts "
            "per table what a real run would change and changes nothing. A "
            "real run cannot be undone: it needs `confirm_dry_run` (the id in "
            "the policy's `confirmation`: a dry run of this policy version "
            "finished in the last 24 hours; a change to the policy since makes "
            "it stale) and `confirm: true`, else 400 naming the field."
        ),
        parameters=[id_parameter("policy")],
        request=s.RunRequestSerializer,
        responses={
            202: s.RunQueuedSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def run(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.RunRequestSerializer, request.data)
        policy = self._policy(manage=True)
        purge_run_enqueue(
            actor=client_actor(request),
            policy=policy,
            dry_run=data["dry_run"],
            confirm_dry_run=data["confirm_dry_run"],
            confirm=data["confirm"],
        )
        return Response(
            {
                "policy": str(policy.public_id),
                "dry_run": data["dry_run"],
                "status": "queued",
            },
            status=status.HTTP_202_ACCEPTED,
        )


class RunViewSet(viewsets.GenericViewSet):
    """Purge runs: what each run examined, changed and skipped, per table."""

    lookup_url_kwarg = "id"
    required_scopes = {
        "list": Scope.RETENTION_READ,
        "retrieve": Scope.RETENTION_READ,
    }

    @extend_schema(
        operation_id="retention_runs_list",
        summary="List purge runs",
        description=f"Needs `{Scope.RETENTION_READ}`. Newest first.",
        parameters=[s.RunFilterSerializer],
        responses={200: s.RunSerializer(many=True), **error_responses(400, 401, 403)},
        tags=TAGS,
    )
    def list(self, request: HttpRequest) -> Response:
        actor = client_actor(request)
        filters = parse(s.RunFilterSerializer, request.query_params)
        policy = None
        if filters.get("policy"):
            try:
                policy = policy_get(actor=actor, public_id=str(filters["policy"]))
            except RetentionPolicy.DoesNotExist as exc:
                raise ValidationFailed(
                    "no policy with this id", field="policy"
                ) from exc
        runs = run_list(
            actor=actor,
            policy=policy,
            status=filters.get("status"),
            dry_run=filters.get("dry_run"),
        )
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(s.RunSerializer(page, many=True).data)

    @extend_schema(
        operation_id="retention_runs_retrieve",
        summary="Get a purge run",
        description=f"Needs `{Scope.RETENTION_READ}`.",
        parameters=[id_parameter("run")],
        responses={200: s.RunSerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def retrieve(self, request: HttpRequest, **kwargs: str) -> Response:
        run: PurgeRun = run_get(
            actor=client_actor(request), public_id=public_uuid(kwargs["id"])
        )
        return Response(s.RunSerializer(run).data)


class HoldViewSet(viewsets.GenericViewSet):
    """Legal holds: data that no policy and no erasure may remove."""

    parser_classes = [JSONParser]
    lookup_url_kwarg = "id"
    required_scopes = {
        "list": Scope.RETENTION_READ,
        "retrieve": Scope.RETENTION_READ,
        "create": Scope.RETENTION_WRITE,
        "release": Scope.RETENTION_WRITE,
    }

    @extend_schema(
        operation_id="retention_holds_list",
        summary="List legal holds",
        description=f"Needs `{Scope.RETENTION_READ}`. Subjects by pseudonym only.",
        parameters=[s.HoldFilterSerializer],
        responses={200: s.HoldSerializer(many=True), **error_responses(400, 401, 403)},
        tags=TAGS,
    )
    def list(self, request: HttpRequest) -> Response:
        filters = parse(s.HoldFilterSerializer, request.query_params)
        holds = hold_list(actor=client_actor(request), active=filters.get("active"))
        page = self.paginate_queryset(holds)
        return self.get_paginated_response(s.HoldSerializer(page, many=True).data)

    @extend_schema(
        operation_id="retention_holds_create",
        summary="Place a legal hold",
        description=(
            f"Needs `{Scope.RETENTION_WRITE}`. A reason and a legal basis are "
            "required. scope=subject takes `subject_identity` or `request`; "
            "scope=connector takes `connector`; scope=table takes both "
            "`connector` and `table`."
        ),
        request=s.HoldCreateSerializer,
        responses={201: s.HoldSerializer, **error_responses(400, 401, 403)},
        tags=TAGS,
    )
    def create(self, request: HttpRequest) -> Response:
        actor = client_actor(request)
        data = parse(s.HoldCreateSerializer, request.data)
        subject: DataSubject | None = None
        connector: Connector | None = None
        if data["scope"] == "subject":
            subject = self._subject(actor, data)
        elif data.get("connector"):
            connector = _connector(actor, data["connector"])
        hold = legal_hold_place(
            actor=actor,
            scope=data["scope"],
            reason=data["reason"],
            legal_basis=data["legal_basis"],
            subject=subject,
            connector=connector,
            table=data.get("table", ""),
            starts_at=data.get("starts_at"),
            ends_at=data.get("ends_at"),
        )
        return Response(s.HoldSerializer(hold).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _subject(actor: Actor, data: dict[str, Any]) -> DataSubject:
        if data.get("request"):
            try:
                return hold_subject_of_request(
                    actor=actor, public_id=str(data["request"])
                )
            except Request.DoesNotExist as exc:
                raise ValidationFailed(
                    "no request with this id", field="request"
                ) from exc
        if data.get("subject_identity"):
            return hold_subject_for_identity(
                actor=actor, identity=dict(data["subject_identity"])
            )
        raise ValidationFailed(
            "give subject_identity or request", field="subject_identity"
        )

    @extend_schema(
        operation_id="retention_holds_retrieve",
        summary="Get a legal hold",
        description=f"Needs `{Scope.RETENTION_READ}`.",
        parameters=[id_parameter("hold")],
        responses={200: s.HoldSerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def retrieve(self, request: HttpRequest, **kwargs: str) -> Response:
        hold = hold_get(
            actor=client_actor(request), public_id=public_uuid(kwargs["id"])
        )
        return Response(s.HoldSerializer(hold).data)

    @extend_schema(
        operation_id="retention_holds_release",
        summary="Release a legal hold",
        description=f"Needs `{Scope.RETENTION_WRITE}`. The hold stays as evidence.",
        parameters=[id_parameter("hold")],
        request=s.HoldReleaseSerializer,
        responses={200: s.HoldSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def release(self, request: HttpRequest, **kwargs: str) -> Response:
        actor = client_actor(request)
        data = parse(s.HoldReleaseSerializer, request.data)
        hold: LegalHold = hold_get(
            actor=actor, public_id=public_uuid(kwargs["id"]), manage=True
        )
        hold = legal_hold_release(actor=actor, hold=hold, note=data["note"])
        return Response(s.HoldSerializer(hold).data)
