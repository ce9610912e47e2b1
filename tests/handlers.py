"""The test clients' handlers, routed as production routes them.

Django's and DRF's test clients run every request through one handler
built from settings.MIDDLEWARE; production hands /api/v1/ to a handler with
settings.API_MIDDLEWARE (privacydesk.handlers). tests/conftest.py puts
`Routed` in their place for the whole suite, so every API test goes through
the API's middleware as a deployed client's call does."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core import signals
from django.db import close_old_connections
from django.test.client import ClientHandler
from rest_framework.test import ForceAuthClientHandler

from privacydesk.handlers import ApiMiddlewareMixin, is_api_path


class _ApiClientHandler(ApiMiddlewareMixin, ClientHandler):
    pass


class _ApiForceAuthClientHandler(ApiMiddlewareMixin, ForceAuthClientHandler):
    pass


class Routed:
    """A test client's handler: /api/v1/ to one with the API's middleware,
    the rest to the client's usual one. Settings made on it (DRF's forced
    authentication) reach both."""

    site_class: type[ClientHandler] = ClientHandler
    api_class: type[ClientHandler] = _ApiClientHandler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "site", self.site_class(*args, **kwargs))
        object.__setattr__(self, "api", self.api_class(*args, **kwargs))

    def __call__(self, environ: dict[str, Any]) -> Any:
        return (self.api if is_api_path(environ) else self.site)(environ)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.site, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.site, name, value)
        setattr(self.api, name, value)


class RoutedClientHandler(Routed):
    """In place of Django's ClientHandler."""


class RoutedForceAuthClientHandler(Routed):
    """In place of DRF's ForceAuthClientHandler (APIClient)."""

    site_class = ForceAuthClientHandler
    api_class = _ApiForceAuthClientHandler


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def wsgi_call(
    app: Callable[..., Any],
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: Any = None,
    host: str = "testserver",
) -> Answer:
    """Call a WSGI application as a server would (no test client), with a
    JSON body if one is given. The test's database connection is kept (a
    request's end would otherwise close it, transaction and all)."""
    raw = b"" if body is None else json.dumps(body).encode()
    path_info, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": host,
        "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if body is not None:
        environ |= {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw))}
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started: list[Any] = []
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        chunks = app(environ, lambda status, head, *_: started.append((status, head)))
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    status, head = started[0]
    return Answer(int(status.split()[0]), list(head), content)
