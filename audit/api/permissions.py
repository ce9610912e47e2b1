"""The API's scope check, with each client's first use of a scope audited.

accounts decides whether a token holds the scope an endpoint needs; accounts
sits below audit and records nothing, so the permission class the API uses
(settings.REST_FRAMEWORK) is this one, which adds the record."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from accounts.api.permissions import HasScope, required_scope
from accounts.models import ApiClient
from audit.accounts import api_client_scope_use_note


class HasScopeAudited(HasScope):
    def has_permission(self, request: Request, view: Any) -> bool:
        allowed = super().has_permission(request, view)
        scope = required_scope(view, request)
        if allowed and scope is not None and isinstance(request.auth, ApiClient):
            api_client_scope_use_note(client=request.auth, scope=scope)
        return allowed
