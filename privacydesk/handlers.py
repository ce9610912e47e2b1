"""The API under /api/v1/ served through its own, shorter middleware stack.

The API authenticates by bearer token only: sessions, CSRF, Django's
authentication, django-otp, the staff gate, messages, django-axes and
WhiteNoise do nothing for it but cost every call (a fifth of a masking
call's web CPU went to Django's handler and the site's twelve middleware).
So the WSGI application hands paths under /api/v1/ to a second Django
handler built from settings.API_MIDDLEWARE and everything else to the usual
one: both are Django's own handlers, differing only in the middleware list
they load. What the API's answers depend on stays in its list (the security
headers, the Host check and trailing-slash redirect, the frame header,
simple_history's request, the first scope use audited), so they are the
same answers, byte for byte.

The rest of the API (/api/schema/, /api/docs/, /opendsr/) is served by the
site's handler as before.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

API_PREFIX = "/api/v1/"


def is_api_path(environ: dict[str, Any]) -> bool:
    """Whether a request's path is served by the API's handler. PATH_INFO as
    the server gives it; Django resolves the same path (it only decodes it,
    and the prefix is ASCII)."""
    return str(environ.get("PATH_INFO", "")).startswith(API_PREFIX)


class ApiMiddlewareMixin:
    """A Django handler that loads settings.API_MIDDLEWARE, not MIDDLEWARE.

    Django's handler reads settings.MIDDLEWARE while it builds its chain;
    the setting is swapped for that moment only, when a process loads its
    application (at start, before it serves anything)."""

    def load_middleware(self, is_async: bool = False) -> None:
        site_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)  # type: ignore[misc]  # a handler's
        finally:
            settings.MIDDLEWARE = site_middleware


class ApiWSGIHandler(ApiMiddlewareMixin, WSGIHandler):
    """Django's WSGI handler with the API's middleware."""


class SiteApplication(WSGIHandler):
    """The WSGI application (privacydesk.wsgi): Django's handler for the
    site, handing /api/v1/ to the API's. Itself a Django handler, so tools
    that recognise one (schemathesis reads the views' constants) still do."""

    def __init__(self) -> None:
        super().__init__()
        self.api = ApiWSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if is_api_path(environ):
            return self.api(environ, start_response)
        return super().__call__(environ, start_response)
