"""Scope checks per endpoint: a view names the scope each method needs."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from accounts.models import ApiClient


def required_scope(view: Any, request: Request) -> str | None:
    scopes: dict[str, str] = getattr(view, "required_scopes", {})
    action = getattr(view, "action", None)
    if action and action in scopes:
        return scopes[action]
    return scopes.get(request.method or "", scopes.get("*"))


class HasScope(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        client = request.auth
        if not isinstance(client, ApiClient):
            raise exceptions.NotAuthenticated("a bearer token is required")
        scope = required_scope(view, request)
        if scope is None:
            # An endpoint that forgot to declare its scope is closed, not open.
            raise exceptions.PermissionDenied("this endpoint declares no scope")
        if scope not in client.scopes:
            raise exceptions.PermissionDenied(f"this token lacks the scope {scope}")
        return True
