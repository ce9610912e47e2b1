"""The connectors API over HTTP: CRUD, field paths, write-only secrets, scopes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.db import connection
from rest_framework.test import APIClient

from audit.models import AuditEvent
from connectors import registry
from connectors.base import ConfigError, ConnectorKind
from connectors.models import Connector
from tests.connectors.conftest import Helpdesk, helpdesk_config
from tests.disclosure import CATEGORIES, DISCLOSURE

URL = "/api/v1/connectors/"
READ, WRITE = "connectors:read", "connectors:write"
SIGNING_KEY = "whsec-9f8e7d6c5b4a-never-returned"

MakeClient = Callable[..., tuple[Any, APIClient]]


class WebhookStandIn(ConnectorKind):
    """Takes one secret, like a webhook's signing key; its own config rules."""

    kind: ClassVar[str] = "http"
    label: ClassVar[str] = "Stand-in webhook"
    secret_fields: ClassVar[tuple[str, ...]] = ("signing_key",)

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        config = super().validate_config(config)
        if not isinstance(config.get("url"), str):
            raise ConfigError("a URL is required", field="config.url")
        return config


@pytest.fixture
def webhook_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.KINDS, "http", f"{__name__}.WebhookStandIn")


def _files_body(folder: Path, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "chats",
        "kind": "files",
        "config": {
            "folder": str(folder),
            "identity": {"email": "customer.email"},
            "text_fields": ["messages[].text"],
            "erase": "redact_pii",
        },
        "data_categories": ["ai_conversation"],
        "disclosure": DISCLOSURE,
    }
    body.update(overrides)
    return body


def _webhook_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "crm-hook",
        "kind": "http",
        "config": {"url": "https://crm.example.com/dsr"},
        "secrets": {"signing_key": SIGNING_KEY},
        "data_categories": CATEGORIES,
        "disclosure": DISCLOSURE,
    }
    body.update(overrides)
    return body


