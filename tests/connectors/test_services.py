"""Connector services: validation with field paths, write-only secrets, audit."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.actors import Actor, actor_for_user
from audit.models import AuditEvent
from connectors import registry
from connectors.base import (
    ConfigError,
    ConnectorError,
    ConnectorKind,
    HealthReport,
    HealthWarning,
)
from connectors.models import Connector
from connectors.services import (
    connector_check_health,
    connector_create,
    connector_set_enabled,
    connector_update,
)
from privacydesk.errors import NotPermitted, ValidationFailed
from tests.disclosure import CATEGORIES, DISCLOSURE

PASSWORD = "s3cret-Pa55word-never-shown"


class VaultKind(ConnectorKind):
    """A stand-in kind with secrets and a scriptable health check."""

    kind: ClassVar[str] = "http"
    label: ClassVar[str] = "Stand-in"
    secret_fields: ClassVar[tuple[str, ...]] = ("password", "api_key")
    health_answer: ClassVar[HealthReport | Exception] = HealthReport("ok: reachable")

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        config = super().validate_config(config)
        if not isinstance(config.get("url"), str):
            raise ConfigError("a URL is required", field="config.url")
        return config

    def health(self) -> HealthReport:
        if isinstance(self.health_answer, Exception):
            raise self.health_answer
        return self.health_answer


@pytest.fixture
def vault_kind(monkeypatch: pytest.MonkeyPatch) -> type[VaultKind]:
    """Put the stand-in in the registry's "http" slot (so these tests do not
    depend on the real webhook kind's config)."""
    monkeypatch.setitem(registry.KINDS, "http", f"{__name__}.VaultKind")
    return VaultKind


def _vault(actor: Actor, **overrides: Any) -> Connector:
    params: dict[str, Any] = {
        "actor": actor,
        "name": "crm",
        "kind": "http",
        "config": {"url": "https://crm.example.com/dsr"},
        "secrets": {"password": PASSWORD},
        "data_categories": ["contact", "Support_Ticket", "contact"],
        "disclosure": {
            **DISCLOSURE,
            "purposes": ["Customer support"],
            "retention": "Two years after the last ticket",
        },
    }
    params.update(overrides)
    return connector_create(**params)


def _audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values("action", "data")))


def _raw_secrets(connector: Connector) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secrets FROM {Connector._meta.db_table} WHERE id = %s",
            [connector.pk],
        )
        return cursor.fetchone()[0]


# --- create ---------------------------------------------------------------------------


def test_create_cleans_stores_and_audits_without_secrets(
    officer_actor: Actor, vault_kind: Any
) -> None:
    connector = _vault(officer_actor)

    connector.refresh_from_db()
    assert connector.secrets == {"password": PASSWORD}
    assert connector.data_categories == ["contact", "support_ticket"]
    assert connector.disclosure["purposes"] == ["Customer support"]
    assert PASSWORD not in _raw_secrets(connector)  # encrypted at rest
    event = AuditEvent.objects.get(action="connector.created")
    assert event.actor == officer_actor.ref
    assert event.data["secret_fields_set"] == ["password"]
    assert PASSWORD not in _audit_text()
    assert "crm.example.com" not in _audit_text()  # config only as a digest


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "Has Spaces"}, "name"),
        ({"name": ""}, "name"),
        ({"kind": "ftp"}, "kind"),
        ({"config": {}}, "config.url"),
        ({"config": ["url"]}, "config"),
        ({"secrets": {"token": "x"}}, "secrets.token"),
        ({"data_categories": "contact"}, "data_categories"),
        ({"data_categories": ["contact", "has space"]}, "data_categories[1]"),
        ({"disclosure": {"purpose": "typo"}}, "disclosure.purpose"),
        ({"disclosure": {"recipients": ["ok", 3]}}, "disclosure.recipients[1]"),
        ({"disclosure": {"retention": ["not text"]}}, "disclosure.retention"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_create_refuses_bad_input_naming_the_field_and_writes_nothing(
    officer_actor: Actor, vault_kind: Any, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as error:
        _vault(officer_actor, **overrides)

    assert error.value.field == field
    assert not Connector.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="connector.").exists()


def test_names_are_unique_whatever_their_case(
    officer_actor: Actor, vault_kind: Any
) -> None:
    _vault(officer_actor, name="crm")

    with pytest.raises(ValidationFailed) as error:
        _vault(officer_actor, name="CRM")

    assert error.value.field == "name"
    assert Connector.objects.count() == 1


def test_a_files_connector_names_the_path_inside_its_config(
    officer_actor: Actor,
) -> None:
    with pytest.raises(ConfigError) as error:
        connector_create(
            actor=officer_actor,
            name="chats",
            kind="files",
            config={"identity": {"email": "customer.email"}},
        )

    assert error.value.field == "config.folder"


@pytest.mark.parametrize("role", ["agent", "auditor"])
def test_only_officers_manage_connectors_and_nothing_changes(
    request: pytest.FixtureRequest, role: str, vault_kind: Any
) -> None:
    actor = actor_for_user(request.getfixturevalue(role))

    with pytest.raises(NotPermitted):
        _vault(actor)

    assert not Connector.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="connector.").exists()


