"""The API's scope check, with each client's first use of a scope audited.

accounts decides whether a token holds the scope an endpoint needs; accounts
sits below audit and records nothing, so the permission class the API uses
(settings.REST_FRAMEWORK) is this one. A scope counts as used when the call
succeeds: the permission marks a scope the client's row does not list yet,
and `ScopeUseMiddleware` records it once the answer is a success (a refused
call writes nothing, as every refusal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request

from accounts.api.permissions import HasScope, required_scope
from accounts.models import ApiClient
from audit.accounts import api_client_scope_use_note

_PENDING = "_audit_scope_first_use"


class HasScopeAudited(HasScope):
    def has_permission(self, request: Request, view: Any) -> bool:
        allowed = super().has_permission(request, view)
        client = request.auth
        scope = required_scope(view, request)
        if (
            allowed
            and scope is not None
            and isinstance(client, ApiClient)
            and scope not in client.scopes_used
        ):
            setattr(request._request, _PENDING, (client, scope))
        return allowed


class ScopeUseMiddleware:
    """Records a scope's first use after the call that used it succeeded."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        pending = getattr(request, _PENDING, None)
        if pending is not None and 200 <= response.status_code < 400:
            client, scope = pending
            api_client_scope_use_note(client=client, scope=scope)
        return response
