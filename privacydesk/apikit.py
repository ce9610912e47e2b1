"""What every API app shares: the error body, its schema, path ids, parsing.

One place, so the requests, connectors, consent and retention APIs answer
errors the same way and document them the same way.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import QueryDict
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from accounts.actors import Actor, actor_for_client


class ErrorSerializer(serializers.Serializer):
    """Every 4xx body: a code, a sentence, and messages per field path."""

    error = serializers.CharField(help_text="Machine-readable code, e.g. `invalid`.")
    detail = serializers.CharField(help_text="What went wrong, for a human.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages keyed by field path, e.g. `identity.email`.",
    )


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents the API clients' bearer tokens in the schema."""

    target_class = "accounts.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Each operation names the scopes it needs.",
        }


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


def id_parameter(what: str, name: str = "id") -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.UUID, OpenApiParameter.PATH, description=f"The {what}'s id."
    )


def client_actor(request: Request) -> Actor:
    """The API client behind a request, as the services see it."""
    return actor_for_client(request.auth)


def parse(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    """Validate input with a serializer; errors become a 400 naming each field.

    In a query string, a parameter given without a value (`?kind=`) is a 400
    too: DRF would read it as absent, and the schema does not allow it."""
    serializer = serializer_class(data=data)
    if isinstance(data, QueryDict):
        blank = {
            name: ["give a value, or leave the parameter out"]
            for name in serializer.fields
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