# --- update ---------------------------------------------------------------------------


def test_secrets_merge_given_keys_replace_null_removes_omitted_stay(
    officer_actor: Actor, vault_kind: Any
) -> None:
    connector = _vault(officer_actor, secrets={"password": PASSWORD, "api_key": "k1"})

    connector_update(
        actor=officer_actor, connector=connector, secrets={"api_key": "k2-rotated"}
    )
    connector.refresh_from_db()
    assert connector.secrets == {"password": PASSWORD, "api_key": "k2-rotated"}

    connector_update(
        actor=officer_actor, connector=connector, secrets={"password": None}
    )
    connector.refresh_from_db()
    assert connector.secrets == {"api_key": "k2-rotated"}

    events = AuditEvent.objects.filter(action="connector.updated").order_by("sequence")
    assert [e.data["secrets_changed"] for e in events] == [["api_key"], ["password"]]
    assert "k2-rotated" not in _audit_text()
    assert PASSWORD not in _audit_text()


def test_update_is_idempotent_and_resets_health_when_the_config_changes(
    officer_actor: Actor, vault_kind: Any
) -> None:
    connector = _vault(officer_actor)
    connector_check_health(actor=officer_actor, connector=connector)
    new_config = {"url": "https://crm.example.com/v2/dsr"}

    for _ in range(2):
        connector = connector_update(
            actor=officer_actor, connector=connector, config=new_config, enabled=False
        )

    connector.refresh_from_db()
    assert connector.config == new_config
    assert not connector.enabled
    assert connector.health == "unknown"
    updates = AuditEvent.objects.filter(action="connector.updated")
    assert updates.count() == 1
    assert updates.get().data["fields"] == ["config", "enabled"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "files"}, "kind"),
        ({"name": "billing"}, "name"),
        ({"config": {"url": 5}}, "config.url"),
        ({"health": "ok"}, "health"),
    ],
)
def test_update_refuses_bad_changes_and_nothing_changes(
    officer_actor: Actor, vault_kind: Any, fields: dict[str, Any], field: str
) -> None:
    _vault(officer_actor, name="billing")
    connector = _vault(officer_actor)
    before = Connector.objects.values().get(pk=connector.pk)

    with pytest.raises(ValidationFailed) as error:
        connector_update(actor=officer_actor, connector=connector, **fields)

    assert error.value.field == field
    assert Connector.objects.values().get(pk=connector.pk) == before
    assert not AuditEvent.objects.filter(action="connector.updated").exists()


def test_an_agent_may_not_update_and_nothing_changes(
    officer_actor: Actor, agent: Any, vault_kind: Any
) -> None:
    connector = _vault(officer_actor)

    with pytest.raises(NotPermitted):
        connector_update(
            actor=actor_for_user(agent), connector=connector, secrets={"password": "x"}
        )

    connector.refresh_from_db()
    assert connector.secrets == {"password": PASSWORD}


def test_enable_and_disable_are_audited_once(
    officer_actor: Actor, vault_kind: Any
) -> None:
    connector = _vault(officer_actor)

    for _ in range(2):
        connector = connector_set_enabled(
            actor=officer_actor, connector=connector, enabled=False
        )

    assert not connector.enabled
    assert AuditEvent.objects.filter(action="connector.disabled").count() == 1


# --- health ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "health", "detail"),
    [
        (HealthReport("ok: reachable"), "ok", "ok: reachable"),
        (ConnectorError("login refused", permanent=True), "error", "login refused"),
        (RuntimeError(f"dsn with {PASSWORD}"), "error", "unexpected RuntimeError"),
    ],
)
def test_a_health_check_is_recorded_and_audited(
    officer_actor: Actor,
    vault_kind: Any,
    monkeypatch: pytest.MonkeyPatch,
    answer: Any,
    health: str,
    detail: str,
) -> None:
    connector = _vault(officer_actor)
    monkeypatch.setattr(VaultKind, "health_answer", answer)

    checked = connector_check_health(actor=officer_actor, connector=connector)

    connector.refresh_from_db()
    assert (connector.health, connector.health_detail) == (health, detail)
    assert connector.health_checked_at == checked.health_checked_at
    event = AuditEvent.objects.get(action="connector.health_checked")
    assert event.data == {"health": health, "detail": detail, "warnings": 0}
    assert PASSWORD not in _audit_text()


