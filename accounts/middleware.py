"""The staff gate on the dashboard and Django's admin.

Runs after authentication and django-otp's middleware. For a signed-in
person on a staff page it ends a session that "log out everywhere" ended,
then asks for the second factor (when an app is enrolled) or sends them to
enrol (when their role requires one and they have none) before anything
else. The API (bearer tokens) and the portal have no staff session and are
never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.mfa import mfa_enabled, mfa_required
from accounts.security import session_is_current

STAFF_NAMESPACES = frozenset({"dashboard", "admin"})


class StaffSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or not STAFF_NAMESPACES & set(match.namespaces):
            return None
        user = request.user
        if not user.is_authenticated:
            return None
        if not session_is_current(user=user, session=request.session):
            logout(request)
            return redirect_to_login(request.get_full_path())
        if match.view_name in settings.STAFF_MFA_EXEMPT_VIEWS:
            return None
        is_verified = getattr(user, "is_verified", None)
        if is_verified is not None and is_verified():
            return None
        if mfa_enabled(user):
            return _to(settings.STAFF_MFA_VERIFY_URL, request)
        if mfa_required(user):
            return _to(settings.STAFF_MFA_ENROL_URL, request)
        return None


def _to(url_name: str, request: HttpRequest) -> HttpResponseRedirect:
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse(url_name)}?{query}")
