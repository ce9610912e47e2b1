"""The access package in the portal: ask for a fresh code, then download.

`/privacy/package/<status token>/` says the package is ready and takes a
one-time code sent by e-mail; the right code opens
`/privacy/package/files/<download token>/`, the downloads page: one code, and
both the ZIP (`/privacy/package/download/<download token>/`) and, for an
access request, the letter as a PDF (`/privacy/package/letter/<download
token>/`), through the same signed token, which works for
ACCESS_PACKAGE_LINK_DAYS days. Links carry only signed tokens.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.actors import actor_for_subject
from dsr.choices import PACKAGE_KINDS, RequestKind
from dsr.clock import local_date
from dsr.links import status_token
from dsr.models import AccessPackage
from dsr.packages.selectors import (
    access_package_code_pending,
    access_package_for_request,
    access_package_from_link,
    access_package_is_available,
)
from dsr.selectors import request_get_for_subject
from dsr.services.package_downloads import (
    access_package_code_check,
    access_package_code_send,
    access_package_download,
)
from dsr.services.package_letters import access_package_letter_pdf
from portal.forms import PackageCodeForm
from portal.ratelimit import rate_limit_hit
from privacydesk.errors import DomainError, ValidationFailed


def _help_context() -> dict[str, Any]:
    return {"help_email": settings.DEFAULT_FROM_EMAIL}


def _gone(request: HttpRequest, *, status: int) -> HttpResponse:
    """410: the link or the package ran out of time; 404: never a valid link."""
    return render(
        request,
        "portal/package_gone.html",
        {"expired": status == 410, **_help_context()},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def package(request: HttpRequest, token: str) -> HttpResponse:
    dsr_request = request_get_for_subject(token=token)
    if dsr_request is None or dsr_request.kind not in PACKAGE_KINDS:
        return _gone(request, status=404)
    access_package = access_package_for_request(request=dsr_request)
    if access_package is None or access_package.held:  # held: staff review it
        context = {"dsr_request": dsr_request, "token": token, **_help_context()}
        return render(request, "portal/package_pending.html", context)
    if not access_package_is_available(package=access_package):
        return _gone(request, status=410)
    form = PackageCodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["action"] == "resend":
            response = _send_code(request, form, access_package, token)
            if response is not None:
                return response
        else:
            try:
                download = access_package_code_check(
                    package=access_package, code=form.cleaned_data["code"]
                )
            except DomainError as error:
                form.add_service_error(ValidationFailed(error.message, field="code"))
            else:
                return redirect("portal:package_files", token=download)
    if form.errors:
        status = 400
    context = {
        "form": form,
        "dsr_request": dsr_request,
        "package": access_package,
        "token": token,
        "code_sent": access_package_code_pending(package=access_package),
        "available_until": local_date(access_package.expires_at),
        "link_days": settings.ACCESS_PACKAGE_LINK_DAYS,
        **_help_context(),
    }
    return render(request, "portal/package_ready.html", context, status=status)


def _send_code(
    request: HttpRequest,
    form: PackageCodeForm,
    access_package: AccessPackage,
    token: str,
) -> HttpResponse | None:
    """Send a code and come back to the page; None: show the form's error."""
    client = request.META.get("REMOTE_ADDR") or "unknown"
    if not rate_limit_hit(
        scope="package-code", client=client, limit=settings.PORTAL_SUBMISSIONS_PER_HOUR
    ):
        response = render(
            request, "portal/rate_limited.html", _help_context(), status=429
        )
        response["Retry-After"] = "3600"
        return response
    try:
        access_package_code_send(package=access_package)
    except DomainError as error:
        form.add_service_error(ValidationFailed(error.message, field="code"))
        return None
    messages.success(request, "We sent you a code. Any earlier code no longer works.")
    return redirect("portal:package", token=token)


@never_cache
@require_GET
def package_files(request: HttpRequest, token: str) -> HttpResponse:
    """What one code opens: the ZIP and the letter, each a click away, for as
    long as the signed link works."""
    check = access_package_from_link(token=token)
    if check.package is None:
        return _gone(request, status=410 if check.expired else 404)
    access_package = check.package
    context = {
        "package": access_package,
        "dsr_request": access_package.request,
        "token": token,
        "status_token": status_token(str(access_package.request.public_id)),
        "link_days": settings.ACCESS_PACKAGE_LINK_DAYS,
        "available_until": local_date(access_package.expires_at),
        **_help_context(),
    }
    return render(request, "portal/package_files.html", context)


@never_cache
@require_GET
def package_download(request: HttpRequest, token: str) -> HttpResponseBase:
    check = access_package_from_link(token=token)
    if check.package is None:
        return _gone(request, status=410 if check.expired else 404)
    handle = access_package_download(package=check.package)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=check.package.filename,
        content_type="application/zip",
    )


@never_cache
@require_GET
def package_letter(request: HttpRequest, token: str) -> HttpResponseBase:
    """The letter of the package as a PDF, behind the same signed link."""
    check = access_package_from_link(token=token)
    if check.package is None or check.package.kind != RequestKind.ACCESS:
        return _gone(request, status=410 if check.expired else 404)
    try:
        letter = access_package_letter_pdf(
            actor=actor_for_subject(str(check.package.request.public_id)),
            package=check.package,
        )
    except DomainError:
        return _gone(request, status=410)  # purged while we looked
    return FileResponse(
        letter.file,
        as_attachment=True,
        filename=letter.filename,
        content_type="application/pdf",
    )
