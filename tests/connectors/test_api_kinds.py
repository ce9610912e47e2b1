"""Every connector kind through the API, the way an integration calls it: a
bearer token with the connector scopes, JSON in, JSON out.

Each kind in the registry is created, listed, read, patched, tested and
deleted with a realistic config; the refusals name the field path and write
nothing; secrets go in and never come out.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.models import ApiClient
from accounts.services import api_client_create, api_client_revoke
from audit.models import AuditEvent
from connectors import registry
from connectors.api.serializers import ConnectorSerializer
from connectors.demo import SQL_CONNECTOR_TABLES, StoreSize, build_sqlite
from connectors.models import Connector
from tests.disclosure import DISCLOSURE

URL = "/api/v1/connectors/"
READ, WRITE = "connectors:read", "connectors:write"
SECRET = "pw-7f3c9a1e5b-never-returned"
ALL = ["access", "rectify", "erase", "verify_erasure", "restrict", "object"]

MakeClient = Callable[..., tuple[Any, APIClient]]


@dataclass(frozen=True)
class KindCase:
    """One kind as an integrator sets it up, and what the API answers."""

    config: Callable[[Path], dict[str, Any]]
    patch: Callable[[dict[str, Any]], dict[str, Any]]  # a config change
    actions: list[str]  # once created
    patched_actions: list[str]  # after the patch
    kind_actions: list[str]
    health: str  # the answer of `test` right after creating
    secrets: dict[str, str] = field(default_factory=dict)


def _sql_config(folder: Path) -> dict[str, Any]:
    store = folder / "helpdesk.sqlite3"
    build_sqlite(store, StoreSize(customers=12))
    return {"dsn": f"sqlite:///{store}", "tables": copy.deepcopy(SQL_CONNECTOR_TABLES)}


def _without_flags(config: dict[str, Any]) -> dict[str, Any]:
    """The map with no restriction or objection column: the store can then
    neither restrict nor record an objection by itself."""
    tables = copy.deepcopy(config["tables"])
    for table in tables:
        table.pop("restrict_column", None)
        table.pop("objection_column", None)
    return {**config, "tables": tables}


def _files_config(folder: Path) -> dict[str, Any]:
    chats = folder / "chats"
    chats.mkdir()
    (chats / "2026-01.jsonl").write_text(
        json.dumps({"id": "c-1", "customer": {"email": "a@example.com"}}) + "\n"
    )
    return {
        "folder": str(chats),
        "identity": {"email": "customer.email"},
        "text_fields": ["messages[].text"],
        "erase": "redact_pii",
    }


CASES: dict[str, KindCase] = {
    "sql": KindCase(
        config=_sql_config,
        patch=_without_flags,
        actions=ALL,
        patched_actions=["access", "rectify", "erase", "verify_erasure"],
        kind_actions=ALL,
        health="ok",
        secrets={"password": SECRET},
    ),
    "http": KindCase(
        config=lambda _: {"url": "https://crm.example.com/dsr", "timeout_seconds": 5},
        patch=lambda config: {**config, "actions": ["access", "erase"]},
        actions=ALL,
        patched_actions=["access", "erase"],
        kind_actions=ALL,
        health="ok",
        secrets={"signing_key": SECRET},
    ),
    "pull": KindCase(
        config=lambda _: {"lease_seconds": 300},
        patch=lambda config: {**config, "actions": ["access"]},
        actions=ALL,
        patched_actions=["access"],
        kind_actions=ALL,
        health="error",  # no agent has called in yet
    ),
    "files": KindCase(
        config=_files_config,
        patch=lambda config: {**config, "pattern": "2026-*.jsonl"},
        actions=["access", "erase", "verify_erasure"],
        patched_actions=["access", "erase", "verify_erasure"],
        kind_actions=["access", "erase", "verify_erasure"],
        health="ok",
    ),
    "manual": KindCase(
        config=lambda _: {
            "instructions": "Find the customer in the billing tool and do it.",
            "assignee_email": "billing@example.com",
        },
        patch=lambda config: {**config, "assignee_email": "finance@example.com"},
        actions=ALL,
        patched_actions=ALL,
        kind_actions=ALL,
        health="ok",
    ),
}


def _body(of: str, folder: Path, **overrides: Any) -> dict[str, Any]:
    """A valid body for a connector of the kind `of`; `overrides` replace keys."""
    case = CASES[of]
    body: dict[str, Any] = {
        "name": f"{of}-store",
        "kind": of,
        "config": case.config(folder),
        "data_categories": ["contact", "support_ticket"],
        "disclosure": DISCLOSURE,
    }
    if case.secrets:
        body["secrets"] = case.secrets
    body.update(overrides)
    return body


def _connector_events() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="connector.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def test_every_kind_of_the_registry_is_covered() -> None:
    assert set(CASES) == set(registry.KINDS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_connector_of_every_kind_lives_its_whole_life_over_the_api(
    make_api_client: MakeClient, tmp_path: Path, kind: str
) -> None:
    case = CASES[kind]
    _, http = make_api_client(READ, WRITE)

    # create
    created = http.post(URL, _body(kind, tmp_path), format="json")
    assert created.status_code == 201, created.json()
    connector = created.json()
    assert connector["kind"] == kind
    assert connector["actions"] == case.actions
    assert connector["kind_actions"] == case.kind_actions
    assert connector["secret_fields_set"] == sorted(case.secrets)
    assert connector["disclosure"] == DISCLOSURE
    assert connector["health"] == "unknown"
    detail_url = f"{URL}{connector['id']}/"

    # list (all, and by kind) and read
    listed = http.get(URL)
    by_kind = http.get(URL, {"kind": kind})
    read = http.get(detail_url)
    assert listed.status_code == by_kind.status_code == read.status_code == 200
    assert [c["id"] for c in listed.json()["results"]] == [connector["id"]]
    assert [c["id"] for c in by_kind.json()["results"]] == [connector["id"]]
    assert read.json() == connector

    # patch: the config, the categories and the switch
    patched = http.patch(
        detail_url,
        {
            "config": case.patch(connector["config"]),
            "data_categories": ["contact"],
            "enabled": False,
        },
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["actions"] == case.patched_actions
    assert patched.json()["kind_actions"] == case.kind_actions
    assert patched.json()["data_categories"] == ["contact"]
    assert patched.json()["enabled"] is False

    # test: the store is asked now, and the answer recorded
    tested = http.post(f"{detail_url}test/")
    assert tested.status_code == 200
    assert tested.json()["health"] == case.health, tested.json()
    assert http.get(detail_url).json()["health"] == case.health

    # delete
    deleted = http.delete(detail_url)
    assert deleted.status_code == 204
    assert http.get(detail_url).status_code == 404
    assert http.get(URL).json()["results"] == []
    assert not Connector.objects.exists()
    assert _connector_events() == [
        "connector.created",
        "connector.updated",
        "connector.health_checked",
        "connector.deleted",
    ]
    for response in (created, listed, read, patched):
        assert SECRET not in response.content.decode()


def test_a_list_holding_an_sql_connector_answers(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    # Regression: the list read an instance property on the class and
    # answered 500 after the connector was stored.
    _, http = make_api_client(READ, WRITE)
    plain = _body("sql", tmp_path, name="plain")
    plain["config"] = _without_flags(plain["config"])

    created = http.post(URL, plain, format="json")
    listed = http.get(URL, {"kind": "sql"})

    assert created.status_code == 201, created.json()
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert row["actions"] == ["access", "rectify", "erase", "verify_erasure"]
    assert row["kind_actions"] == ALL


@pytest.mark.parametrize("kind", sorted(registry.KINDS))
def test_kind_metadata_is_read_from_the_class(kind: str) -> None:
    kind_class = registry.kind_class(kind)

    assert isinstance(kind_class.actions, frozenset)
    assert kind_class.actions <= set(ALL)
    assert isinstance(kind_class.secret_fields, tuple)


def test_a_create_whose_answer_fails_leaves_no_connector(
    make_api_client: MakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an answer that cannot be rendered
    def broken(self: Any, connector: Connector) -> list[str]:
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(ConnectorSerializer, "get_actions", broken)
    _, http = make_api_client(READ, WRITE)

    # when
    with pytest.raises(RuntimeError, match="rendering failed"):
        http.post(URL, _body("manual", tmp_path), format="json")

    # then nothing was half written
    assert not Connector.objects.exists()
    assert _connector_events() == []


# --- refusals name the path and write nothing -----------------------------------------


@pytest.mark.parametrize("kind", sorted(CASES))
@pytest.mark.parametrize(
    "item", ["automated_decision_making", "transfers", "recipients", "source"]
)
def test_a_disclosure_missing_an_item_is_a_400_naming_it(
    make_api_client: MakeClient, tmp_path: Path, kind: str, item: str
) -> None:
    _, http = make_api_client(READ, WRITE)
    disclosure = {k: v for k, v in DISCLOSURE.items() if k != item}

    response = http.post(
        URL, _body(kind, tmp_path, disclosure=disclosure), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [f"disclosure.{item}"]
    assert not Connector.objects.exists()
    assert _connector_events() == []


@pytest.mark.parametrize(
    ("disclosure", "path"),
    [
        ({**DISCLOSURE, "transfers": {"not_applicable": " "}}, "disclosure.transfers"),
        (
            {**DISCLOSURE, "automated_decision_making": {"logic": "a score"}},
            "disclosure.automated_decision_making[0]",
        ),
        (
            {**DISCLOSURE, "recipients": [{"category": "partners"}]},
            "disclosure.recipients[0]",
        ),
        ({**DISCLOSURE, "purposes": []}, "disclosure.purposes"),
    ],
)
def test_a_disclosure_a_letter_cannot_use_is_a_400_naming_the_path(
    make_api_client: MakeClient,
    tmp_path: Path,
    disclosure: dict[str, Any],
    path: str,
) -> None:
    _, http = make_api_client(READ, WRITE)

    response = http.post(
        URL, _body("manual", tmp_path, disclosure=disclosure), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [path]
    assert not Connector.objects.exists()


def test_a_patch_that_drops_a_disclosure_item_is_a_400_and_nothing_changes(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, http = make_api_client(READ, WRITE)
    created = http.post(URL, _body("manual", tmp_path), format="json").json()
    before = Connector.objects.values().get(public_id=created["id"])
    disclosure = {k: v for k, v in DISCLOSURE.items() if k != "transfers"}

    response = http.patch(
        f"{URL}{created['id']}/", {"disclosure": disclosure}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["disclosure.transfers"]
    assert Connector.objects.values().get(public_id=created["id"]) == before


def test_a_connector_stored_incomplete_can_be_disabled_not_enabled(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    # given a connector stored before disclosures were checked
    _, http = make_api_client(READ, WRITE)
    created = http.post(URL, _body("manual", tmp_path), format="json").json()
    Connector.objects.filter(public_id=created["id"]).update(
        disclosure={"purposes": ["Billing"]}
    )
    url = f"{URL}{created['id']}/"

    disabled = http.patch(url, {"enabled": False}, format="json")
    enabled = http.patch(url, {"enabled": True}, format="json")

    assert disabled.status_code == 200
    assert enabled.status_code == 400
    assert list(enabled.json()["errors"]) == ["disclosure.recipients"]
    assert Connector.objects.get(public_id=created["id"]).enabled is False


def test_a_create_without_a_disclosure_is_a_400(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, http = make_api_client(READ, WRITE)
    body = _body("manual", tmp_path)
    del body["disclosure"]

    response = http.post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["disclosure"]
    assert not Connector.objects.exists()


@pytest.mark.parametrize("kind", ["ftp", "", "SQL"])
def test_an_unknown_kind_is_a_400_naming_kind(
    make_api_client: MakeClient, tmp_path: Path, kind: str
) -> None:
    _, http = make_api_client(READ, WRITE)

    response = http.post(URL, _body("manual", tmp_path, kind=kind), format="json")

    assert response.status_code == 400
    assert "kind" in response.json()["errors"]
    assert not Connector.objects.exists()


@pytest.mark.parametrize("kind", sorted(CASES))
def test_an_unknown_secret_is_a_400_naming_it(
    make_api_client: MakeClient, tmp_path: Path, kind: str
) -> None:
    _, http = make_api_client(READ, WRITE)
    body = _body(kind, tmp_path, secrets={**CASES[kind].secrets, "api_token": SECRET})

    response = http.post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["secrets.api_token"]
    assert SECRET not in response.content.decode()
    assert not Connector.objects.exists()


@pytest.mark.parametrize("kind", ["sql", "http"])
def test_secrets_are_never_echoed_back(
    make_api_client: MakeClient, tmp_path: Path, kind: str
) -> None:
    _, http = make_api_client(READ, WRITE)
    created = http.post(URL, _body(kind, tmp_path), format="json")
    url = f"{URL}{created.json()['id']}/"
    (name,) = CASES[kind].secrets

    answers = [
        created,
        http.get(URL),
        http.get(url),
        http.patch(url, {"secrets": {name: SECRET + "-rotated"}}, format="json"),
        http.post(f"{url}test/"),
    ]

    for answer in answers:
        assert answer.status_code in (200, 201)
        assert SECRET not in answer.content.decode()
    assert answers[3].json()["secret_fields_set"] == [name]
    assert Connector.objects.get().secrets == {name: SECRET + "-rotated"}


# --- delete ---------------------------------------------------------------------------


def test_a_connector_a_request_refers_to_is_not_deleted(
    make_api_client: MakeClient, tmp_path: Path, make_request: Callable[..., Any]
) -> None:
    # given a store that a request was fanned out to
    _, http = make_api_client(READ, WRITE)
    created = http.post(URL, _body("manual", tmp_path), format="json").json()
    make_request(kind="access", verified=True)
    before = Connector.objects.values().get(public_id=created["id"])

    # when
    response = http.delete(f"{URL}{created['id']}/")

    # then
    assert response.status_code == 409
    assert "disable it instead" in response.json()["detail"]
    assert Connector.objects.values().get(public_id=created["id"]) == before
    assert "connector.deleted" not in _connector_events()


def test_a_pull_connector_goes_once_its_agent_token_is_revoked(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    # given a pull connector whose agent called in
    _, http = make_api_client(READ, WRITE)
    created = http.post(URL, _body("pull", tmp_path), format="json").json()
    url = f"{URL}{created['id']}/"
    connector = Connector.objects.get(public_id=created["id"])
    client, token = api_client_create(
        actor=actor_system("tests"),
        name="crm-agent",
        scopes=["connectors:agent"],
        connector=connector,
    )
    agent = APIClient()
    agent.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert agent.get("/api/v1/agent/jobs/").status_code == 200
    assert http.post(f"{url}test/").json()["health"] == "ok"

    # when deleted with the token live, then once it is revoked
    refused = http.delete(url)
    api_client_revoke(actor=actor_system("tests"), client=client)
    deleted = http.delete(url)

    # then
    assert refused.status_code == 409
    assert "revoke them first" in refused.json()["detail"]
    assert deleted.status_code == 204
    assert agent.get("/api/v1/agent/jobs/").status_code == 401
    assert not ApiClient.objects.filter(name="crm-agent").exists()
    event = AuditEvent.objects.get(action="connector.deleted")
    assert event.data == {"name": "pull-store", "kind": "pull", "agents": ["crm-agent"]}


def test_a_read_token_cannot_delete_and_nothing_changes(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, writer = make_api_client(READ, WRITE)
    created = writer.post(URL, _body("manual", tmp_path), format="json").json()
    _, reader = make_api_client(READ)

    response = reader.delete(f"{URL}{created['id']}/")

    assert response.status_code == 403
    assert Connector.objects.filter(public_id=created["id"]).exists()
    assert "connector.deleted" not in _connector_events()