def test_warnings_leave_the_store_healthy_and_are_recorded_until_the_config_changes(
    officer_actor: Actor, vault_kind: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    connector = _vault(officer_actor)
    warning = HealthWarning("t.c: no index serves the match", fix="CREATE INDEX i")
    monkeypatch.setattr(VaultKind, "health_answer", HealthReport("ok", (warning,)))

    # when
    connector_check_health(actor=officer_actor, connector=connector)

    # then
    connector.refresh_from_db()
    assert connector.health == "ok"
    assert connector.health_warnings == [
        {"message": "t.c: no index serves the match", "fix": "CREATE INDEX i"}
    ]
    event = AuditEvent.objects.get(action="connector.health_checked")
    assert event.data["warnings"] == 1

    # when: another configuration is not what was checked
    connector_update(
        actor=officer_actor,
        connector=connector,
        config={"url": "https://elsewhere.example/hook"},
    )

    # then
    connector.refresh_from_db()
    assert connector.health_warnings == []


def test_a_files_connector_on_a_missing_folder_is_unhealthy(
    officer_actor: Actor, tmp_path: Path
) -> None:
    connector = connector_create(
        actor=officer_actor,
        name="chats",
        kind="files",
        config={"folder": str(tmp_path / "gone"), "identity": {"email": "c.email"}},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )

    checked = connector_check_health(actor=officer_actor, connector=connector)

    assert checked.health == "error"
    assert "does not exist" in checked.health_detail


def test_an_auditor_may_not_run_a_health_check_and_nothing_is_recorded(
    officer_actor: Actor, auditor: Any, vault_kind: Any
) -> None:
    connector = _vault(officer_actor)

    with pytest.raises(NotPermitted):
        connector_check_health(actor=actor_for_user(auditor), connector=connector)

    connector.refresh_from_db()
    assert connector.health == "unknown"
    assert connector.health_checked_at is None
    assert not AuditEvent.objects.filter(action="connector.health_checked").exists()


def test_the_test_connector_command_checks_and_fails_loudly(
    officer_actor: Actor, tmp_path: Path
) -> None:
    for name, folder in (("chats", tmp_path), ("old-chats", tmp_path / "gone")):
        connector_create(
            actor=officer_actor,
            name=name,
            kind="files",
            config={"folder": str(folder), "identity": {"email": "c.email"}},
            data_categories=CATEGORIES,
            disclosure=DISCLOSURE,
        )
    out = StringIO()

    call_command("test_connector", "chats", stdout=out)
    with pytest.raises(CommandError, match="1 connector"):
        call_command("test_connector", stdout=out)

    assert "chats (files): ok" in out.getvalue()
    assert "old-chats (files): error" in out.getvalue()
    assert Connector.objects.get(name="old-chats").health == "error"


def test_the_test_connector_command_prints_warnings_and_still_succeeds(
    officer_actor: Actor, vault_kind: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    _vault(officer_actor)
    warning = HealthWarning("t.c: no index serves the match", fix="CREATE INDEX i")
    monkeypatch.setattr(VaultKind, "health_answer", HealthReport("ok", (warning,)))
    out = StringIO()

    # when: no CommandError, a warning is not a failure
    call_command("test_connector", "crm", stdout=out)

    # then
    assert "crm (http): ok - ok" in out.getvalue()
    assert "warning: t.c: no index serves the match" in out.getvalue()
    assert "fix: CREATE INDEX i" in out.getvalue()


def test_the_admin_shows_connectors_but_never_their_secrets(
    admin_client: Any, officer_actor: Actor, vault_kind: Any
) -> None:
    connector = _vault(officer_actor)

    listing = admin_client.get("/admin/connectors/connector/")
    detail = admin_client.get(f"/admin/connectors/connector/{connector.pk}/change/")
    checked = admin_client.post(
        "/admin/connectors/connector/",
        {"action": "check_health", "_selected_action": [connector.pk]},
    )

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert PASSWORD not in detail.content.decode()
    assert checked.status_code == 302
    assert AuditEvent.objects.filter(action="connector.health_checked").exists()
