"""The customer's privacy choices, reached from the portal's home and footer
with no request needed (consent.services.choices):

- /privacy/choices/: an e-mail address, then the 6-digit code sent there,
  opens that address's consent page (portal/views_consent.py);
- /privacy/choices/do-not-sell/ and /privacy/choices/limit-sensitive/: the
  CCPA opt-out links, applied at once with no code. A browser sending Global
  Privacy Control is told its signal is honoured.

The answer to an address is the same whether or not we knew it.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from consent.links import consent_token
from consent.services.choices import (
    OptOut,
    choices_code_check,
    choices_code_get,
    choices_code_send,
    consent_opt_out,
    opt_out_purposes,
)
from portal.forms import CodeForm
from portal.forms_consent import ChoicesEmailForm, OptOutForm
from portal.views import (
    _help_context,
    _link_expired,
    _over_limit,
    _rate_limited,
)
from portal.views_consent import consent_evidence, gpc_signal
from privacydesk.errors import ValidationFailed

logger = logging.getLogger(__name__)

SEND_FAILED = "We could not send the e-mail just now. Please try again in a minute."


def _send_code(
    request: HttpRequest, form: ChoicesEmailForm | CodeForm, email: str
) -> HttpResponse | None:
    """Send a code; the code page on success, None (the error on `form`) if not."""
    try:
        row = choices_code_send(email=email)
    except ValidationFailed as error:
        form.add_service_error(error)
        return None
    except OSError:  # SMTP errors are OSErrors too
        logger.exception("could not send a choices code")
        messages.error(request, SEND_FAILED)
        return None
    return redirect("portal:choices_code", public_id=str(row.public_id))


@never_cache
@require_http_methods(["GET", "POST"])
def choices(request: HttpRequest) -> HttpResponse:
    form = ChoicesEmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if _over_limit(request, "choices"):
            return _rate_limited(request)
        if form.is_valid():
            sent = _send_code(request, form, form.cleaned_data["email"])
            if sent is not None:
                return sent
    context = {
        "form": form,
        "gpc": gpc_signal(request),
        "sensitive_used": opt_out_purposes(OptOut.SENSITIVE).exists(),
        **_help_context(),
    }
    return render(
        request, "portal/choices.html", context, status=400 if form.errors else 200
    )


@never_cache
@require_http_methods(["GET", "POST"])
def choices_code(request: HttpRequest, public_id: str) -> HttpResponse:
    row = choices_code_get(public_id=public_id)
    if row is None:
        return _link_expired(request)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["action"] == "resend":
            if _over_limit(request, "resend"):
                return _rate_limited(request)
            if not row.email:  # the code was used: its address is forgotten
                return redirect("portal:choices")
            sent = _send_code(request, form, row.email)
            if sent is not None:
                messages.success(
                    request, "We sent you a new code. The old one no longer works."
                )
                return sent
        else:
            try:
                subject = choices_code_check(
                    code_row=row, code=form.cleaned_data["code"]
                )
            except ValidationFailed as error:
                form.add_service_error(error)
            else:
                return redirect(
                    "portal:consents", token=consent_token(str(subject.public_id))
                )
    return render(
        request,
        "portal/choices_code.html",
        {"form": form, "public_id": public_id, **_help_context()},
        status=400 if form.errors else 200,
    )


def _opt_out(request: HttpRequest, opt_out: OptOut) -> HttpResponse:
    covered = list(opt_out_purposes(opt_out))
    form = OptOutForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and covered:
        if _over_limit(request, "opt-out"):
            return _rate_limited(request)
        if form.is_valid():
            try:
                consent_opt_out(
                    email=form.cleaned_data["email"],
                    opt_out=opt_out,
                    evidence=consent_evidence(request, f"opt-out-page:{opt_out}"),
                )
            except ValidationFailed as error:
                form.add_service_error(error)
            else:
                return render(
                    request,
                    "portal/opt_out_done.html",
                    {"opt_out": opt_out, "covered": covered, **_help_context()},
                )
    context = {
        "form": form,
        "opt_out": opt_out,
        "covered": covered,
        "gpc": gpc_signal(request),
        **_help_context(),
    }
    return render(
        request, "portal/opt_out.html", context, status=400 if form.errors else 200
    )


@never_cache
@require_http_methods(["GET", "POST"])
def do_not_sell(request: HttpRequest) -> HttpResponse:
    return _opt_out(request, OptOut.SALE_SHARING)


@never_cache
@require_http_methods(["GET", "POST"])
def limit_sensitive(request: HttpRequest) -> HttpResponse:
    return _opt_out(request, OptOut.SENSITIVE)
