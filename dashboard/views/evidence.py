"""Evidence-pack and access-letter downloads from the dashboard: one service
call each."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from accounts.actors import Actor
from dashboard.views.common import staff_view
from dsr.models import Request
from dsr.packages.selectors import access_package_for_request
from dsr.selectors import request_get
from dsr.services.package_letters import access_package_letter_pdf
from dsr.services.package_reviews import access_package_open
from evidence.services import (
    GeneratedPack,
    evidence_pack_download,
    evidence_pack_download_for_run,
)
from privacydesk.errors import IllegalTransition
from retention.models import PurgeRun
from retention.selectors import run_get


def _pdf(result: GeneratedPack) -> HttpResponse:
    response = HttpResponse(result.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{result.pack.filename}"'
    response["X-Evidence-Pack-SHA256"] = result.pack.sha256
    return response


def _request(actor: Actor, public_id: Any) -> Request:
    try:
        return request_get(actor=actor, public_id=str(public_id))
    except Request.DoesNotExist as missing:
        raise Http404("no such request") from missing


@require_GET
@staff_view
def request_evidence_pdf(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    """The pseudonymised pack: anyone who may see the request."""
    return _pdf(evidence_pack_download(actor=actor, request=_request(actor, public_id)))


@require_POST
@staff_view
def request_evidence_internal_pdf(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    """The internal copy with the subject's identifiers: privacy officers only,
    made afresh, audited, never stored (POST: it is an action, not a page)."""
    return _pdf(
        evidence_pack_download(
            actor=actor, request=_request(actor, public_id), internal=True
        )
    )


@require_GET
@staff_view
def request_letter_pdf(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponseBase:
    """The Art. 15 letter of the request's access package as a PDF, the one
    the subject can download too: anyone who may see the request, audited."""
    dsr = _request(actor, public_id)
    package = access_package_for_request(request=dsr)
    if package is None:
        raise Http404("this request has no access package")
    try:
        letter = access_package_letter_pdf(actor=actor, package=package)
    except IllegalTransition as error:
        messages.error(request, error.message)
        return redirect("dashboard:request_detail", public_id=dsr.public_id)
    response = FileResponse(
        letter.file,
        as_attachment=True,
        filename=letter.filename,
        content_type="application/pdf",
    )
    response["X-Letter-SHA256"] = letter.sha256
    return response


@require_GET
@staff_view
def request_package_review(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponseBase:
    """The access package's ZIP, for the officer reviewing it before its
    release (REVIEW_BEFORE_ACCESS_RELEASE): officers only, audited."""
    dsr = _request(actor, public_id)
    package = access_package_for_request(request=dsr)
    if package is None:
        raise Http404("this request has no access package")
    try:
        opened = access_package_open(actor=actor, package=package)
    except IllegalTransition as error:
        messages.error(request, error.message)
        return redirect("dashboard:request_detail", public_id=dsr.public_id)
    response = FileResponse(
        opened,
        as_attachment=True,
        filename=package.filename,
        content_type="application/zip",
    )
    response["X-Package-SHA256"] = package.sha256
    return response


@require_GET
@staff_view
def run_evidence_pdf(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    try:
        run = run_get(actor=actor, public_id=str(public_id))
    except PurgeRun.DoesNotExist as missing:
        raise Http404("no such run") from missing
    return _pdf(evidence_pack_download_for_run(actor=actor, run=run))
