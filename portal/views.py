"""The customers' front door: file a request, prove it is you, follow it.

Views stay thin: they read a form, call a service, and pick a page. Links
carry only signed tokens (dsr.links), never an id alone or an address.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.actors import actor_for_subject, actor_portal
from consent.links import consent_token
from dsr.choices import Channel
from dsr.clock import days_left, local_date
from dsr.lifecycle import RequestAction, request_available_actions
from dsr.links import status_token, verify_token_read
from dsr.models import Request
from dsr.packages.selectors import access_package_for_request
from dsr.selectors import (
    data_points_pending,
    recipients_told,
    request_agent,
    request_get_for_subject,
)
from dsr.services.agent_intake import request_create_by_agent
from dsr.services.intake import source_ip_hash
from dsr.services.requests import request_cancel, request_create
from dsr.services.verification import (
    verification_code_check,
    verification_code_send,
    verification_link_confirm,
)
from portal.forms import KIND_INFO, CancelForm, CodeForm, RequestForm
from portal.ratelimit import rate_limit_hit
from privacydesk.errors import DomainError, ValidationFailed

logger = logging.getLogger(__name__)


def _client(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client says it is.
    return request.META.get("REMOTE_ADDR") or "unknown"


def _over_limit(request: HttpRequest, scope: str) -> bool:
    return not rate_limit_hit(
        scope=scope, client=_client(request), limit=settings.PORTAL_SUBMISSIONS_PER_HOUR
    )


def _help_context() -> dict[str, Any]:
    return {"help_email": settings.DEFAULT_FROM_EMAIL}


def _link_expired(request: HttpRequest) -> HttpResponse:
    """One page for every bad or stale link: it says nothing about why."""
    return render(request, "portal/link_expired.html", _help_context(), status=404)


def _rate_limited(request: HttpRequest) -> HttpResponse:
    response = render(request, "portal/rate_limited.html", _help_context(), status=429)
    response["Retry-After"] = "3600"
    return response


def _subject_actions(dsr_request: Request) -> frozenset[RequestAction]:
    """What the subject may do to their request now (dsr.lifecycle decides)."""
    return request_available_actions(
        actor=actor_for_subject(str(dsr_request.public_id)), request=dsr_request
    )


def _status_redirect(dsr_request: Request) -> HttpResponse:
    return redirect("portal:status", token=status_token(str(dsr_request.public_id)))


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    kinds = [
        {"value": k, "title": t, "description": d} for k, (t, d) in KIND_INFO.items()
    ]
    return render(request, "portal/home.html", {"kinds": kinds})


@never_cache
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = RequestForm(
        request.POST if posted else None, request.FILES if posted else None
    )
    if request.method == "POST":
        if _over_limit(request, "submit"):
            return _rate_limited(request)
        if form.is_valid():
            # The portal itself records the arrival (a subject actor has no
            # request to act on yet); it passes neither received_at nor
            # verified, so the clock starts now and proof is still due.
            create: Any = request_create
            arguments = form.service_arguments()
            if form.by_agent:  # the request and its authority, one write
                create = request_create_by_agent
                arguments.update(form.agent_arguments())
            try:
                dsr_request = create(
                    actor=actor_portal(),
                    channel=Channel.PORTAL,
                    source_ip_hash=source_ip_hash(request.META.get("REMOTE_ADDR")),
                    **arguments,
                )
            except ValidationFailed as error:
                form.add_service_error(error)
            else:
                _send_first_code(request, dsr_request, by_agent=form.by_agent)
                return redirect(
                    "portal:verify", token=status_token(str(dsr_request.public_id))
                )
    return render(request, "portal/new.html", {"form": form})


def _send_first_code(
    request: HttpRequest, dsr_request: Request, *, by_agent: bool = False
) -> None:
    """The request is recorded either way; a failed e-mail can be sent again.
    An agent is told the code went to the consumer, never to them."""
    try:
        verification_code_send(request=dsr_request)
    except OSError:  # SMTP errors are OSErrors too
        logger.exception("could not send the first code for request %s", dsr_request.pk)
        messages.warning(
            request,
            "We recorded your request but could not send the e-mail just now. "
            "Please use “Send a new code” in a minute.",
        )
        return
    if by_agent:
        messages.success(
            request,
            f"We received request {dsr_request.reference} and your written "
            "authority. We sent the code to the consumer's own e-mail address, "
            "not to yours: they confirm the request themselves.",
        )
    else:
        messages.success(request, f"We received your request {dsr_request.reference}.")


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    dsr_request = request_get_for_subject(token=token)
    if dsr_request is None:
        return _link_expired(request)
    if RequestAction.PROVE_IDENTITY not in _subject_actions(dsr_request):
        return _status_redirect(dsr_request)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["action"] == "resend":
            return _resend(request, form, dsr_request, token)
        try:
            dsr_request = verification_code_check(
                request=dsr_request, code=form.cleaned_data["code"]
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        except DomainError as error:  # verified meanwhile, or cancelled
            messages.info(request, _sentence_case(error.message))
            return _status_redirect(dsr_request)
        else:
            return _after_code(request, dsr_request)
    return _verify_page(request, form, dsr_request, token)


def _after_code(request: HttpRequest, dsr_request: Request) -> HttpResponse:
    """After a right code: the data points still due (CCPA-REG §7062), or
    the status page."""
    if data_points_pending(request=dsr_request) is not None:
        messages.success(
            request,
            "Thank you: your e-mail address is confirmed. One more step shows "
            "it is you.",
        )
        return redirect(
            "portal:data_points", token=status_token(str(dsr_request.public_id))
        )
    messages.success(request, "Thank you: we have confirmed it is you.")
    return _status_redirect(dsr_request)


def _verify_page(
    request: HttpRequest, form: CodeForm, dsr_request: Request, token: str
) -> HttpResponse:
    context = {
        "form": form,
        "dsr_request": dsr_request,
        "token": token,
        # Filed by an agent: the code went to the consumer, not to them.
        "by_agent": request_agent(request=dsr_request) is not None,
    }
    return render(request, "portal/verify.html", context)


def _resend(
    request: HttpRequest, form: CodeForm, dsr_request: Request, token: str
) -> HttpResponse:
    if _over_limit(request, "resend"):
        return _rate_limited(request)
    try:
        verification_code_send(request=dsr_request)
    except ValidationFailed as error:
        form.add_service_error(error)
    except DomainError:
        return _status_redirect(dsr_request)
    else:
        messages.success(
            request, "We sent you a new code. The old one no longer works."
        )
        return redirect("portal:verify", token=token)
    return _verify_page(request, form, dsr_request, token)


@never_cache
@require_http_methods(["GET", "POST"])
def verify_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET only asks: mail scanners open links, so only the POST verifies."""
    challenge_id = verify_token_read(token)
    if challenge_id is None:
        return _link_expired(request)
    error = None
    if request.method == "POST":
        try:
            dsr_request = verification_link_confirm(challenge_id=challenge_id)
        except DomainError as refusal:
            error = refusal.message
        else:
            return _after_code(request, dsr_request)
    return render(
        request,
        "portal/verify_link.html",
        {"error": error, **_help_context()},
        status=400 if error else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest, token: str) -> HttpResponse:
    dsr_request = request_get_for_subject(token=token)
    if dsr_request is None:
        return _link_expired(request)
    form = CancelForm(request.POST if request.method == "POST" else None)
    refusal = None
    if request.method == "POST":
        if RequestAction.CANCEL not in _subject_actions(dsr_request):
            refusal = (
                "This request can no longer be cancelled: it is "
                f"{dsr_request.get_status_display().lower()}."
            )
        elif form.is_valid():
            try:
                request_cancel(
                    actor=actor_for_subject(str(dsr_request.public_id)),
                    request=dsr_request,
                    reason="Cancelled by the requester through the privacy portal.",
                )
            except DomainError as error:
                refusal = _sentence_case(error.message)
            else:
                messages.success(request, "Your request has been cancelled.")
                return redirect("portal:status", token=token)
        if refusal:
            dsr_request.refresh_from_db()
    actions = _subject_actions(dsr_request)
    context = {
        "dsr_request": dsr_request,
        "token": token,
        "form": form,
        "refusal": refusal,
        "kind_title": KIND_INFO[dsr_request.kind][0],
        "received_on": local_date(dsr_request.received_at),
        "days_left": days_left(dsr_request) if dsr_request.is_open else None,
        "can_cancel": RequestAction.CANCEL in actions,
        "can_prove_identity": RequestAction.PROVE_IDENTITY in actions,
        "has_package": _package_released(dsr_request),
        "recipients": recipients_told(request=dsr_request),
        "data_points_due": data_points_pending(request=dsr_request) is not None,
        "consent_token": consent_token(str(dsr_request.subject.public_id)),
        **_help_context(),
    }
    return render(
        request, "portal/status.html", context, status=409 if refusal else 200
    )


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _package_released(dsr_request: Request) -> bool:
    """The request has a package the subject may fetch (not one held for
    staff review)."""
    package = access_package_for_request(request=dsr_request)
    return package is not None and not package.held
