"""The data-point step of a California requester's verification (CCPA-REG
§7062), after the e-mail code: a form of details we may hold, matched by the
stores; the page says how many matched, never which values."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dsr.choices import RequestKind
from dsr.links import status_token
from dsr.selectors import data_points_pending, request_get_for_subject
from dsr.services.data_points import data_points_excluded, data_points_submit
from portal.forms_data_points import DataPointsForm
from portal.views import _link_expired, _over_limit, _rate_limited, _status_redirect
from privacydesk.errors import IllegalTransition, ValidationFailed


@never_cache
@require_http_methods(["GET", "POST"])
def data_points(request: HttpRequest, token: str) -> HttpResponse:
    dsr_request = request_get_for_subject(token=token)
    if dsr_request is None:
        return _link_expired(request)
    check = data_points_pending(request=dsr_request)
    if check is None:
        return _status_redirect(dsr_request)
    posted = request.method == "POST"
    form = DataPointsForm(
        request.POST if posted else None,
        correction=dsr_request.kind == RequestKind.RECTIFICATION,
        declaration=check.declaration_required,
    )
    if posted:
        if _over_limit(request, "data_points"):
            return _rate_limited(request)
        if form.is_valid():
            try:
                check = data_points_submit(
                    request=dsr_request, **form.service_arguments()
                )
            except ValidationFailed as error:
                form.add_service_error(error)
            except IllegalTransition as error:
                messages.info(request, error.message[:1].upper() + error.message[1:])
                return _status_redirect(dsr_request)
            else:
                if check.passed_at is not None:
                    messages.success(request, "Thank you: we have confirmed it is you.")
                    return _status_redirect(dsr_request)
                return redirect(
                    "portal:data_points", token=status_token(str(dsr_request.public_id))
                )
    tries_left = settings.CCPA_DATA_POINT_ATTEMPTS - check.attempts
    context = {
        "form": form,
        "dsr_request": dsr_request,
        "token": token,
        "check": check,
        "tries_left": tries_left,
        "excluded": data_points_excluded(request=dsr_request),
    }
    return render(request, "portal/data_points.html", context)
