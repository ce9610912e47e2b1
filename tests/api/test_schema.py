"""The API keeps the contract it publishes.

schemathesis reads the app's own `/api/schema/` (drf-spectacular) and calls
every operation in-process through the WSGI app, with a bounded and
deterministic set of examples per operation, authenticated with a token that
holds every scope a client can hold (an agent's operations with an agent
token). It checks that nothing answers 5xx and that every status code,
content type, header and body is the one the schema documents.

So that the answers about real objects are checked too, not only 404s, a
few objects are first made through the API itself (a request, connectors of
two kinds, a consent, a retention policy, a hold, a run, a training
dataset and a breach), and a path id generated well-formed is pointed at the object of
its kind.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.choices import Scope
from audit.accounts import api_client_create
from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize
from connectors.demo.stores import build_sqlite
from connectors.models import Connector
from consent.seed import seed_purposes
from privacydesk.wsgi import application
from tests.disclosure import DISCLOSURE

# Examples per operation in the fuzzing phase; the examples and coverage
# phases add the schema's examples and its boundary and invalid values.
MAX_EXAMPLES = 10
SEED = 20260

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "checks": {
            # A schema states shapes; the services own rules no JSON Schema
            # can (a kind's config map, a phone number that parses, a name
            # not taken yet, an id that must name a stored object), so a
            # schema-valid request may rightly be a 400 naming its field.
            # Every answer is still checked against the schema.
            "positive_data_acceptance": {"enabled": False},
        },
    }
)

# Loaded while the tests are collected (the schema view reads no database),
# so each operation is a test of its own.
# The deployed application: /api/v1/ through the API's middleware stack.
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", application, config=CONFIG
)

# The object a path id of each operation is pointed at, by path prefix.
ID_OWNERS = {
    "/api/v1/requests/{id}/": "request",
    "/api/v1/connectors/{id}/": "connector",
    "/api/v1/subjects/{id}/": "subject",
    "/api/v1/retention/policies/{id}/": "policy",
    "/api/v1/retention/holds/{id}/": "hold",
    "/api/v1/retention/runs/{id}/": "run",
    "/api/v1/datasets/{id}/": "dataset",
    "/api/v1/breaches/{id}/": "breach",
}
IDENTITY = {"email": "ada.lovelace@example.com"}
# PDFs take a while to render: one real one per operation is enough.
RENDERED_ONCE = (".pdf",)


@dataclass
class Api:
    """The tokens and the objects the examples are pointed at."""

    token: str
    agent_token: str = ""
    objects: dict[str, str] = field(default_factory=dict)
    rendered: set[str] = field(default_factory=set)

    def headers(self, case: Any) -> dict[str, str]:
        if case.operation.path.startswith("/api/v1/connector-callbacks/"):
            return {}  # signed, not authenticated
        if case.operation.path.startswith("/api/v1/agent/"):
            return {"Authorization": f"Bearer {self.agent_token}"}
        return {"Authorization": f"Bearer {self.token}"}

    def point_at_objects(self, case: Any) -> None:
        """A well-formed generated id becomes the id of a stored object."""
        path = case.operation.path
        owner = _owner(path)
        value = (case.path_parameters or {}).get("id")
        if owner is None or not _is_uuid(value):
            return
        if path.endswith(RENDERED_ONCE):
            # The first example of the fuzzing phase: the coverage phase's
            # first one is sent without a token, on purpose.
            if path in self.rendered or case.meta.phase.name != "fuzzing":
                return
            self.rendered.add(path)
        case.path_parameters["id"] = self.objects[owner]


def _owner(path: str) -> str | None:
    return next((o for p, o in ID_OWNERS.items() if path.startswith(p)), None)


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@contextmanager
def _connection_kept() -> Iterator[None]:
    """Keep the test's connection (and its transaction) across calls: the
    WSGI handler closes connections when a request ends, which Django's own
    test client prevents the same way (and undoes after each of its calls)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="session")