def _create(http: APIClient, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


# --- CRUD -----------------------------------------------------------------------------


def test_create_list_get_and_patch_a_files_connector(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, http = make_api_client(READ, WRITE)

    created = _create(http, _files_body(tmp_path))
    listed = http.get(URL).json()
    detail = http.get(f"{URL}{created['id']}/").json()
    patched = http.patch(
        f"{URL}{created['id']}/", {"enabled": False}, format="json"
    ).json()

    assert created["kind"] == "files"
    assert created["config"]["pattern"] == "*.jsonl"  # defaults spelled out
    assert created["health"] == "unknown"
    assert created["secret_fields_set"] == []
    assert created["actions"] == ["access", "erase", "verify_erasure"]
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == created["id"]
    assert detail["disclosure"] == DISCLOSURE
    assert patched["enabled"] is False
    assert Connector.objects.get(public_id=created["id"]).enabled is False


def test_list_filters_by_kind_and_enabled(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, http = make_api_client(READ, WRITE)
    _create(http, _files_body(tmp_path, name="chats-on"))
    _create(http, _files_body(tmp_path, name="chats-off", enabled=False))
    _create(
        http,
        {
            "name": "billing",
            "kind": "manual",
            "config": {"instructions": "Flag the account in the billing system."},
            "data_categories": ["billing"],
            "disclosure": DISCLOSURE,
        },
    )

    names = [c["name"] for c in http.get(URL, {"kind": "files"}).json()["results"]]
    enabled = [c["name"] for c in http.get(URL, {"enabled": "false"}).json()["results"]]

    assert names == ["chats-off", "chats-on"]
    assert enabled == ["chats-off"]


# --- errors name the field path -------------------------------------------------------


def test_a_bad_files_config_is_a_400_naming_the_path(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, http = make_api_client(READ, WRITE)
    body = _files_body(tmp_path)
    del body["config"]["folder"]

    response = http.post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["config.folder"]
    assert not Connector.objects.exists()


def test_a_bad_sql_config_is_a_400_naming_the_table(
    make_api_client: MakeClient,
) -> None:
    try:
        registry.kind_class("sql")
    except ImportError:
        pytest.skip("the sql kind is not installed yet")
    _, http = make_api_client(READ, WRITE)
    body = {
        "name": "helpdesk",
        "kind": "sql",
        "config": {
            "dsn": "postgresql://127.0.0.1/supportdesk",
            # neither identity columns nor a parent: nothing reaches the subject
            "tables": [{"table": "customers", "key": "id", "erase": "delete"}],
        },
        "data_categories": CATEGORIES,
        "disclosure": DISCLOSURE,
    }

    response = http.post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["config.tables[0].identity"]
    assert not Connector.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "ftp"}, "kind"),
        ({"name": "not a slug"}, "name"),
        ({"data_categories": ["ok", ""]}, "data_categories[1]"),
        ({"disclosure": {"lawful_basis": "x"}}, "disclosure.lawful_basis"),
        ({"secrets": {"password": "x"}}, "secrets.password"),  # files takes none
        ({"colour": "blue"}, "colour"),
    ],
)
def test_other_bad_input_is_a_400_naming_the_field(
    make_api_client: MakeClient,
    tmp_path: Path,
    change: dict[str, Any],
    field: str,
) -> None:
    _, http = make_api_client(READ, WRITE)

    response = http.post(URL, _files_body(tmp_path, **change), format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Connector.objects.exists()


def test_a_bad_patch_is_a_400_and_nothing_changes(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, http = make_api_client(READ, WRITE)
    created = _create(http, _files_body(tmp_path))
    before = Connector.objects.values().get(public_id=created["id"])

    response = http.patch(
        f"{URL}{created['id']}/",
        {"config": {"folder": "relative/path", "identity": {"email": "e"}}},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["config.folder"]
    assert Connector.objects.values().get(public_id=created["id"]) == before


# --- secrets are write-only -----------------------------------------------------------


def test_secrets_go_in_and_never_come_out(
    make_api_client: MakeClient, webhook_kind: None
) -> None:
    _, http = make_api_client(READ, WRITE)

    created = _create(http, _webhook_body())
    detail = http.get(f"{URL}{created['id']}/")
    listed = http.get(URL)
    patched = http.patch(
        f"{URL}{created['id']}/",
        {"secrets": {"signing_key": SIGNING_KEY + "-rotated"}},
        format="json",
    )

    assert created["secret_fields_set"] == ["signing_key"]
    assert created["accepted_secret_fields"] == ["signing_key"]
    for response in (detail, listed, patched):
        assert response.status_code == 200
        assert SIGNING_KEY not in response.content.decode()
        assert "secrets" not in response.content.decode().replace(
            "secret_fields_set", ""
        ).replace("accepted_secret_fields", "")
    connector = Connector.objects.get(public_id=created["id"])
    assert connector.secrets == {"signing_key": SIGNING_KEY + "-rotated"}
    # not in the audit log, and encrypted in the database column
    audit = json.dumps(list(AuditEvent.objects.values_list("data", flat=True)))
    assert SIGNING_KEY not in audit
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secrets FROM {Connector._meta.db_table} WHERE id = %s",
            [connector.pk],
        )
        raw = cursor.fetchone()[0]
    assert SIGNING_KEY not in raw
    assert "signing_key" not in raw


def test_a_patch_without_secrets_keeps_them(
    make_api_client: MakeClient, webhook_kind: None
) -> None:
    _, http = make_api_client(READ, WRITE)
    created = _create(http, _webhook_body())

    response = http.patch(
        f"{URL}{created['id']}/", {"name": "crm-webhook"}, format="json"
    )

    assert response.json()["secret_fields_set"] == ["signing_key"]
    connector = Connector.objects.get(public_id=created["id"])
    assert connector.secrets == {"signing_key": SIGNING_KEY}


# --- health check ---------------------------------------------------------------------


def test_the_test_endpoint_runs_a_health_check(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, http = make_api_client(READ, WRITE)
    (tmp_path / "a.jsonl").write_text("")
    created = _create(http, _files_body(tmp_path))

    response = http.post(f"{URL}{created['id']}/test/")

    assert response.status_code == 200
    body = response.json()
    assert body["health"] == "ok"
    assert body["detail"] == "ok: 1 file(s) match *.jsonl"
    assert body["checked_at"]
    assert http.get(f"{URL}{created['id']}/").json()["health"] == "ok"
    assert AuditEvent.objects.filter(action="connector.health_checked").count() == 1


def test_the_test_endpoint_reports_a_missing_folder(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, http = make_api_client(READ, WRITE)
    created = _create(http, _files_body(tmp_path / "not-there"))

    response = http.post(f"{URL}{created['id']}/test/")

    assert response.status_code == 200
    assert response.json()["health"] == "error"
    assert "does not exist" in response.json()["detail"]
    connector = Connector.objects.get(public_id=created["id"])
    assert connector.health == "error"


# --- authentication, scopes, lookups --------------------------------------------------


def test_without_a_token_it_is_401(tmp_path: Path, db: Any) -> None:
    response = APIClient().post(URL, _files_body(tmp_path), format="json")

    assert response.status_code == 401
    assert not Connector.objects.exists()


def test_a_token_without_the_write_scope_creates_nothing(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, http = make_api_client("requests:read", READ)

    response = http.post(URL, _files_body(tmp_path), format="json")

    assert response.status_code == 403
    assert not Connector.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="connector.").exists()


def test_a_read_token_can_neither_patch_nor_test_and_nothing_changes(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, writer = make_api_client(READ, WRITE)
    created = _create(writer, _files_body(tmp_path))
    before = Connector.objects.values().get(public_id=created["id"])
    _, reader = make_api_client(READ)

    patched = reader.patch(f"{URL}{created['id']}/", {"enabled": False}, format="json")
    tested = reader.post(f"{URL}{created['id']}/test/")

    assert patched.status_code == 403
    assert tested.status_code == 403
    assert Connector.objects.values().get(public_id=created["id"]) == before
    assert not AuditEvent.objects.filter(action="connector.updated").exists()


def test_a_token_without_the_read_scope_cannot_list(
    make_api_client: MakeClient,
) -> None:
    _, http = make_api_client("requests:read")

    assert http.get(URL).status_code == 403


def test_a_write_token_can_patch_without_the_read_scope(
    make_api_client: MakeClient, tmp_path: Path
) -> None:
    _, writer = make_api_client(WRITE)
    created = _create(writer, _files_body(tmp_path))

    response = writer.patch(f"{URL}{created['id']}/", {"enabled": False}, format="json")

    assert response.status_code == 200
    assert response.json()["enabled"] is False


@pytest.mark.parametrize(
    "connector_id", ["0b7e5f3a-2c4d-4e6f-8a9b-1c2d3e4f5a6b", "42", "not-a-uuid"]
)
def test_an_unknown_connector_is_404(
    make_api_client: MakeClient, connector_id: str
) -> None:
    _, http = make_api_client(READ, WRITE)

    assert http.get(f"{URL}{connector_id}/").status_code == 404
    assert http.post(f"{URL}{connector_id}/test/").status_code == 404


def test_the_schema_documents_the_connectors_api(db: Any) -> None:
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/connectors/"])
    assert {"get", "patch"} <= set(paths["/api/v1/connectors/{id}/"])
    assert "post" in paths["/api/v1/connectors/{id}/test/"]
    connector = schema["components"]["schemas"]["Connector"]["properties"]
    assert "secret_fields_set" in connector
    assert "secrets" not in connector


def test_the_test_endpoint_lists_missing_identity_indexes_as_warnings(
    make_api_client: MakeClient, postgres_store_dsn: tuple[str, str]
) -> None:
    # given: a PostgreSQL store without the lower(email) indexes
    dsn, password = postgres_store_dsn
    store = Helpdesk(kind="postgresql", dsn=dsn, password=password)
    store.build()
    _, http = make_api_client(READ, WRITE)
    body = _files_body(Path("."), name="helpdesk", kind="sql")
    body["config"] = helpdesk_config(dsn)
    body["data_categories"] = ["contact"]
    if password:
        body["secrets"] = {"password": password}
    created = _create(http, body)

    # when
    response = http.post(f"{URL}{created['id']}/test/")

    # then: healthy, with each missing index and the statement to run
    assert response.status_code == 200
    answer = response.json()
    assert answer["health"] == "ok"
    assert answer["detail"].endswith("4 identity column(s) without a usable index")
    assert {
        "message": 'customers.email: no index serves the email match lower("email"); '
        "each request scans the whole table",
        "fix": 'CREATE INDEX CONCURRENTLY "customers_email_lower" ON "customers" '
        '(lower("email"))',
    } in answer["warnings"]
    assert len(answer["warnings"]) == 4
    listed = http.get(f"{URL}{created['id']}/").json()
    assert listed["health_warnings"] == answer["warnings"]
