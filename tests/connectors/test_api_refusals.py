"""What the connectors API refuses, for every kind: a disclosure an access
letter cannot use, an unknown kind or secret; and what it never does: echo a
secret, or delete a connector that requests or live agent tokens refer to.
Each refusal names the field path and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.models import ApiClient
from audit.accounts import api_client_create, api_client_revoke
from audit.models import AuditEvent
from connectors.models import Connector
from tests.connectors.api_kinds import (
    CASES,
    READ,
    SECRET,
    URL,
    WRITE,
    connector_body,
    connector_events,
)
from tests.disclosure import DISCLOSURE

MakeClient = Callable[..., tuple[Any, APIClient]]


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
        URL, connector_body(kind, tmp_path, disclosure=disclosure), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [f"disclosure.{item}"]
    assert not Connector.objects.exists()
    assert connector_events() == []


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
        URL, connector_body("manual", tmp_path, disclosure=disclosure), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [path]
    assert not Connector.objects.exists()


def test_a_patch_that_drops_a_disclosure_item_is_a_400_and_nothing_changes(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, http = make_api_client(READ, WRITE)
    created = http.post(URL, connector_body("manual", tmp_path), format="json").json()
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
    created = http.post(URL, connector_body("manual", tmp_path), format="json").json()
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
    body = connector_body("manual", tmp_path)
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

    response = http.post(
        URL, connector_body("manual", tmp_path, kind=kind), format="json"
    )

    assert response.status_code == 400
    assert "kind" in response.json()["errors"]
    assert not Connector.objects.exists()


@pytest.mark.parametrize("kind", sorted(CASES))
def test_an_unknown_secret_is_a_400_naming_it(
    make_api_client: MakeClient, tmp_path: Path, kind: str
) -> None:
    _, http = make_api_client(READ, WRITE)
    body = connector_body(
        kind, tmp_path, secrets={**CASES[kind].secrets, "bearer_token": SECRET}
    )

    response = http.post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["secrets.bearer_token"]
    assert SECRET not in response.content.decode()
    assert not Connector.objects.exists()


@pytest.mark.parametrize(
    "kind",
    [
        "sql",
        "http",
        "zendesk",
        "freshdesk",
        "intercom",
        "hubspot",
        "salesforce",
        "helpscout",
    ],
)
def test_secrets_are_never_echoed_back(
    make_api_client: MakeClient, tmp_path: Path, kind: str
) -> None:
    _, http = make_api_client(READ, WRITE)
    created = http.post(URL, connector_body(kind, tmp_path), format="json")
    url = f"{URL}{created.json()['id']}/"
    secrets = CASES[kind].secrets
    name = sorted(secrets)[-1]  # the one rotated (Help Scout: client_secret)

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
    assert answers[3].json()["secret_fields_set"] == sorted(secrets)
    assert Connector.objects.get().secrets == {**secrets, name: SECRET + "-rotated"}


# --- delete ---------------------------------------------------------------------------


def test_a_connector_a_request_refers_to_is_not_deleted(
    make_api_client: MakeClient, tmp_path: Path, make_request: Callable[..., Any]
) -> None:
    # given a store that a request was fanned out to
    _, http = make_api_client(READ, WRITE)
    created = http.post(URL, connector_body("manual", tmp_path), format="json").json()
    make_request(kind="access", verified=True)
    before = Connector.objects.values().get(public_id=created["id"])

    # when
    response = http.delete(f"{URL}{created['id']}/")

    # then
    assert response.status_code == 409
    assert "disable it instead" in response.json()["detail"]
    assert Connector.objects.values().get(public_id=created["id"]) == before
    assert "connector.deleted" not in connector_events()


def test_a_pull_connector_goes_once_its_agent_token_is_revoked(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    # given a pull connector whose agent called in
    _, http = make_api_client(READ, WRITE)
    created = http.post(URL, connector_body("pull", tmp_path), format="json").json()
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
    created = writer.post(URL, connector_body("manual", tmp_path), format="json").json()
    _, reader = make_api_client(READ)

    response = reader.delete(f"{URL}{created['id']}/")

    assert response.status_code == 403
    assert Connector.objects.filter(public_id=created["id"]).exists()
    assert "connector.deleted" not in connector_events()
