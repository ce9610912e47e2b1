"""Bearer tokens for the consent check, with the check's cache read folded in.

An AI agent asks the check on every turn. Token authentication reads the
API client from the cache; this class makes that read part of the round trip
that fetches the check's answer, so a cached check costs one Redis round trip
in all; the body it parsed for that serves the view too. It decides nothing
itself: without a cached client, with an unusual body or when the cache
fails, the ordinary bearer-token authentication runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.request import RawPostDataException
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.utils.json import strict_constant
from rest_framework.utils.mediatypes import media_type_matches

from accounts.api.authentication import BearerTokenAuthentication
from accounts.models import ApiClient
from accounts.services import api_client_cache_key, hash_token
from consent.selectors import PreparedCheck, consent_check_prepare

PREFETCH_ATTRIBUTE = "consent_check_prefetched"


@dataclass(frozen=True)
class Prefetched:
    """What authentication read for the check: the body, parsed exactly as
    DRF's JSONParser parses it, and the check it asks for, fetched."""

    body: dict[str, Any]
    check: PreparedCheck


def prefetched_check(request: Request) -> Prefetched | None:
    return getattr(request._request, PREFETCH_ATTRIBUTE, None)


def _json_body(request: HttpRequest) -> Any:
    """The body as the view's JSONParser would return it, or None.

    Parsing it here once spares the view DRF's parsing machinery (some 60 us
    a request, twenty times json.loads). It decodes with the declared charset
    and refuses NaN as DRF does; anything else unusual (another media type,
    bytes that do not decode) is left to DRF and its error answers.
    """
    meta = request.META  # the content type as DRF's Request reads it
    content_type = meta.get("CONTENT_TYPE", meta.get("HTTP_CONTENT_TYPE", ""))
    if not media_type_matches(JSONParser.media_type, content_type):
        return None
    encoding = request.encoding or settings.DEFAULT_CHARSET
    try:
        text = request.body.decode(encoding)
        strict = strict_constant if JSONParser.strict else None
        return json.loads(text, parse_constant=strict)
    except (ValueError, LookupError, RawPostDataException, RequestDataTooBig):
        return None


def _prefetch_for(
    request: HttpRequest, accepts: Callable[[dict[str, Any]], bool]
) -> Prefetched | None:
    body = _json_body(request)
    if not isinstance(body, dict) or not accepts(body):
        return None
    check = consent_check_prepare(identity=body["identity"], purpose=body["purpose"])
    return None if check is None else Prefetched(body, check)


def prefetch_with_caller(
    request: HttpRequest,
    accepts: Callable[[dict[str, Any]], bool],
    keyword: str = BearerTokenAuthentication.keyword,
) -> tuple[Prefetched, ApiClient | None] | None:
    """For a bearer-token request whose body `accepts` takes: the check it
    asks and the cached API client, in one Redis round trip (the client is
    None when not cached). None for any other request. The prefetched check
    is kept on the (Django) request for the view."""
    header = request.META.get("HTTP_AUTHORIZATION", b"")  # as DRF reads it
    if isinstance(header, str):
        header = header.encode(HTTP_HEADER_ENCODING)
    parts = header.split()
    if len(parts) != 2 or parts[0] != keyword.encode():
        return None
    prefetched = _prefetch_for(request, accepts)
    if prefetched is None:
        return None
    client_key = api_client_cache_key(hash_token(parts[1].decode(errors="replace")))
    # Tokens are created (before any database read, see consent.cache)
    # only for a caller whose client record is cached: a known token.
    lookup = prefetched.check.lookup.fetch(extra=[client_key], create_if=client_key)
    setattr(request, PREFETCH_ATTRIBUTE, prefetched)
    client = lookup.extra.get(client_key)
    return prefetched, client if isinstance(client, ApiClient) else None


class ConsentCheckAuthentication(BearerTokenAuthentication):
    """For an endpoint whose body asks a consent check (`identity`, `purpose`):
    the check's and the caller's cache reads in one round trip."""

    def accepts(self, body: dict[str, Any]) -> bool:
        """Whether this endpoint's body is the usual one, worth prefetching
        for (a subclass's endpoint may carry more than the check's fields)."""
        return body.keys() == {"identity", "purpose"}

    def authenticate(self, request: Request) -> tuple[None, ApiClient] | None:
        found = prefetch_with_caller(request._request, self.accepts, self.keyword)
        if found is None or found[1] is None:
            return super().authenticate(request)
        return None, found[1]


class ConsentCheckTokenScheme(OpenApiAuthenticationExtension):
    """The schema's `bearerAuth`, which every other endpoint defines."""

    target_class = "consent.api.authentication.ConsentCheckAuthentication"
    match_subclasses = True  # the masking gateway's too
    name: list[str] = []  # define nothing: reuse the one scheme

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[Any]]:
        return {"bearerAuth": []}

    def get_security_definition(self, auto_schema: Any) -> list[Any]:
        return []
