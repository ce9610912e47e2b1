"""The masking API: parse, call one service or selector, serialize.

The identity travels in the body, never in a URL; nothing here logs the text.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.actors import Actor
from accounts.api.authentication import client_actor
from accounts.choices import Scope
from consent.api.authentication import (
    ConsentCheckAuthentication,
    Prefetched,
    prefetched_check,
)
from consent.api.fast_path import PrefetchedPostView
from consent.selectors import PreparedCheck
from masking.api import serializers as s
from masking.selectors import text_restore
from masking.services import masked_answer, text_mask
from privacydesk.apikit import JsonOnlyNegotiation, error_responses, parse

TAGS = ["masking"]
_REQUIRED = {"identity", "purpose", "conversation_id", "text"}
_OPTIONAL = {"name", "reversible"}


def _plain_mask_body(data: Any) -> TypeGuard[dict[str, Any]]:
    """The usual body, checked by hand: on this hot path the serializer costs
    a fifth of the masking. The service still checks every value (errors
    name the field); anything unusual goes through the serializer."""
    return (
        isinstance(data, dict)
        and _REQUIRED <= data.keys() <= _REQUIRED | _OPTIONAL
        and isinstance(data["identity"], dict)
        and isinstance(data["purpose"], str)
        and isinstance(data["conversation_id"], str)
        and isinstance(data["text"], str)
        and isinstance(data.get("reversible", False), bool)
        and isinstance(data.get("name", ""), str | None)
    )


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(
        *codes,
        e400="Invalid input; `errors` names each field path, e.g. `text` "
        "or `identity.email`; an unknown purpose names `purpose`.",
    )


class _MaskingApi(APIView):
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonOnlyNegotiation


class MaskingAuthentication(ConsentCheckAuthentication):
    """Bearer tokens, with the consent check's cache read (the redact body
    asks one) folded into the caller's: one Redis round trip for both."""

    def accepts(self, body: dict[str, Any]) -> bool:
        return _plain_mask_body(body)


def _masked(
    actor: Actor, data: dict[str, Any], prepared: PreparedCheck | None
) -> dict[str, Any]:
    """The answer to a redact body (checked already), on either path."""
    return masked_answer(
        text_mask(
            actor=actor,
            identity=data["identity"],
            purpose=data["purpose"],
            conversation_id=data["conversation_id"],
            text=data["text"],
            name=data.get("name"),
            reversible=data.get("reversible", False),
            prepared=prepared,
        )
    )


class RedactView(PrefetchedPostView, _MaskingApi):
    """The gateway's hot path: the usual call skips DRF (consent.api.fast_path)."""

    authentication_classes = [MaskingAuthentication]
    required_scopes = {"POST": Scope.MASKING_USE}
    fast_scope = Scope.MASKING_USE

    def fast_accepts(self, body: dict[str, Any]) -> bool:
        return _plain_mask_body(body)

    def fast_answer(self, actor: Actor, prefetched: Prefetched) -> Any:
        return _masked(actor, prefetched.body, prefetched.check)

    @extend_schema(
        operation_id="masking_redact",
        summary="Mask a customer's message before a model sees it",
        description=(
            f"Needs the scope `{Scope.MASKING_USE}`. Returns the text with PII "
            "(the customer's own identifiers, e-mails, phones, cards, IBANs, IPs, "
            "order numbers) replaced by tokens such as `<EMAIL_1>`, and the "
            "consent answer for the purpose in the same round trip. When the "
            "purpose is allowed, the same value gets the same token in every "
            "call of the conversation, and with `reversible: true` its value is "
            "kept, encrypted, for `/restore/`. When it is not allowed "
            "(`allowed: false`, with the `reason`), the masked text still comes "
            "back but nothing is kept: do not send it to a model."
        ),
        request=s.MaskInputSerializer,
        responses={200: s.MaskSerializer, **_errors(400, 401, 403)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        prefetched = prefetched_check(request)
        data = request.data if prefetched is None else prefetched.body
        if not _plain_mask_body(data):
            data = parse(s.MaskInputSerializer, data)
        prepared = None if prefetched is None else prefetched.check
        return Response(_masked(client_actor(request), data, prepared))


class RestoreView(_MaskingApi):
    required_scopes = {"POST": Scope.MASKING_USE}

    @extend_schema(
        operation_id="masking_restore",
        summary="Put the values back into a model's reply",
        description=(
            f"Needs the scope `{Scope.MASKING_USE}`. For display to the same "
            "customer: each token this customer's conversation kept reversibly "
            "becomes its value again. Other tokens (another conversation's, "
            "never kept, or deleted when the customer was erased) stay as they "
            "are and are counted in `unknown`."
        ),
        request=s.RestoreInputSerializer,
        responses={200: s.RestoredSerializer, **_errors(400, 401, 403)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = parse(s.RestoreInputSerializer, request.data)
        restored = text_restore(
            actor=client_actor(request),
            identity=data["identity"],
            conversation_id=data["conversation_id"],
            text=data["text"],
        )
        return Response(s.RestoredSerializer(restored).data)