def helpdesk_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small support database, built once and copied for each operation."""
    store = tmp_path_factory.mktemp("schemathesis") / "helpdesk.sqlite3"
    build_sqlite(store, StoreSize(customers=12))
    return store


class Objects:
    """Makes, through the API itself, the objects an operation's ids point at
    (and what they need), each once."""

    def __init__(self, http: APIClient, store: Path, run_tasks: Any) -> None:
        self.http = http
        self.store = store
        self.run_tasks = run_tasks  # runs what a worker would, at commit
        self.made: dict[str, dict[str, Any]] = {}

    def get(self, name: str) -> dict[str, Any]:
        if name not in self.made:
            self.made[name] = getattr(self, f"_{name}")()
        return self.made[name]

    def _post(self, path: str, body: dict[str, Any], status: int = 201) -> Any:
        response = self.http.post(path, body, format="json")
        assert response.status_code == status, response.content
        return response.json()

    def _connector(self) -> dict[str, Any]:
        return self._post(
            "/api/v1/connectors/",
            {
                "name": "helpdesk",
                "kind": "sql",
                "config": {
                    "dsn": f"sqlite:///{self.store}",
                    "tables": SQL_CONNECTOR_TABLES,
                },
                "data_categories": ["contact"],
                "disclosure": DISCLOSURE,
            },
        )

    def _request(self) -> dict[str, Any]:
        return self._post(
            "/api/v1/requests/",
            {"kind": "access", "regime": "gdpr", "identity": IDENTITY},
        )

    def _subject(self) -> dict[str, Any]:
        # Migrations seed the purposes, but a transactional test elsewhere
        # may have flushed them from a reused database.
        seed_purposes()
        purposes = self.http.get("/api/v1/consent/purposes/").json()
        consent = self._post(
            "/api/v1/consent/events/",
            {"identity": IDENTITY, "purpose": purposes[0]["slug"], "action": "grant"},
        )
        return {"id": consent["subject"]}

    def _dataset(self) -> dict[str, Any]:
        return self._post(
            "/api/v1/datasets/",
            {"name": "support-chats", "version": "1", "conversation_ids": ["c-1"]},
        )

    def _breach(self) -> dict[str, Any]:
        return self._post(
            "/api/v1/breaches/",
            {
                "title": "Transcripts bucket left public",
                "aware_at": "2026-01-05T09:00:00Z",
                "description": "A storage bucket of chat transcripts was public.",
            },
        )

    def _policy(self) -> dict[str, Any]:
        return self._post(
            "/api/v1/retention/policies/",
            {
                "name": "old-tickets",
                "connector": self.get("connector")["id"],
                "table": "tickets",
                "age_column": "created_at",
                "max_age_days": 365,
                "action": "delete",
            },
        )

    def _run(self) -> dict[str, Any]:
        policy = self.get("policy")["id"]
        with self.run_tasks(execute=True):
            self._post(
                f"/api/v1/retention/policies/{policy}/run/", {"dry_run": True}, 202
            )
        (run,) = self.http.get("/api/v1/retention/runs/").json()["results"]
        return run

    def _hold(self) -> dict[str, Any]:
        return self._post(
            "/api/v1/retention/holds/",
            {
                "scope": "subject",
                "request": self.get("request")["id"],
                "reason": "A claim about a refund is pending.",
                "legal_basis": "GDPR 17(3)(e): legal claims",
            },
        )


@pytest.fixture
def api(
    request: pytest.FixtureRequest,
    db: Any,
    tmp_path: Path,
    helpdesk_store: Path,
    django_capture_on_commit_callbacks: Any,
) -> Iterator[Api]:
    """A token with every scope a client can hold (the agent scope is only
    ever given alone, bound to one connector: agents get their own), and the
    object this operation's ids point at."""
    scopes = [scope for scope in Scope.values if scope != Scope.CONNECTORS_AGENT]
    _, token = api_client_create(
        actor=actor_system("tests"), name="schemathesis", scopes=scopes
    )
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    store = tmp_path / "helpdesk.sqlite3"
    shutil.copy(helpdesk_store, store)
    made = Objects(http, store, django_capture_on_commit_callbacks)
    api = Api(token=token)
    # The item is named after its operation: "...[GET /api/v1/requests/{id}/]".
    path = request.node.name.rsplit(" ", 1)[-1].rstrip("]")
    owner = _owner(path)
    if owner is not None:
        api.objects[owner] = made.get(owner)["id"]
    if path.startswith("/api/v1/agent/"):
        crm = made._post(
            "/api/v1/connectors/",
            {
                "name": "crm",
                "kind": "pull",
                "config": {},
                "data_categories": ["contact"],
                "disclosure": DISCLOSURE,
            },
        )
        _, api.agent_token = api_client_create(
            actor=actor_system("tests"),
            name="crm-agent",
            scopes=[Scope.CONNECTORS_AGENT],
            connector=Connector.objects.get(public_id=crm["id"]),
        )
    with _connection_kept():
        yield api


@schema.parametrize()
# One database transaction per operation, shared by its examples, on purpose:
# what one example creates, changes or deletes, the next one meets.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_keeps_the_published_contract(case: Any, api: Api) -> None:
    api.point_at_objects(case)
    case.call_and_validate(headers=api.headers(case))
