"""The connectors API: parse, call one service, serialize.

Secrets go in and never come out; who may do what is decided by the services
through the Actor built from the calling API client.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request as HttpRequest
from rest_framework.response import Response

from accounts.api.authentication import client_actor
from accounts.choices import Scope
from connectors.api import serializers as s
from connectors.models import Connector
from connectors.selectors import connector_get, connector_list
from connectors.services import (
    connector_check_health,
    connector_create,
    connector_delete,
    connector_update,
)
from privacydesk.apikit import (
    error_responses,
    id_parameter,
    parse,
    public_uuid,
)

TAGS = ["connectors"]


ID_PARAMETER = id_parameter("connector")


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(
        *codes,
        e400="Invalid input; `errors` names each field path, e.g. `config.folder`.",
        e404="No connector with this id.",
        e409="Requests, withdrawals, policies or holds refer to this connector, "
        "or a live agent token does.",
    )


class ConnectorViewSet(viewsets.GenericViewSet[Connector]):
    """The stores requests fan out to: list, add, change and test them."""

    parser_classes = [JSONParser]
    lookup_url_kwarg = "id"
    required_scopes = {
        "list": Scope.CONNECTORS_READ,
        "retrieve": Scope.CONNECTORS_READ,
        "create": Scope.CONNECTORS_WRITE,
        "partial_update": Scope.CONNECTORS_WRITE,
        "destroy": Scope.CONNECTORS_WRITE,
        "test": Scope.CONNECTORS_WRITE,
    }

    def _connector(self, *, manage: bool = False) -> Connector:
        """The connector named in the URL, through the actor-checked selector."""
        public_id = public_uuid(self.kwargs["id"], what="connector")
        return connector_get(
            actor=client_actor(self.request), public_id=public_id, manage=manage
        )

    @extend_schema(
        operation_id="connectors_list",
        summary="List connectors",
        description=f"Needs the scope `{Scope.CONNECTORS_READ}`. By name.",
        parameters=[s.ConnectorFilterSerializer],
        responses={200: s.ConnectorSerializer(many=True), **_errors(400, 401, 403)},
        tags=TAGS,
    )
    def list(self, request: HttpRequest) -> Response:
        filters = parse(s.ConnectorFilterSerializer, request.query_params)
        connectors = connector_list(
            actor=client_actor(request),
            kind=filters.get("kind"),
            enabled=filters.get("enabled"),
        )
        page = self.paginate_queryset(connectors)
        return self.get_paginated_response(s.ConnectorSerializer(page, many=True).data)

    @extend_schema(
        operation_id="connectors_create",
        summary="Add a connector",
        description=(
            f"Needs the scope `{Scope.CONNECTORS_WRITE}`. The config is checked by "
            "the kind; an error names the path inside it (`config.tables[2]."
            "identity`). Secrets are write-only."
        ),
        request=s.ConnectorCreateSerializer,
        responses={201: s.ConnectorSerializer, **_errors(400, 401, 403)},
        tags=TAGS,
    )
    def create(self, request: HttpRequest) -> Response:
        data = parse(s.ConnectorCreateSerializer, request.data)
        # The answer is rendered inside the transaction: a connector is
        # created with its 201, or not at all.
        with transaction.atomic():
            connector = connector_create(actor=client_actor(request), **data)
            body = s.ConnectorSerializer(connector).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="connectors_retrieve",
        summary="Get a connector",
        description=f"Needs the scope `{Scope.CONNECTORS_READ}`.",
        parameters=[ID_PARAMETER],
        responses={200: s.ConnectorSerializer, **_errors(401, 403, 404)},
        tags=TAGS,
    )
    def retrieve(self, request: HttpRequest, **kwargs: str) -> Response:
        return Response(s.ConnectorSerializer(self._connector()).data)

    @extend_schema(
        operation_id="connectors_partial_update",
        summary="Change a connector",
        description=(
            f"Needs the scope `{Scope.CONNECTORS_WRITE}`. Only the keys sent "
            "change; `secrets` merges (null removes a secret); the kind is fixed."
        ),
        parameters=[ID_PARAMETER],
        request=s.ConnectorUpdateSerializer,
        responses={200: s.ConnectorSerializer, **_errors(400, 401, 403, 404)},
        tags=TAGS,
    )
    def partial_update(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.ConnectorUpdateSerializer, request.data)
        with transaction.atomic():  # changed with its 200, or not at all
            connector = connector_update(
                actor=client_actor(request),
                connector=self._connector(manage=True),
                **data,
            )
            body = s.ConnectorSerializer(connector).data
        return Response(body)

    @extend_schema(
        operation_id="connectors_destroy",
        summary="Remove a connector",
        description=(
            f"Needs the scope `{Scope.CONNECTORS_WRITE}`. Only a connector nothing "
            "refers to yet (one added by mistake): once requests, withdrawals, "
            "retention policies or legal holds refer to it, it is part of their "
            "record, and the answer is `409`; disable it instead. A live pull-agent "
            "token is revoked first (`409` until then); revoked tokens and consent "
            "links go with it."
        ),
        parameters=[ID_PARAMETER],
        request=None,
        responses={204: None, **_errors(401, 403, 404, 409)},
        tags=TAGS,
    )
    def destroy(self, request: HttpRequest, **kwargs: str) -> Response:
        connector_delete(
            actor=client_actor(request), connector=self._connector(manage=True)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="connectors_test",
        summary="Check a connector's health",
        description=(
            f"Needs the scope `{Scope.CONNECTORS_WRITE}`. Asks the store now and "
            "records the answer; a failing store is `200` with `health: error`."
        ),
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: s.HealthCheckSerializer, **_errors(401, 403, 404)},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def test(self, request: HttpRequest, **kwargs: str) -> Response:
        connector = connector_check_health(
            actor=client_actor(request), connector=self._connector(manage=True)
        )
        return Response(s.HealthCheckSerializer(connector).data)
