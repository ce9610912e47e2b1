"""The OpenDSR endpoints under /opendsr/v1/ (and OpenGDPR 1.0's names).

Each answer is JSON built here as bytes and signed over those exact bytes
(X-OpenDSR-Signature, and X-OpenGDPR-Signature for 1.0 callers); every
fault is the spec's error object (§7.6) naming the field, never a value.
A controller calls with its API client's bearer token holding the scope
`opendsr:submit` and reaches only the requests it sent.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request as HttpRequest
from rest_framework.views import APIView

from accounts.api.authentication import api_client_for_request
from accounts.choices import Scope
from connectors import opendsr_protocol as protocol
from connectors.kinds.opendsr import CallbackRefused
from opendsr.api import serializers as s
from opendsr.callbacks import signed_json
from opendsr.controller import UnknownTask, opendsr_callback_receive
from opendsr.inputs import HONOURED_FORMATS
from opendsr.keys import signing_identity
from opendsr.selectors import (
    controller_id,
    expected_completion_time,
    opendsr_request_get_for_client,
    opendsr_status_document,
    rfc3339,
)
from opendsr.services import opendsr_request_cancel, opendsr_request_submit
from privacydesk.errors import DomainError

logger = logging.getLogger(__name__)

TAG = ["opendsr"]
SIGNED_HEADERS = [
    OpenApiParameter(
        protocol.DOMAIN_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description="the domain our signing certificate is issued for",
    ),
    OpenApiParameter(
        protocol.SIGNATURE_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description="Base64 RSA PKCS#1 v1.5 SHA-256 signature of the body",
    ),
]


def _error_response(code: int, message: str, field: str | None) -> HttpResponse:
    detail: dict[str, Any] = {
        "domain": "Validation" if code == 400 else "Request",
        "reason": "invalid" if code == 400 else _REASONS.get(code, "error"),
        "message": f"{field}: {message}" if field else message,
    }
    if field:
        detail["location"] = field
    return signed_response(
        {"error": {"code": code, "message": detail["message"], "errors": [detail]}},
        status=code,
    )


_REASONS = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


def signed_response(document: dict[str, Any], *, status: int) -> HttpResponse:
    body, headers = signed_json(document)
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    if status >= 400:
        response["Cache-Control"] = "no-store"
    return response


def opendsr_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse:
    """Every fault as the §7.6 error object. A service's field faults are
    400 (the spec's one error status), whatever our API would answer."""
    if isinstance(exc, ImproperlyConfigured):
        # no key to sign with (production without its key files): said
        # plainly, unsigned, and logged for the operator
        logger.error("OpenDSR is not configured: %s", exc)
        message = "OpenDSR is not configured on this server"
        detail = {"domain": "Server", "reason": "not_configured", "message": message}
        return JsonResponse(
            {"error": {"code": 503, "message": message, "errors": [detail]}},
            status=503,
        )
    if isinstance(exc, DomainError):
        status = exc.status_code if exc.status_code in (403, 404) else 400
        return _error_response(status, exc.message, exc.field)
    if isinstance(exc, exceptions.APIException):
        response = _error_response(exc.status_code, str(exc.detail), None)
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
        return response
    raise exc


class OpenDsrView(APIView):
    """Signed JSON answers and the spec's error object."""

    required_scopes = {"*": Scope.OPENDSR_SUBMIT}

    def get_exception_handler(self) -> Callable[..., HttpResponse]:
        return opendsr_exception_handler


def processor_certificate_url() -> str:
    configured: str = settings.OPENDSR_CERTIFICATE_URL
    return configured or f"{settings.SITE_URL}{reverse('opendsr-certificate')}"


class DiscoveryView(OpenDsrView):
    """What we support (spec §6): public, as controllers read it first."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAG,
        summary="OpenDSR discovery",
        auth=[],
        responses={200: s.OpenDsrDiscoverySerializer},
        parameters=SIGNED_HEADERS,
    )
    def get(self, request: HttpRequest) -> HttpResponse:
        return signed_response(
            {
                "api_version": protocol.API_VERSION,
                "supported_identities": [
                    {"identity_type": kind, "identity_format": form}
                    for kind in protocol.IDENTITY_TYPES
                    for form in HONOURED_FORMATS
                ],
                "supported_subject_request_types": list(protocol.REQUEST_TYPES),
                "processor_certificate": processor_certificate_url(),
            },
            status=200,
        )


def certificate(request: Any) -> HttpResponse:
    """Our signing certificate, PEM (discovery's `processor_certificate`)."""
    return HttpResponse(
        signing_identity().certificate_pem, content_type="application/x-pem-file"
    )


_ERRORS = {
    400: OpenApiResponse(s.OpenDsrErrorSerializer, "a bad input, the field named"),
    401: OpenApiResponse(s.OpenDsrErrorSerializer, "no valid bearer token"),
    403: OpenApiResponse(s.OpenDsrErrorSerializer, "the token lacks opendsr:submit"),
    404: OpenApiResponse(s.OpenDsrErrorSerializer, "no such request of this caller"),
}


class RequestsView(OpenDsrView):
    @extend_schema(
        tags=TAG,
        summary="Submit an OpenDSR request",
        description=(
            "201 with the receipt (also for the same body sent again); "
            "raw identities only (see discovery)."
        ),
        request=s.OpenDsrRequestSerializer,
        responses={
            201: s.OpenDsrReceiptSerializer,
            400: _ERRORS[400],
            401: _ERRORS[401],
            403: _ERRORS[403],
        },
        parameters=SIGNED_HEADERS,
    )
    def post(self, request: HttpRequest) -> HttpResponse:
        body = request.body
        submission = opendsr_request_submit(
            client=api_client_for_request(request), body=body
        )
        item = submission.item
        return signed_response(
            {
                "controller_id": controller_id(item),
                "expected_completion_time": expected_completion_time(item),
                "received_time": rfc3339(item.received_time),
                # Spec §7.3: the controller's proof of what we confirmed.
                "encoded_request": base64.b64encode(body).decode("ascii"),
                "subject_request_id": str(item.subject_request_id),
            },
            status=201,
        )


ID = OpenApiParameter(
    "subject_request_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="the controller's UUID v4",
)


class RequestView(OpenDsrView):
    @extend_schema(
        tags=TAG,
        summary="Status of an OpenDSR request",
        parameters=[ID, *SIGNED_HEADERS],
        responses={
            200: s.OpenDsrStatusSerializer,
            401: _ERRORS[401],
            403: _ERRORS[403],
            404: _ERRORS[404],
        },
    )
    def get(self, request: HttpRequest, subject_request_id: str) -> HttpResponse:
        item = opendsr_request_get_for_client(
            client=api_client_for_request(request),
            subject_request_id=subject_request_id,
        )
        return signed_response(opendsr_status_document(item=item), status=200)

    @extend_schema(
        tags=TAG,
        summary="Cancel a pending OpenDSR request",
        parameters=[ID, *SIGNED_HEADERS],
        responses={
            202: s.OpenDsrCancellationSerializer,
            400: OpenApiResponse(s.OpenDsrErrorSerializer, "no longer pending"),
            401: _ERRORS[401],
            403: _ERRORS[403],
            404: _ERRORS[404],
        },
    )
    def delete(self, request: HttpRequest, subject_request_id: str) -> HttpResponse:
        client = api_client_for_request(request)
        item = opendsr_request_get_for_client(
            client=client, subject_request_id=subject_request_id
        )
        item = opendsr_request_cancel(client=client, item=item)
        received = item.cancel_received_time or item.updated_at
        return signed_response(
            {
                "controller_id": controller_id(item),
                "received_time": rfc3339(received),
                "subject_request_id": str(item.subject_request_id),
                "api_version": protocol.API_VERSION,
            },
            status=202,
        )


class CallbackView(APIView):
    """Where processors tell us of the requests our connectors sent them
    (spec §8.6-8.8). Not authenticated by a token: the signature is the
    proof, checked over the raw body against the connector's processor."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAG,
        summary="A processor's status callback (we are the controller)",
        request=s.OpenDsrCallbackSerializer,
        parameters=[
            OpenApiParameter("task_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
        ],
        responses={
            202: OpenApiResponse(description="taken"),
            400: OpenApiResponse(
                s.OpenDsrErrorSerializer, "bad signature, not JSON, not for us"
            ),
            401: OpenApiResponse(
                s.OpenDsrErrorSerializer, "domain not allowed or certificate unusable"
            ),
            404: OpenApiResponse(s.OpenDsrErrorSerializer, "no such task"),
        },
    )
    def post(self, request: HttpRequest, task_id: str) -> HttpResponse:
        try:
            opendsr_callback_receive(
                task_id=task_id, headers=request.headers, body=request.body
            )
        except UnknownTask:
            return _plain_error(404, "no such task")
        except CallbackRefused as refused:
            return _plain_error(refused.status, refused.message)
        return HttpResponse(status=202)


def _plain_error(code: int, message: str) -> HttpResponse:
    """An error object without our signature: we answer as a controller."""
    body = json.dumps(
        {
            "error": {
                "code": code,
                "message": message,
                "errors": [
                    {"domain": "Callback", "reason": "refused", "message": message}
                ],
            }
        }
    )
    return HttpResponse(body, status=code, content_type="application/json")
