"""Bearer tokens for the consent check, with the check's cache read folded in.

An AI agent asks the check on every turn. Token authentication reads the
API client from the cache; this class makes that read part of the MGET that
fetches the check's answer, so a cached check costs one Redis round trip in
all. It decides nothing itself: without a cached client, with an unusual
body or when the cache fails, the ordinary bearer-token authentication runs.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http.request import RawPostDataException
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication
from rest_framework.request import Request

from accounts.api.authentication import BearerTokenAuthentication
from accounts.models import ApiClient
from accounts.services import api_client_cache_key, hash_token
from consent.cache import Lookup
from consent.selectors import consent_check_lookup

PREFETCH_ATTRIBUTE = "consent_check_lookup"


def prefetched_lookup(request: Request) -> Lookup | None:
    return getattr(request._request, PREFETCH_ATTRIBUTE, None)


def _lookup_for(request: Request) -> Lookup | None:
    try:
        body = json.loads(request._request.body or b"null")
    except (ValueError, RawPostDataException, RequestDataTooBig):
        return None
    if not isinstance(body, dict) or body.keys() != {"identity", "purpose"}:
        return None
    return consent_check_lookup(identity=body["identity"], purpose=body["purpose"])


class ConsentCheckAuthentication(BearerTokenAuthentication):
    def authenticate(self, request: Request) -> tuple[None, ApiClient] | None:
        parts = authentication.get_authorization_header(request).split()
        lookup = _lookup_for(request) if len(parts) == 2 else None
        if lookup is None or parts[0] != self.keyword.encode():
            return super().authenticate(request)
        client_key = api_client_cache_key(hash_token(parts[1].decode(errors="replace")))
        lookup.fetch(extra=[client_key])
        setattr(request._request, PREFETCH_ATTRIBUTE, lookup)
        client = lookup.extra.get(client_key)
        if not isinstance(client, ApiClient):
            return super().authenticate(request)
        return None, client


class ConsentCheckTokenScheme(OpenApiAuthenticationExtension):
    """The schema's `bearerAuth`, which every other endpoint defines."""

    target_class = "consent.api.authentication.ConsentCheckAuthentication"
    name: list[str] = []  # define nothing: reuse the one scheme

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[Any]]:
        return {"bearerAuth": []}

    def get_security_definition(self, auto_schema: Any) -> list[Any]:
        return []
