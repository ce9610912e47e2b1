"""Shared fixtures: staff in each role, API clients with scopes, requests, and
a real local webhook server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from accounts.actors import Actor, actor_for_user, actor_system
from accounts.choices import Role
from accounts.models import ApiClient
from accounts.services import api_client_create, staff_set_role
from dsr.models import Request
from dsr.services.requests import request_create


def _staff(username: str, role: Role) -> User:
    user = User.objects.create_user(
        username=username, password="pw-for-tests-123", is_staff=True
    )
    staff_set_role(user=user, role=role)
    return user


@pytest.fixture
def officer(db: Any) -> User:
    return _staff("olivia.officer", Role.PRIVACY_OFFICER)


@pytest.fixture
def agent(db: Any) -> User:
    return _staff("sam.agent", Role.SUPPORT_AGENT)


@pytest.fixture
def auditor(db: Any) -> User:
    return _staff("aud.itor", Role.AUDITOR)


@pytest.fixture
def officer_actor(officer: User) -> Actor:
    return actor_for_user(officer)


@pytest.fixture
def system_actor() -> Actor:
    return actor_system("tests")


@pytest.fixture
def make_api_client(db: Any) -> Callable[..., tuple[ApiClient, APIClient]]:
    """make_api_client("requests:read", ...) -> (ApiClient row, DRF test client)."""
    counter = iter(range(1, 10_000))

    def make(*scopes: str) -> tuple[ApiClient, APIClient]:
        client, token = api_client_create(
            actor=actor_system("tests"),
            name=f"client-{next(counter)}",
            scopes=list(scopes),
        )
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client, http

    return make


@pytest.fixture
def make_request(db: Any) -> Callable[..., Request]:
    """make_request(kind="access", verified=True, ...) via the real service."""

    def make(**overrides: Any) -> Request:
        params: dict[str, Any] = {
            "actor": actor_system("tests"),
            "kind": "access",
            "regime": "gdpr",
            "channel": "api",
            "identity": {"email": "ada.lovelace@example.com"},
        }
        params.update(overrides)
        return request_create(**params)

    return make


# --- a real webhook (tests/connectors/test_http.py, tests/consent) ---------------


@dataclass
class Received:
    path: str
    headers: Message  # case-insensitive, as HTTP headers are
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Webhook:
    """A local HTTP server standing in for a store's webhook."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    # (status, JSON body) or a function of the received job returning one
    reply: tuple[int, Any] | Callable[[dict[str, Any]], tuple[int, Any]] = (202, {})
    hang: bool = False
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/privacy/jobs"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hook.received.append(Received(self.path, self.headers, body))
            if hook.hang:
                hook.release.wait(10)
            reply = hook.reply
            status, payload = reply(json.loads(body)) if callable(reply) else reply
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, *args: Any) -> None:
            pass  # quiet: job bodies hold personal data

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hook.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield hook
    hook.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)
