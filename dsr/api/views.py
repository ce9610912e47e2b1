"""The requests API: parse, call one service, serialize.

Who may do what is decided by the services through the Actor built from the
calling API client; `required_scopes` only turns away tokens early.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request as HttpRequest
from rest_framework.response import Response

from accounts.api.authentication import client_actor
from accounts.choices import Scope
from dsr.api import serializers as s
from dsr.choices import Channel
from dsr.models import Request
from dsr.selectors import request_get, request_list
from dsr.services.clock import request_extend, request_pause, request_resume
from dsr.services.intake import source_ip_hash
from dsr.services.package_reviews import access_package_release
from dsr.services.requests import (
    request_add_note,
    request_approve,
    request_cancel,
    request_close,
    request_create,
    request_reject,
    request_verify,
    requests_create_many,
)
from privacydesk.apikit import (
    StrictSerializer,
    error_responses,
    id_parameter,
    parse,
    public_uuid,
)

ID_PARAMETER = id_parameter("request")

ViewMethod = TypeVar("ViewMethod", bound=Callable[..., Any])


def _action_schema(
    *,
    name: str,
    summary: str,
    scope: str,
    body: type[StrictSerializer],
    response: Any = s.RequestDetailSerializer,
    code: int = 200,
) -> Callable[[ViewMethod], ViewMethod]:
    return extend_schema(
        operation_id=f"requests_{name}",
        summary=summary,
        description=(
            f"Needs the scopes `{scope}` and `{Scope.REQUESTS_READ}` "
            "(to look the request up)."
        ),
        parameters=[ID_PARAMETER],
        request=body,
        responses={code: response, **error_responses(400, 401, 403, 404, 409)},
        tags=["requests"],
    )


class RequestViewSet(viewsets.GenericViewSet[Request]):
    """Data-subject requests: record, list, follow and move them on."""

    parser_classes = [JSONParser]
    lookup_url_kwarg = "id"
    required_scopes = {
        "list": Scope.REQUESTS_READ,
        "retrieve": Scope.REQUESTS_READ,
        "create": Scope.REQUESTS_WRITE,
        "batch": Scope.REQUESTS_WRITE,
        "notes": Scope.REQUESTS_WRITE,
        "verify": Scope.REQUESTS_VERIFY,
        "approve": Scope.REQUESTS_MANAGE,
        "release_package": Scope.REQUESTS_MANAGE,
        "reject": Scope.REQUESTS_MANAGE,
        "extend": Scope.REQUESTS_MANAGE,
        "cancel": Scope.REQUESTS_MANAGE,
        "close": Scope.REQUESTS_MANAGE,
        "pause": Scope.REQUESTS_MANAGE,
        "resume": Scope.REQUESTS_MANAGE,
    }

    def _request(self) -> Request:
        """The request named in the URL, through the actor-scoped selector."""
        public_id = public_uuid(self.kwargs["id"], what="request")
        return request_get(actor=client_actor(self.request), public_id=public_id)

    def _done(self, request: Request, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.RequestDetailSerializer(request).data, status=code)

    @extend_schema(
        operation_id="requests_list",
        summary="List requests",
        description=f"Needs the scope `{Scope.REQUESTS_READ}`. Soonest due first.",
        parameters=[s.RequestFilterSerializer],
        responses={
            200: s.RequestSerializer(many=True),
            **error_responses(400, 401, 403),
        },
        tags=["requests"],
    )
    def list(self, request: HttpRequest) -> Response:
        filters = parse(s.RequestFilterSerializer, request.query_params)
        requests = request_list(
            actor=client_actor(request),
            status=filters.get("status"),
            kind=filters.get("kind"),
            regime=filters.get("regime"),
            due_within_days=filters.get("due_within"),
            overdue=filters.get("overdue", False),
            search=filters.get("search"),
        ).prefetch_related("pauses")
        page = self.paginate_queryset(requests)
        return self.get_paginated_response(s.RequestSerializer(page, many=True).data)

    @extend_schema(
        operation_id="requests_create",
        summary="Record a request",
        description=(
            f"Needs the scope `{Scope.REQUESTS_WRITE}`; setting `received_at` or "
            f'`"verified": true` also needs `{Scope.REQUESTS_VERIFY}`. The channel '
            "is always `api`. The response never echoes the identity, details or "
            "corrections."
        ),
        request=s.RequestCreateSerializer,
        responses={201: s.RequestDetailSerializer, **error_responses(400, 401, 403)},
        tags=["requests"],
    )
    def create(self, request: HttpRequest) -> Response:
        data = parse(s.RequestCreateSerializer, request.data)
        created = request_create(
            actor=client_actor(request),
            channel=Channel.API,
            prefetched=True,
            source_ip_hash=source_ip_hash(request.META.get("REMOTE_ADDR")),
            **data,
        )
        return self._done(created, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="requests_batch",
        summary="Record up to 100 requests at once",
        description=(
            f"For systems that forward many requests together. Needs the scope "
            f"`{Scope.REQUESTS_WRITE}`, and `{Scope.REQUESTS_VERIFY}` when any "
            'request sets `received_at` or `"verified": true`. Each item is '
            "what `POST /api/v1/requests/` takes. All or nothing: every item is "
            "checked first, and if any is invalid nothing is recorded and the 400 "
            "names each fault by its item, e.g. `requests[3].identity.email`. "
            "Otherwise all are recorded in one transaction and the answer lists "
            "them in the order sent, each as the single create answers it."
        ),
        request=s.RequestBatchSerializer,
        responses={
            201: s.RequestDetailSerializer(many=True),
            **error_responses(400, 401, 403),
        },
        tags=["requests"],
    )
    # Not paged: the answer is the list of what was just recorded.
    @action(detail=False, methods=["post"], pagination_class=None)
    def batch(self, request: HttpRequest) -> Response:
        data = parse(s.RequestBatchSerializer, request.data)
        created = requests_create_many(
            actor=client_actor(request),
            channel=Channel.API,
            items=data["requests"],
            prefetched=True,
            source_ip_hash=source_ip_hash(request.META.get("REMOTE_ADDR")),
        )
        return Response(
            s.RequestDetailSerializer(created, many=True).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="requests_retrieve",
        summary="Get a request, with the progress of the work in each store",
        description=(
            f"Needs the scope `{Scope.REQUESTS_READ}`. `progress` counts tasks "
            "and records so far; `tasks` has one entry per action in each "
            "connected store (status, attempts, counts, errors, exemptions), "
            "never the data found. Poll it while the request is in progress."
        ),
        parameters=[ID_PARAMETER],
        responses={200: s.RequestDetailSerializer, **error_responses(401, 403, 404)},
        tags=["requests"],
    )
    def retrieve(self, request: HttpRequest, **kwargs: str) -> Response:
        return self._done(self._request())

    @_action_schema(
        name="verify",
        summary="Verify the requester's identity",
        scope=Scope.REQUESTS_VERIFY,
        body=s.VerifySerializer,
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.VerifySerializer, request.data)
        return self._done(
            request_verify(
                actor=client_actor(request),
                request=self._request(),
                method=data["method"],
            )
        )

    @_action_schema(
        name="approve",
        summary="Approve a verified request (an officer's review)",
        scope=Scope.REQUESTS_MANAGE,
        body=s.ApproveSerializer,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.ApproveSerializer, request.data)
        return self._done(
            request_approve(
                actor=client_actor(request),
                request=self._request(),
                note=data["note"],
            )
        )

    @_action_schema(
        name="release_package",
        summary="Release a reviewed access package to the requester",
        scope=Scope.REQUESTS_MANAGE,
        body=s.ReleasePackageSerializer,
    )
    @action(detail=True, methods=["post"], url_path="release-package")
    def release_package(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.ReleasePackageSerializer, request.data)
        dsr = self._request()
        access_package_release(
            actor=client_actor(request), request=dsr, note=data["note"]
        )
        dsr.refresh_from_db()
        return self._done(dsr)

    @_action_schema(
        name="reject",
        summary="Reject a request",
        scope=Scope.REQUESTS_MANAGE,
        body=s.ReasonSerializer,
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.ReasonSerializer, request.data)
        return self._done(
            request_reject(
                actor=client_actor(request),
                request=self._request(),
                reason=data["reason"],
            )
        )

    @_action_schema(
        name="extend",
        summary="Extend the deadline (once, with reasons)",
        scope=Scope.REQUESTS_MANAGE,
        body=s.ReasonSerializer,
    )
    @action(detail=True, methods=["post"])
    def extend(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.ReasonSerializer, request.data)
        return self._done(
            request_extend(
                actor=client_actor(request),
                request=self._request(),
                reason=data["reason"],
            )
        )

    @_action_schema(
        name="cancel",
        summary="Cancel a request",
        scope=Scope.REQUESTS_MANAGE,
        body=s.OptionalReasonSerializer,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.OptionalReasonSerializer, request.data)
        return self._done(
            request_cancel(
                actor=client_actor(request),
                request=self._request(),
                reason=data["reason"],
            )
        )

    @_action_schema(
        name="close",
        summary="Close a request in progress with its outcome",
        scope=Scope.REQUESTS_MANAGE,
        body=s.CloseSerializer,
    )
    @action(detail=True, methods=["post"])
    def close(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.CloseSerializer, request.data)
        return self._done(
            request_close(
                actor=client_actor(request),
                request=self._request(),
                outcome=data["outcome"],
                note=data["note"],
            )
        )

    @_action_schema(
        name="pause",
        summary="Pause the clock while waiting for the requester",
        scope=Scope.REQUESTS_MANAGE,
        body=s.PauseSerializer,
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.PauseSerializer, request.data)
        return self._done(
            request_pause(
                actor=client_actor(request),
                request=self._request(),
                reason=data["reason"],
            )
        )

    @_action_schema(
        name="resume",
        summary="Resume a paused clock",
        scope=Scope.REQUESTS_MANAGE,
        body=s.EmptySerializer,
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: HttpRequest, **kwargs: str) -> Response:
        parse(s.EmptySerializer, request.data)
        return self._done(
            request_resume(actor=client_actor(request), request=self._request())
        )

    @_action_schema(
        name="notes",
        summary="Add a note",
        scope=Scope.REQUESTS_WRITE,
        body=s.NoteCreateSerializer,
        response=s.NoteSerializer,
        code=201,
    )
    @action(detail=True, methods=["post"])
    def notes(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.NoteCreateSerializer, request.data)
        note = request_add_note(
            actor=client_actor(request), request=self._request(), text=data["text"]
        )
        return Response(s.NoteSerializer(note).data, status=status.HTTP_201_CREATED)
