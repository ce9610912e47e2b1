"""Staff sign-in and sign-out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpResponse

from accounts.actors import actor_for_user, staff_role
from audit.accounts import staff_login_record
from dashboard.views.common import forbidden, layout_context


class StaffLoginView(LoginView):
    """Django's login, for staff with a role only, and audited."""

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
        staff_login_record(actor=actor_for_user(user))
        return response


class StaffLogoutView(LogoutView):
    next_page = "dashboard:login"
