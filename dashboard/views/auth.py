"""Staff sign-in, its second step, sign-out and the lockout page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.actors import actor_for_user, staff_role
from accounts.mfa import mfa_enabled, mfa_required
from accounts.security import session_mark_signed_in
from audit.accounts import (
    staff_login_failed_record,
    staff_login_record,
    staff_logout_record,
)
from dashboard.views.common import forbidden, layout_context


class StaffLoginView(LoginView):
    """Django's login, for staff with a role only, and audited. django-axes
    counts failures (AUTHENTICATION_BACKENDS); a second factor, when enrolled
    or required, is asked next by the staff gate (accounts.middleware)."""

    template_name = "dashboard/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **layout_context(self.request, None),
            **super().get_context_data(**kwargs),
        }

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if staff_role(user) is None:
            # Correct password, but not staff: no session, no way in.
            return forbidden(
                self.request,
                None,
                "Your account has no staff role. Ask an administrator to give you one.",
            )
        response = super().form_valid(form)
        session_mark_signed_in(self.request.session)
        if mfa_enabled(user):
            second_factor = "pending"
        elif mfa_required(user):
            second_factor = "enrol"
        else:
            second_factor = "none"
        staff_login_record(actor=actor_for_user(user), second_factor=second_factor)
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        username = self.request.POST.get("username", "")
        if username and self.request.POST.get("password"):
            # The password was checked (and refused, or the name is locked out).
            staff_login_failed_record(
                username=username,
                locked_out=bool(getattr(self.request, "axes_locked_out", False)),
                failure_limit=settings.AXES_FAILURE_LIMIT,
            )
        return super().form_invalid(form)


class StaffLogoutView(LogoutView):
    next_page = "dashboard:login"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            staff_logout_record(actor=actor_for_user(request.user))
        return super().post(request, *args, **kwargs)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: the page a locked-out sign-in gets."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "dashboard/lockout.html",
        {
            **layout_context(request, None),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": minutes,
        },
        status=429,
    )
