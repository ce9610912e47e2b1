"""The API kit every app's REST API is built from.

Errors: the exception handler that renders every error as JSON naming its
field path, the error body's serializer and its schema entries. Inputs:
strict serializers that refuse unknown keys, aware datetimes, the identity
field, parsing, path ids. One place, so the requests, connectors, consent,
retention and evidence APIs answer and document the same way.

Foundation layer: it knows DRF and drf-spectacular, never an app (the API
client behind a request is read in accounts.api.authentication).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from privacydesk.errors import DomainError, ValidationFailed
from privacydesk.jsontypes import json_type_errors

# --- Errors -------------------------------------------------------------------


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error is JSON that names its field."""
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"error": exc.code, "detail": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        return Response(body, status=exc.status_code)
    if isinstance(exc, ObjectDoesNotExist):
        return Response(
            {"error": "not_found", "detail": "not found"},
            status=status.HTTP_404_NOT_FOUND,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        code = getattr(data["detail"], "code", "error")
        response.data = {"error": code, "detail": str(data["detail"])}
    elif isinstance(data, dict | list):
        response.data = {
            "error": "invalid",
            "detail": "invalid input",
            "errors": error_paths(data),
        }
    return response


def error_paths(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as messages per field path, the one shape the
    schema documents: {"identity": {"email": [...]}} -> {"identity.email": [...]},
    a list of objects -> `items[2].name`."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            if isinstance(key, int):  # a list's items, keyed by position
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(error_paths(value, path))
        return flat
    if isinstance(errors, list) and any(isinstance(e, dict | list) for e in errors):
        flat = {}
        for index, value in enumerate(errors):
            flat.update(error_paths(value, f"{prefix}[{index}]"))
        return flat
    messages = errors if isinstance(errors, list) else [errors]
    return (
        {prefix or "non_field_errors": [str(m) for m in messages]} if messages else {}
    )


class ErrorSerializer(serializers.Serializer):
    """Every 4xx body: a code, a sentence, and messages per field path."""

    error = serializers.CharField(help_text="Machine-readable code, e.g. `invalid`.")
    detail = serializers.CharField(help_text="What went wrong, for a human.")
    # The metaclass moves declared fields off the class, so the serializer's
    # `errors` property is untouched; the stubs cannot know that.
    errors = serializers.DictField(  # type: ignore[assignment]  # API name, see above
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages keyed by field path, e.g. `identity.email`.",
    )


ERROR_DESCRIPTIONS = {
    400: "Invalid input; `errors` names each field path.",
    401: "Missing, malformed or revoked bearer token.",
    403: "The token lacks a scope the action needs.",
    404: "No such object.",
    409: "The object's current state does not allow this action.",
    413: "The body is too large.",
}


def error_responses(*codes: int, **described: str) -> dict[int, OpenApiResponse]:
    """Schema entries for error answers; override a text with e.g. e404="..."."""
    texts = {
        **ERROR_DESCRIPTIONS,
        **{int(key.removeprefix("e")): text for key, text in described.items()},
    }
    return {
        code: OpenApiResponse(ErrorSerializer, description=texts[code])
        for code in codes
    }


class FileView(APIView):
    """A view answering with a file (PDF, CSV, JSON lines): its errors are
    JSON, whatever file type the client asked for. Its only query parameter
    is `format`; any other is a 400 naming it (a misspelt one is not
    silently ignored)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        unknown = sorted(set(request.query_params) - {"format"})
        if unknown:
            raise ValidationFailed("unknown parameter", field=unknown[0])
        if request.query_params.get("format") == "":  # DRF would read it as absent
            raise ValidationFailed(
                "give a value, or leave the parameter out", field="format"
            )

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response):  # an error: JSON, whatever was asked
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response


def id_parameter(what: str, name: str = "id") -> OpenApiParameter:
    """A path parameter holding an object's public UUID."""
    return OpenApiParameter(
        name, OpenApiTypes.UUID, OpenApiParameter.PATH, description=f"The {what}'s id."
    )


# --- Inputs -------------------------------------------------------------------


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses keys it does not declare, and, in a
    JSON body, values not of the type the schema documents."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        problems: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            problems = {
                str(name): ["unknown field"]
                for name in sorted(set(data) - set(self.fields), key=str)
            }
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            for name, field in self.fields.items():
                if name in data and not field.read_only:
                    typed = json_type_errors(field, data[name], name)
                    problems.update({path: [msg] for path, msg in typed.items()})
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if problems and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **problems}) from exc
            raise
        if problems:
            raise serializers.ValidationError(problems)
        return dict(value)


# --- Outputs ------------------------------------------------------------------


class OutputSerializer(serializers.Serializer):
    """A serializer for answers only, cheap to build. DRF deep-copies every
    declared field for each instance it builds (running each field's
    __init__ again): most of the CPU of rendering a request. An output
    field is only bound (name, parent) after that, so a shallow copy serves;
    nested serializers are still copied deeply."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            name: (
                copy.deepcopy(field)
                if isinstance(field, serializers.BaseSerializer)
                else copy.copy(field)
            )
            for name, field in self._declared_fields.items()
        }


class AwareDateTimeField(serializers.DateTimeField):
    """A datetime that must carry its time zone: a guessed zone moves deadlines."""

    default_error_messages = {"naive": "must include a time zone, e.g. Z or +01:00"}

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class IdentitySchemaSerializer(serializers.Serializer):
    """Documentation only: the service validates an identity's contents
    (subjects.claims.identity_claims; blank or null means absent)."""

    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    customer_ids = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        help_text='Customer ids per system, e.g. `{"crm": "C-1001"}`.',
    )

    class Meta:
        ref_name = "Identity"


@extend_schema_field(IdentitySchemaSerializer)
class IdentityField(serializers.JSONField):
    """Passed to the service as sent, so its errors carry `identity.*` paths."""


def parse(
    serializer_class: type[serializers.Serializer[Any]], data: Any
) -> dict[str, Any]:
    """Validate a JSON object with a serializer; errors become a 400 naming each
    field (a body that is not an object at all, under the empty path)."""
    if not isinstance(data, Mapping):
        raise serializers.ValidationError({"": ["must be an object"]})
    serializer = serializer_class(data=data)
    # In a query string, a parameter given without a value (`?kind=`) is a 400
    # too: DRF would read it as absent, and the schema does not allow it.
    if isinstance(data, QueryDict):
        blank = {
            name: ["give a value, or leave the parameter out"]
            for name in serializer.fields.keys()
            if name in data and data.get(name) == ""
        }
        if blank:
            raise serializers.ValidationError(blank)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def public_uuid(value: Any, *, what: str = "object") -> str:
    """A path id as a canonical UUID string; anything else is a 404."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise NotFound(f"no {what} with this id") from exc


# --- Content negotiation --------------------------------------------------------


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, for a view with one JSON renderer, without parsing
    the usual Accept headers: what DRF would choose for them (no Accept,
    `*/*` or `application/json`, no query string) is decided at once. Any
    other request is negotiated in full (and refused with 406 as before)."""

    PLAIN = frozenset({"", "*/*", "application/json"})

    def select_renderer(
        self, request: Any, renderers: Any, format_suffix: Any = None
    ) -> tuple[Any, str]:
        meta = request._request.META
        if (
            format_suffix is None
            and len(renderers) == 1
            and renderers[0].media_type == "application/json"
            and meta.get("HTTP_ACCEPT", "") in self.PLAIN
            and not meta.get("QUERY_STRING")
        ):
            return renderers[0], renderers[0].media_type
        result: tuple[Any, str] = super().select_renderer(
            request, renderers, format_suffix
        )
        return result
