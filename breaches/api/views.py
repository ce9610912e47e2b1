"""The breach register API: parse, call one service or selector, serialize."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request as HttpRequest
from rest_framework.response import Response

from accounts.api.authentication import client_actor
from accounts.choices import Scope
from breaches.api import serializers as s
from breaches.models import Breach
from breaches.selectors import breach_get, breach_list
from breaches.services.packs import breach_pack_generate
from breaches.services.register import (
    breach_create,
    breach_notify_authority,
    breach_update,
)
from evidence.api.views import PdfRenderer
from privacydesk.apikit import (
    FileView,
    error_responses,
    id_parameter,
    parse,
    public_uuid,
)

TAGS = ["breaches"]


class BreachViewSet(viewsets.GenericViewSet[Breach]):
    """The breach register (GDPR Art. 33(5)): every breach, notified or not."""

    parser_classes = [JSONParser]
    lookup_url_kwarg = "id"
    required_scopes = {
        "list": Scope.GOVERNANCE_READ,
        "retrieve": Scope.GOVERNANCE_READ,
        "create": Scope.GOVERNANCE_WRITE,
        "partial_update": Scope.GOVERNANCE_WRITE,
        "notify_authority": Scope.GOVERNANCE_WRITE,
    }

    def _breach(self, *, manage: bool = False) -> Breach:
        return breach_get(
            actor=client_actor(self.request),
            public_id=public_uuid(self.kwargs["id"], what="breach"),
            manage=manage,
        )

    @extend_schema(
        operation_id="breaches_list",
        summary="List the breach register",
        description=(
            f"Needs `{Scope.GOVERNANCE_READ}`. Newest awareness first, each with "
            "its 72-hour clock now."
        ),
        parameters=[s.BreachFilterSerializer],
        responses={
            200: s.BreachSerializer(many=True),
            **error_responses(400, 401, 403),
        },
        tags=TAGS,
    )
    def list(self, request: HttpRequest) -> Response:
        filters = parse(s.BreachFilterSerializer, request.query_params)
        breaches = breach_list(
            actor=client_actor(request), status=filters.get("status")
        )
        page = self.paginate_queryset(breaches)
        return self.get_paginated_response(s.BreachSerializer(page, many=True).data)

    @extend_schema(
        operation_id="breaches_create",
        summary="Record a breach",
        description=(
            f"Needs `{Scope.GOVERNANCE_WRITE}`. `title`, `aware_at` and "
            "`description` are required; the Art. 33(3) details may follow in "
            "phases. Audited."
        ),
        request=s.BreachCreateSerializer,
        responses={201: s.BreachSerializer, **error_responses(400, 401, 403)},
        tags=TAGS,
    )
    def create(self, request: HttpRequest) -> Response:
        data = parse(s.BreachCreateSerializer, request.data)
        breach = breach_create(actor=client_actor(request), **data)
        return Response(s.BreachSerializer(breach).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="breaches_retrieve",
        summary="Get a breach",
        description=f"Needs `{Scope.GOVERNANCE_READ}`.",
        parameters=[id_parameter("breach")],
        responses={200: s.BreachSerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def retrieve(self, request: HttpRequest, **kwargs: str) -> Response:
        return Response(s.BreachSerializer(self._breach()).data)

    @extend_schema(
        operation_id="breaches_partial_update",
        summary="Change a breach: facts, assessment, decisions",
        description=(
            f"Needs `{Scope.GOVERNANCE_WRITE}`. Only the keys sent change. Not "
            "notifying needs `risk`=none and `authority_decision_reasons`; an "
            "exception to telling the subjects needs `subjects_decision_reasons`. "
            "A closed breach answers 409."
        ),
        parameters=[id_parameter("breach")],
        request=s.BreachUpdateSerializer,
        responses={200: s.BreachSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=TAGS,
    )
    def partial_update(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.BreachUpdateSerializer, request.data)
        breach = breach_update(
            actor=client_actor(request), breach=self._breach(manage=True), **data
        )
        return Response(s.BreachSerializer(breach).data)

    @extend_schema(
        operation_id="breaches_notify_authority",
        summary="Record the notification to the supervisory authority",
        description=(
            f"Needs `{Scope.GOVERNANCE_WRITE}`. More than 72 hours after "
            "`aware_at`, `late_reason` is required (Art. 33(1)). Recorded once: "
            "a second call answers 409."
        ),
        parameters=[id_parameter("breach")],
        request=s.NotifyAuthoritySerializer,
        responses={200: s.BreachSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"], url_path="notify-authority")
    def notify_authority(self, request: HttpRequest, **kwargs: str) -> Response:
        data = parse(s.NotifyAuthoritySerializer, request.data)
        breach = breach_notify_authority(
            actor=client_actor(request), breach=self._breach(manage=True), **data
        )
        return Response(s.BreachSerializer(breach).data)


class BreachEvidencePackView(FileView):
    """The whole incident as an evidence pack, for the authority or an auditor."""

    renderer_classes = [JSONRenderer, PdfRenderer]
    required_scopes = {"GET": Scope.GOVERNANCE_READ}

    @extend_schema(
        operation_id="breaches_evidence_pdf",
        summary="Download the breach's evidence pack (PDF)",
        description=(
            f"Needs `{Scope.GOVERNANCE_READ}`. The record, the 72-hour clock, the "
            "decisions with their reasons, the notification, the subject notices "
            "(by pseudonym) and the audit events with their hashes, the same facts "
            "attached as evidence.json; made as of now, its SHA-256 recorded in "
            "the audit chain (`manage.py verify_evidence` checks it)."
        ),
        parameters=[id_parameter("breach")],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.BINARY,
                description=(
                    "The evidence pack (application/pdf, PDF/A-3b). Header "
                    "X-Evidence-Pack-SHA256 is the file's SHA-256."
                ),
            ),
            **error_responses(400, 401, 403, 404),
        },
        tags=TAGS,
    )
    def get(self, request: HttpRequest, id: str) -> HttpResponse:
        actor = client_actor(request)
        breach = breach_get(actor=actor, public_id=public_uuid(id, what="breach"))
        result = breach_pack_generate(actor=actor, breach=breach)
        response = HttpResponse(result.content, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{result.pack.filename}"'
        )
        response["Content-Length"] = str(len(result.content))
        response["X-Evidence-Pack-SHA256"] = result.pack.sha256
        response["Cache-Control"] = "no-store"
        return response
