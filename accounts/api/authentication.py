"""Bearer-token authentication for API clients, its schema, and the actor
the services see behind an authenticated API request."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.actors import Actor, actor_for_client
from accounts.models import ApiClient
from accounts.selectors import api_client_by_token_hash
from accounts.services import (
    API_CLIENT_CACHE_SECONDS,
    api_client_cache_key,
    api_client_touch,
    hash_token,
)

logger = logging.getLogger(__name__)


def _client_from_cache(token_hash: str) -> ApiClient | None:
    try:
        client = cache.get(api_client_cache_key(token_hash))
    except Exception as error:  # a cache outage falls back to the database
        logger.warning("api client cache read failed: %s", type(error).__name__)
        return None
    return client if isinstance(client, ApiClient) else None


def _client_to_cache(token_hash: str, client: ApiClient) -> None:
    try:
        cache.set(api_client_cache_key(token_hash), client, API_CLIENT_CACHE_SECONDS)
    except Exception as error:
        logger.warning("api client cache write failed: %s", type(error).__name__)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[None, ApiClient] | None:
        header = authentication.get_authorization_header(request).decode(
            errors="replace"
        )
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed(
                "Authorization header must be 'Bearer <token>'"
            )
        token_hash = hash_token(parts[1])
        # Clients are cached briefly (revoking forgets them at once), so a hot
        # endpoint such as the consent check runs no query for its caller.
        client = _client_from_cache(token_hash)
        if client is None:
            client = api_client_by_token_hash(token_hash=token_hash)
            if client is None:
                raise exceptions.AuthenticationFailed("invalid or revoked token")
            api_client_touch(client=client)
            _client_to_cache(token_hash, client)
        # The client is `request.auth`, not `request.user`: DRF copies the user
        # onto the Django request, where django-simple-history's middleware
        # would record a non-User as history_user and fail every history row.
        return None, client

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


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


def api_client_for_request(request: Request) -> ApiClient:
    """The API client that authenticated a request (`request.auth`)."""
    client = request.auth
    if not isinstance(client, ApiClient):
        raise exceptions.NotAuthenticated("a bearer token is required")
    return client


def client_actor(request: Request) -> Actor:
    """The API client behind a request, as the services see it."""
    return actor_for_client(api_client_for_request(request))
