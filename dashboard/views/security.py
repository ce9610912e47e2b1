"""A staff member's second factor and sessions; administrators' staff list.

The sign-in's second step (`mfa_verify`) and enrolment (`mfa_enrol`) are
reached before the staff gate lets a session anywhere else, so they take
the signed-in user, not a `staff_view` actor, and show no navigation.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts.actors import Actor, actor_for_user
from accounts.mfa import (
    mfa_enabled,
    mfa_required,
    recovery_codes_left,
    totp_enrolment_device,
)
from accounts.selectors import staff_user_get, staff_users_list
from audit.accounts import (
    staff_logout_everywhere,
    staff_mfa_enrol,
    staff_mfa_reset,
    staff_mfa_verify,
    staff_recovery_codes_regenerate,
)
from dashboard.forms.security import ConfirmForm, MfaCodeForm
from dashboard.views.common import page, staff_view


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("dashboard:queue")


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def _is_verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def _signed_in(request: HttpRequest) -> AbstractBaseUser:
    """The signed-in person of a `staff_view` page (never anonymous there)."""
    user = request.user
    assert isinstance(user, AbstractBaseUser)
    return user


def _private(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponseBase:
    """Second step of a sign-in: a code from the app, or a recovery code."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    next_url = _next_url(request)
    user = request.user
    if _is_verified(request):
        return redirect(next_url)
    if not mfa_enabled(user):
        if mfa_required(user):
            return redirect(_with_next("dashboard:mfa_enrol", next_url))
        return redirect(next_url)
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = staff_mfa_verify(
            actor=actor_for_user(user), user=user, token=form.cleaned_data["code"]
        )
        if check.ok:
            otp_login(request, check.device)
            if check.method == "recovery_code":
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {check.recovery_codes_left} "
                    "left. Make new ones under Security if you are running low.",
                )
            return redirect(next_url)
        form.add_error(
            "code",
            "That code is not right, has been used, or has expired. Wait for the "
            "next code in your app and try again.",
        )
    return _private(
        page(
            request,
            None,
            "dashboard/mfa_verify.html",
            {"form": form, "next": next_url},
            status=200 if request.method == "GET" or form.is_valid() else 400,
        )
    )


def _grouped(key: str) -> str:
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponseBase:
    """Set up an authenticator app: scan the QR code (or type the key), then
    confirm with a code; the recovery codes are shown once."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    user = request.user
    next_url = _next_url(request)
    if mfa_enabled(user) and not _is_verified(request):
        # Replacing an app is for a session that proved the current one.
        return redirect(_with_next("dashboard:mfa_verify", next_url))
    device = totp_enrolment_device(user=user)
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        enrolment = staff_mfa_enrol(
            actor=actor_for_user(user), user=user, token=form.cleaned_data["code"]
        )
        if enrolment is not None:
            otp_login(request, enrolment.device)
            return _private(
                page(
                    request,
                    None,
                    "dashboard/mfa_recovery_codes.html",
                    {"codes": enrolment.recovery_codes, "next": next_url},
                )
            )
        form.add_error(
            "code",
            "That code does not match. Check the time on your phone is right and "
            "type the code the app shows now.",
        )
    qr = segno.make(device.config_url, micro=False)
    return _private(
        page(
            request,
            None,
            "dashboard/mfa_enrol.html",
            {
                "form": form,
                "next": next_url,
                "qr_svg": mark_safe(qr.svg_inline(scale=5, border=2)),  # noqa: S308
                "manual_key": _grouped(b32encode(device.bin_key).decode()),
                "required": mfa_required(user),
                "replacing": mfa_enabled(user),
            },
            status=200 if request.method == "GET" or form.is_valid() else 400,
        )
    )


@require_http_methods(["GET"])
@staff_view
def account_security(request: HttpRequest, actor: Actor) -> HttpResponse:
    user = _signed_in(request)
    return page(
        request,
        actor,
        "dashboard/account_security.html",
        {
            "section": "account",
            "mfa_enabled": mfa_enabled(user),
            "mfa_required": mfa_required(user),
            "codes_left": recovery_codes_left(user),
            "confirm_form": ConfirmForm(),
        },
    )


@require_POST
@staff_view
def recovery_codes_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    codes = staff_recovery_codes_regenerate(actor=actor, user=_signed_in(request))
    if not codes:
        messages.error(request, "Set up an authenticator app first.")
        return redirect("dashboard:account_security")
    return page(
        request,
        actor,
        "dashboard/mfa_recovery_codes.html",
        {"codes": codes, "next": reverse("dashboard:account_security")},
    )


@require_POST
@staff_view
def logout_everywhere(request: HttpRequest, actor: Actor) -> HttpResponse:
    """End every session of this person, on every browser, this one too."""
    if not ConfirmForm(request.POST).is_valid():
        messages.error(request, "Tick “I confirm” to sign out everywhere.")
        return redirect("dashboard:account_security")
    staff_logout_everywhere(actor=actor, user=_signed_in(request))
    logout(request)
    return redirect("dashboard:login")


@require_http_methods(["GET"])
@staff_view
def staff_security(request: HttpRequest, actor: Actor) -> HttpResponse:
    users = list(staff_users_list(actor=actor).prefetch_related("groups"))
    return page(
        request,
        actor,
        "dashboard/staff_security.html",
        {
            "section": "security",
            "rows": [
                {"user": user, "mfa": mfa_enabled(user), "required": mfa_required(user)}
                for user in users
            ],
        },
    )


@require_POST
@staff_view
def staff_mfa_reset_view(request: HttpRequest, actor: Actor, user_id: int) -> Any:
    try:
        user: User = staff_user_get(actor=actor, user_id=user_id)
    except User.DoesNotExist as missing:
        raise Http404("no such staff member") from missing
    if not ConfirmForm(request.POST).is_valid():
        messages.error(request, f"Tick “I confirm” to reset {user.username}.")
        return redirect("dashboard:staff_security")
    removed = staff_mfa_reset(actor=actor, user=user)
    messages.success(
        request,
        f"Removed {user.username}'s second factor ({removed} device(s)) and ended "
        "their sessions; they set it up again at their next sign-in.",
    )
    return redirect("dashboard:staff_security")
