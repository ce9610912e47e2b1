"""Shared fixtures: staff in each role, API clients with scopes, requests, a
real local webhook server, and pull agents and signed callbacks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.actors import Actor, actor_for_user, actor_system
from accounts.choices import Role
from accounts.models import ApiClient
from accounts.services import staff_set_role
from audit.accounts import api_client_create
from audit.models import AuditEvent
from connectors.agent_tokens import agent_token_create
from connectors.models import Connector
from dsr.choices import PauseReason
from dsr.models import ClockPause, Request, RequestTask
from dsr.services.execution.running import task_run
from dsr.services.requests import request_create
from tests.connectors.discovery_stores import discovery_pg  # noqa: F401


@pytest.fixture(autouse=True, scope="session")
def _clients_routed_as_production() -> Iterator[None]:
    """Test clients send /api/v1/ through the API's middleware, as the
    deployed application does (tests/handlers.py)."""
    from django.test import client as django_client
    from rest_framework import test as drf_test

    from tests.handlers import RoutedClientHandler, RoutedForceAuthClientHandler

    saved = django_client.ClientHandler, drf_test.ForceAuthClientHandler
    django_client.ClientHandler = RoutedClientHandler  # type: ignore[misc,assignment]
    drf_test.ForceAuthClientHandler = RoutedForceAuthClientHandler  # type: ignore[misc,assignment]
    yield
    django_client.ClientHandler, drf_test.ForceAuthClientHandler = saved  # type: ignore[misc]


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


@pytest.fixture
def request_in(make_request: Callable[..., Request]) -> Callable[..., Request]:
    """request_in(status, paused=False): a request put straight into `status`
    (no work planned), its clock running or paused, approval required."""

    def make(status: str, *, paused: bool = False, **overrides: Any) -> Request:
        request = make_request(**overrides)
        request.pauses.update(ended_at=timezone.now())
        if paused:
            ClockPause.objects.create(
                request=request,
                reason=PauseReason.CLARIFICATION,
                started_at=timezone.now(),
            )
        Request.objects.filter(pk=request.pk).update(
            status=status, requires_approval=True
        )
        return Request.objects.get(pk=request.pk)

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


def webhook_connector(webhook: Webhook, *, key: str) -> Connector:
    """An `http` connector posting its jobs to the test webhook, signed with `key`."""
    return Connector.objects.create(
        name="crm-webhook",
        kind="http",
        config={"url": webhook.url, "timeout_seconds": 2},
        secrets={"signing_key": key},
    )


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


# --- pull agents and signed callbacks (connectors.jobkit's two doors) -------------

REQUEST_JOBS = "/api/v1/agent/jobs/"
CONSENT_JOBS = "/api/v1/agent/consent-jobs/"


class Agent(NamedTuple):
    """A pull agent: its token's row, a client that sends the token, its queue."""

    client: ApiClient
    http: APIClient
    queue: str

    def jobs(self) -> list[dict[str, Any]]:
        response = self.http.get(self.queue)
        assert response.status_code == 200, response.json()
        return response.json()

    def post(self, job: Any, verb: str, body: Any = None) -> Any:
        """POST to a job's claim, heartbeat or result."""
        return self.http.post(
            f"{self.queue}{job.public_id}/{verb}/", body or {}, format="json"
        )


@pytest.fixture
def make_agent(db: Any) -> Callable[..., Agent]:
    """make_agent(connector, queue=REQUEST_JOBS): a token bound to the connector."""

    def make(connector: Connector, queue: str = REQUEST_JOBS) -> Agent:
        client, token = agent_token_create(
            actor=actor_system("tests"), connector=connector
        )
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return Agent(client, http, queue)

    return make


def task_waiting(request: Request, connector: Connector) -> RequestTask:
    """Run the request's task for this connector: it waits for the agent or the
    webhook's callback."""
    task = RequestTask.objects.get(request=request, connector=connector)
    assert task_run(task_id=task.pk) == "deferred"
    task.refresh_from_db()
    assert task.status == "waiting"
    return task


def sign(body: bytes, timestamp: int, key: str) -> str:
    """A callback's signature, computed here rather than by the code under test."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def signed_post(
    url: str,
    payload: dict[str, Any],
    *,
    key: str,
    timestamp: int | None = None,
    signature: str | None = None,
) -> Any:
    """A webhook's callback, signed with `key` now (or at `timestamp`), or
    carrying the `signature` given."""
    body = json.dumps(payload).encode()
    sent_at = int(time.time()) if timestamp is None else timestamp
    return Client().post(
        url,
        data=body,
        content_type="application/json",
        headers={
            "X-PrivacyDesk-Timestamp": str(sent_at),
            "X-PrivacyDesk-Signature": signature or sign(body, sent_at, key),
        },
    )


def attempts_of(job: Any) -> Any:
    """The attempt rows of a request task or a consent propagation, in order."""
    attempts = job.tries if isinstance(job, RequestTask) else job.attempt_rows
    return attempts.order_by("number")


def outcomes(job: Any) -> list[str]:
    """How each attempt ended, in order."""
    return list(attempts_of(job).values_list("outcome", flat=True))


def snapshot(job: Any) -> tuple[Any, ...]:
    """What a refused call must leave as it was: the job's row, its attempts
    and the audit trail (but for a client's first successful use of a scope,
    which its own listing may record: alerts' new-scope rule reads it)."""
    job.refresh_from_db()
    return (
        tuple(getattr(job, field.attname) for field in job._meta.concrete_fields),
        list(attempts_of(job).values()),
        AuditEvent.objects.exclude(action="api_client.scope_first_used").count(),
    )
