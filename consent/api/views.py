"""The consent API: parse, call one service or selector, serialize.

Identity always travels in the body, never in a URL. Who may do what is
decided by the services through the Actor built from the API client;
`required_scopes` only turns tokens away early.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.actors import Actor
from accounts.api.authentication import client_actor
from accounts.choices import Scope
from consent.api import serializers as s
from consent.api.authentication import (
    ConsentCheckAuthentication,
    Prefetched,
    prefetched_check,
)
from consent.api.fast_path import PrefetchedPostView
from consent.receipts import consent_receipt
from consent.selectors import (
    PreparedCheck,
    consent_check,
    consent_history,
    consent_states,
    consent_subject_get,
    gpc_support_resource,
    policy_versions_current,
    purpose_list,
)
from consent.services.intake import consent_events_record, consent_gpc_record
from privacydesk.apikit import error_responses, parse

TAGS = ["consent"]
_DESCRIBED = {
    400: "Invalid input; `errors` names each field path, e.g. `events[3].purpose`.",
    401: "Missing, malformed or revoked bearer token.",
    403: "The token lacks the scope this endpoint needs.",
    404: "No subject with this id.",
    409: "The idempotency key was used for a different event.",
}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(
        *codes, **{f"e{code}": text for code, text in _DESCRIBED.items()}
    )


def _client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _plain_check_body(data: Any) -> TypeGuard[dict[str, Any]]:
    """The usual check body, checked by hand: the serializer costs more than
    the cached answer. The service still validates identity and purpose."""
    return (
        isinstance(data, dict)
        and data.keys() == {"identity", "purpose"}
        and isinstance(data["identity"], dict)
        and isinstance(data["purpose"], str)
        and len(data["purpose"]) <= 50
    )


class _ConsentApi(APIView):
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]


class ConsentEventsView(_ConsentApi):
    required_scopes = {"POST": Scope.CONSENT_WRITE}

    @extend_schema(
        operation_id="consent_events_record",
        summary="Record consent grants or withdrawals",
        description=(
            f"Needs the scope `{Scope.CONSENT_WRITE}`. Send one event, or "
            '`{"events": [...]}` (all or nothing: one invalid event and none is '
            "recorded). Events are never changed or deleted; a withdrawal takes "
            "effect in the check at once. A repeated `idempotency_key` returns the "
            "event recorded first, with 200, and records nothing. The calling IP "
            "is kept only as a keyed hash."
        ),
        request=PolymorphicProxySerializer(
            component_name="ConsentEventsInput",
            serializers=[
                s.ConsentEventInputSerializer,
                s.ConsentEventBatchInputSerializer,
            ],
            resource_type_field_name=None,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="ConsentEventsResult",
                serializers=[s.ConsentEventSerializer, s.ConsentEventBatchSerializer],
                resource_type_field_name=None,
            ),
            200: OpenApiResponse(
                description="Every event was a replay of an earlier call (same body)."
            ),
            **_errors(400, 401, 403, 409),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        items, batch = s.parse_events(request.data)
        recorded = consent_events_record(
            actor=client_actor(request),
            items=items,
            batch=batch,
            request_ip=_client_ip(request),
        )
        code = (
            status.HTTP_201_CREATED
            if any(r.created for r in recorded)
            else status.HTTP_200_OK
        )
        if batch:
            return Response(
                s.ConsentEventBatchSerializer({"events": recorded}).data, code
            )
        return Response(s.ConsentEventSerializer(recorded[0]).data, code)


def _checked(
    actor: Actor, data: dict[str, Any], prepared: PreparedCheck | None
) -> dict[str, Any]:
    """The answer to a check body (checked already), on either path."""
    return consent_check(
        actor=actor,
        identity=data["identity"],
        purpose=data["purpose"],
        prepared=prepared,
    )


class ConsentCheckView(PrefetchedPostView, _ConsentApi):
    """The usual call skips DRF (consent.api.fast_path): an agent asks on
    every turn."""

    authentication_classes = [ConsentCheckAuthentication]
    required_scopes = {"POST": Scope.CONSENT_CHECK}
    fast_scope = Scope.CONSENT_CHECK

    def fast_accepts(self, body: dict[str, Any]) -> bool:
        return _plain_check_body(body)

    def fast_answer(self, actor: Actor, prefetched: Prefetched) -> Any:
        return _checked(actor, prefetched.body, prefetched.check)

    @extend_schema(
        operation_id="consent_check",
        summary="May this purpose use this subject now?",
        description=(
            f"Needs the scope `{Scope.CONSENT_CHECK}`. Meant to be asked on every "
            "turn of a conversation: answered from a cache that every change "
            "invalidates at once. Unknown subjects get the purpose's default "
            "(`state: default`). The identity is in the body, never the URL."
        ),
        request=s.ConsentCheckInputSerializer,
        responses={200: s.ConsentCheckSerializer, **_errors(400, 401, 403)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        prefetched = prefetched_check(request)
        data = request.data if prefetched is None else prefetched.body
        if not _plain_check_body(data):
            # Anything unusual gets the serializer's checks and field errors.
            data = parse(s.ConsentCheckInputSerializer, data)
        prepared = None if prefetched is None else prefetched.check
        return Response(_checked(client_actor(request), data, prepared))


class ConsentPingView(_ConsentApi):
    required_scopes = {"GET": Scope.CONSENT_CHECK}

    @extend_schema(
        operation_id="consent_ping",
        summary="Is this token good for consent checks?",
        description=(
            f"Needs the scope `{Scope.CONSENT_CHECK}`. Answers `ok` and does "
            "nothing else: a health probe for integrations (and the baseline of "
            "the check benchmark)."
        ),
        responses={200: s.PingSerializer, **_errors(401, 403)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class ConsentGpcView(_ConsentApi):
    required_scopes = {"POST": Scope.CONSENT_WRITE}

    @extend_schema(
        operation_id="consent_gpc",
        summary="Honour a Global Privacy Control signal",
        description=(
            f"Needs the scope `{Scope.CONSENT_WRITE}`. Forward it when a "
            "subject's browser sends `Sec-GPC: 1`: every purpose that is a sale "
            "or sharing under CCPA is withdrawn (channel `gpc`), nothing else "
            "is asked. Purposes already withdrawn are left alone."
        ),
        request=s.ConsentGpcInputSerializer,
        responses={200: s.ConsentEventBatchSerializer, **_errors(400, 401, 403)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = parse(s.ConsentGpcInputSerializer, request.data)
        recorded = consent_gpc_record(
            actor=client_actor(request),
            identity=data["identity"],
            evidence=data.get("evidence"),
            request_ip=_client_ip(request),
        )
        return Response(s.ConsentEventBatchSerializer({"events": recorded}).data)


class PurposeListView(_ConsentApi):
    required_scopes = {"GET": Scope.CONSENT_READ}

    @extend_schema(
        operation_id="consent_purposes",
        summary="Purposes and the wording to show for each",
        description=(
            f"Needs the scope `{Scope.CONSENT_READ}`. Show `current_version.text` "
            "and send its `version` with the event, so the record proves what "
            "the subject read."
        ),
        responses={200: s.PurposeSerializer(many=True), **_errors(401, 403)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        purposes = list(purpose_list())
        current = policy_versions_current(purposes=purposes)
        return Response(
            s.PurposeSerializer(
                purposes, many=True, context={"current_versions": current}
            ).data
        )


ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The subject's id."
)


class SubjectConsentsView(_ConsentApi):
    required_scopes = {"GET": Scope.CONSENT_READ}

    @extend_schema(
        operation_id="subject_consents",
        summary="A subject's consents: current state and full history",
        description=(
            f"Needs the scope `{Scope.CONSENT_READ}`. Every purpose with its "
            "state, and every event newest first (events are never removed)."
        ),
        parameters=[ID_PARAMETER],
        responses={200: s.SubjectConsentsSerializer, **_errors(401, 403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, id: Any) -> Response:
        actor = client_actor(request)
        subject = consent_subject_get(actor=actor, public_id=id)
        return Response(
            s.SubjectConsentsSerializer(
                {
                    "subject": subject.public_id,
                    "consents": consent_states(actor=actor, subject=subject),
                    "events": consent_history(actor=actor, subject=subject),
                }
            ).data
        )


class SubjectConsentReceiptView(_ConsentApi):
    required_scopes = {"GET": Scope.CONSENT_READ}

    @extend_schema(
        operation_id="subject_consent_receipt",
        summary="A consent receipt (Kantara Consent Receipt v1.1 fields)",
        description=(
            f"Needs the scope `{Scope.CONSENT_READ}`. `version`, `jurisdiction`, "
            "`consentTimestamp`, `collectionMethod`, `consentReceiptID`, "
            "`piiPrincipalId` (the subject's pseudonymous id), `piiControllers`, "
            "`policyUrl`, `services[].purposes[]` (each with `policyVersion` and "
            "`policySha256` of the exact wording), `sensitive`, `spiCat`."
        ),
        parameters=[ID_PARAMETER],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The receipt."),
            **_errors(401, 403, 404),
        },
        tags=TAGS,
    )
    def get(self, request: Request, id: Any) -> Response:
        actor = client_actor(request)
        subject = consent_subject_get(actor=actor, public_id=id)
        return Response(consent_receipt(actor=actor, subject=subject))


@require_GET
def gpc_support(request: HttpRequest) -> JsonResponse:
    """/.well-known/gpc.json: this site honours Global Privacy Control."""
    return JsonResponse(gpc_support_resource())
