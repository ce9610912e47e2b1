"""Bearer-token authentication for API clients."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiClient
from accounts.selectors import api_client_by_token_hash
from accounts.services import api_client_touch, hash_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, Any] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed(
                "Authorization header must be 'Bearer <token>'"
            )
        client = api_client_by_token_hash(token_hash=hash_token(parts[1]))
        if client is None:
            raise exceptions.AuthenticationFailed("invalid or revoked token")
        api_client_touch(client=client)
        return client, client

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
