"""Every connector kind through the API, the way an integration calls it: a
bearer token with the connector scopes, JSON in, JSON out. Each kind of the
registry is created, listed, read, patched, tested and deleted with a
realistic config (tests.connectors.api_kinds)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from connectors import registry
from connectors.api.serializers import ConnectorSerializer
from connectors.models import Connector
from tests.connectors.api_kinds import (
    ALL,
    CASES,
    READ,
    SECRET,
    URL,
    WRITE,
    connector_body,
    connector_events,
    without_flags,
)
from tests.disclosure import DISCLOSURE

MakeClient = Callable[..., tuple[Any, APIClient]]


def test_every_kind_of_the_registry_is_covered() -> None:
    assert set(CASES) == set(registry.KINDS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_connector_of_every_kind_lives_its_whole_life_over_the_api(
    make_api_client: MakeClient, tmp_path: Path, kind: str
) -> None:
    case = CASES[kind]
    _, http = make_api_client(READ, WRITE)

    # create
    created = http.post(URL, connector_body(kind, tmp_path), format="json")
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
    assert connector_events() == [
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
    plain = connector_body("sql", tmp_path, name="plain")
    plain["config"] = without_flags(plain["config"])

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
        http.post(URL, connector_body("manual", tmp_path), format="json")

    # then nothing was half written
    assert not Connector.objects.exists()
    assert connector_events() == []
