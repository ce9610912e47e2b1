"""The deployed WSGI application: /api/v1/ through the API's short
middleware stack, the rest of the site through the full one.

Each answer of the API's handler is compared with what the site's handler
(every middleware, as before) answers to the same request: same status,
headers and bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

from accounts.choices import Scope
from accounts.models import ApiClient
from audit.models import AuditEvent
from dsr.models import Request
from privacydesk.handlers import ApiWSGIHandler, is_api_path
from privacydesk.wsgi import application
from tests.handlers import Answer, wsgi_call

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.fixture
def token(make_api_client: Callable[..., Any]) -> Callable[..., str]:
    """token(*scopes): the bearer header of a new API client."""

    def make(*scopes: str) -> str:
        _, http = make_api_client(*scopes)
        return str(http._credentials["HTTP_AUTHORIZATION"])

    return make


@pytest.fixture(scope="module")
def full_stack() -> WSGIHandler:
    """Django's handler with every middleware: how /api/v1/ was served."""
    return WSGIHandler()


def both(
    full_stack: WSGIHandler, method: str, path: str, **kwargs: Any
) -> tuple[Answer, Answer]:
    """The same request answered through every middleware and by the
    deployed application (which hands /api/v1/ to the API's handler)."""
    return (
        wsgi_call(full_stack, method, path, **kwargs),
        wsgi_call(application, method, path, **kwargs),
    )


@pytest.mark.parametrize(
    ("method", "path", "scopes", "status"),
    [
        ("GET", "/api/v1/consent/ping/", [Scope.CONSENT_CHECK], 200),
        ("GET", "/api/v1/consent/ping/", None, 401),
        ("GET", "/api/v1/consent/ping/", [Scope.REQUESTS_READ], 403),
        # a method the endpoint has no scope for: refused before the 405
        ("DELETE", "/api/v1/consent/ping/", [Scope.CONSENT_CHECK], 403),
        ("GET", "/api/v1/no-such-thing/", [Scope.CONSENT_CHECK], 404),
        ("GET", "/api/v1/consent/ping", [Scope.CONSENT_CHECK], 301),
    ],
)
def test_the_api_handler_answers_what_the_full_stack_answers(
    full_stack: WSGIHandler,
    token: Callable[..., str],
    method: str,
    path: str,
    scopes: list[str] | None,
    status: int,
) -> None:
    headers = {} if scopes is None else {"Authorization": token(*scopes)}

    full, lean = both(full_stack, method, path, headers=headers)

    assert lean.status == full.status == status
    assert lean.headers == full.headers
    assert lean.body == full.body


def test_a_bad_body_is_the_same_400_naming_the_field(
    full_stack: WSGIHandler, token: Callable[..., str]
) -> None:
    headers = {"Authorization": token(Scope.REQUESTS_WRITE)}
    body = {"kind": "nonsense", "regime": "gdpr", "identity": {"email": "a@b.co"}}

    full, lean = both(
        full_stack, "POST", "/api/v1/requests/", headers=headers, body=body
    )

    assert lean.status == full.status == 400
    assert (lean.headers, lean.body) == (full.headers, full.body)
    assert b"kind" in lean.body
    assert not Request.objects.exists()


def test_the_api_keeps_its_security_headers_and_sets_no_cookie(
    token: Callable[..., str],
) -> None:
    answer = wsgi_call(
        application,
        "GET",
        "/api/v1/consent/ping/",
        headers={"Authorization": token(Scope.CONSENT_CHECK)},
    )

    assert answer.status == 200
    for name, value in SECURITY_HEADERS.items():
        assert answer.header(name) == value
    assert answer.header("Set-Cookie") is None
    assert "Cookie" not in (answer.header("Vary") or "")


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic eA=="])
def test_the_api_still_refuses_a_call_without_a_valid_token(
    authorization: str | None,
) -> None:
    # given
    events = AuditEvent.objects.count()
    headers = {} if authorization is None else {"Authorization": authorization}

    # when
    answer = wsgi_call(
        application,
        "POST",
        "/api/v1/requests/",
        headers=headers,
        body={"kind": "access", "regime": "gdpr", "identity": {"email": "a@b.co"}},
    )

    # then
    assert answer.status == 401
    assert answer.header("WWW-Authenticate") == 'Bearer realm="api"'
    assert not Request.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_host_not_allowed_is_refused_on_the_api_too(
    full_stack: WSGIHandler, token: Callable[..., str]
) -> None:
    headers = {"Authorization": token(Scope.CONSENT_CHECK)}

    full, lean = both(
        full_stack, "GET", "/api/v1/consent/ping/", headers=headers, host="evil.test"
    )

    assert lean.status == full.status == 400
    assert lean.body == full.body


def test_a_first_scope_use_is_still_audited_through_the_api_handler(
    make_api_client: Callable[..., Any],
) -> None:
    # given
    client, http = make_api_client(Scope.CONSENT_CHECK)
    headers = {"Authorization": http._credentials["HTTP_AUTHORIZATION"]}

    # when
    answer = wsgi_call(application, "GET", "/api/v1/consent/ping/", headers=headers)

    # then
    assert answer.status == 200
    client = ApiClient.objects.get(pk=client.pk)
    assert client.scopes_used == [Scope.CONSENT_CHECK]
    assert AuditEvent.objects.filter(action__contains="scope").count() == 1


def test_the_staff_sign_in_keeps_sessions_and_csrf() -> None:
    page = wsgi_call(application, "GET", "/dashboard/login/")
    refused = wsgi_call(
        application, "POST", "/dashboard/login/", body={"username": "x"}
    )
    dashboard = wsgi_call(application, "GET", "/dashboard/")

    assert page.status == 200
    assert "csrftoken=" in (page.header("Set-Cookie") or "")
    assert page.header("X-Frame-Options") == "DENY"
    assert refused.status == 403  # no CSRF token: the site's middleware ran
    assert dashboard.status == 302
    assert "/dashboard/login/" in (dashboard.header("Location") or "")


def test_the_portal_is_served_as_before(full_stack: WSGIHandler) -> None:
    full = wsgi_call(full_stack, "GET", "/privacy/")
    routed = wsgi_call(application, "GET", "/privacy/")

    assert routed.status == full.status == 200
    assert routed.headers == full.headers
    assert routed.header("X-Frame-Options") == "DENY"


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/api/v1/redact/", True),
        ("/api/v1/requests/123/", True),
        ("/api/v1", False),
        ("/api/schema/", False),
        ("/api/docs/", False),
        ("/opendsr/v1/exercise", False),
        ("/dashboard/", False),
        ("/privacy/", False),
    ],
)
def test_only_the_versioned_api_takes_the_short_stack(path: str, api: bool) -> None:
    assert is_api_path({"PATH_INFO": path}) is api


def test_building_the_api_handler_leaves_the_sites_middleware_setting() -> None:
    site_middleware = list(settings.MIDDLEWARE)

    ApiWSGIHandler()
    with (
        override_settings(API_MIDDLEWARE=["no.such.Middleware"]),
        pytest.raises(ImportError),
    ):
        ApiWSGIHandler()

    assert list(settings.MIDDLEWARE) == site_middleware
