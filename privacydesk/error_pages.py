"""The pages for 400, 403, 404 and 500: JSON under /api/ and /opendsr/, where
every answer is parsed as JSON; elsewhere a page in the look of the part of
the site it happened in (the dashboard for /dashboard/, the portal for the
rest), saying what happened and where to go, never Django's bare text.

The 500 page is rendered without the request's context processors: they may
need the database that just failed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

_API_PREFIXES = ("/api/", "/opendsr/")

_PAGES: dict[int, tuple[str, str, str]] = {
    # status: (error code for JSON, heading, what to do)
    400: (
        "bad_request",
        "We could not read what was sent",
        "Go back and try again. If it keeps happening, reload the page first.",
    ),
    403: (
        "forbidden",
        "You can’t do that here",
        "If you think you should be able to, ask a privacy officer.",
    ),
    404: (
        "not_found",
        "Page not found",
        "Check the address, or start again from the home page.",
    ),
    500: (
        "server_error",
        "Something went wrong on our side",
        "Nothing you did caused this, and it has been logged. Please try again "
        "in a few minutes.",
    ),
}


def _page(
    request: HttpRequest, status: int, *, detail: str = "", with_context: bool = True
) -> HttpResponse:
    code, heading, advice = _PAGES[status]
    if request.path.startswith(_API_PREFIXES):
        return JsonResponse(
            {"error": code, "detail": detail or heading.lower()}, status=status
        )
    dashboard = request.path.startswith("/dashboard/")
    context = {
        "status": status,
        "heading": heading,
        "detail": detail,
        "advice": advice,
        "dashboard": dashboard,
        "home_url": "/dashboard/" if dashboard else "/privacy/",
        "controller_name": settings.CONTROLLER_NAME,
    }
    body = render_to_string(
        "errors/page.html", context, request=request if with_context else None
    )
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    detail = ""
    if isinstance(exception, RequestDataTooBig):
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000
        detail = (
            f"What you sent is too large: the limit is {limit_mb:.1f} MB. "
            "Shorten the text, or send a smaller file."
        )
    return _page(request, 400, detail=detail)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, 403)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, 500, with_context=False)
