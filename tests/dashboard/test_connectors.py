"""Connectors in the dashboard: list, detail, create, edit, test, enable."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.models import Connector
from connectors.services import connector_create
from dsr.services.execution.running import task_run
from tests.connectors.conftest import Helpdesk, helpdesk_config
from tests.disclosure import DISCLOSURE

PASSWORD = "s3cret-Pa55word-do-not-show"
INSTRUCTIONS = "Open the billing system, find the customer by e-mail and flag them."
LIST = reverse("dashboard:connector_list")
NEW = reverse("dashboard:connector_new")


def _sql_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        # Nothing listens on port 1: the connection is refused at once.
        "dsn": "postgresql://privacy@127.0.0.1:1/helpdesk",
        "connect_timeout": 1,
        "tables": [
            {
                "table": "customers",
                "key": "id",
                "identity": {"email": "email"},
                "erase": {"email": "hash", "name": "null"},
            },
            {
                "table": "tickets",
                "key": "id",
                "parent": {"table": "customers", "column": "customer_id"},
                "erase": {"subject": "redact_pii"},
            },
            {"table": "ai_logs", "key": "id", "erase": "delete"},
        ],
    }
    config.update(overrides)
    return config


def _helpdesk() -> Connector:
    config = _sql_config()
    config["tables"][2]["identity"] = {"email": "customer_email"}
    return connector_create(
        actor=actor_system("tests"),
        name="helpdesk",
        kind="sql",
        config=config,
        secrets={"password": PASSWORD},
        data_categories=["contact", "support_ticket"],
        disclosure={
            **DISCLOSURE,
            "purposes": ["Answering support requests", "Quality review"],
            "retention": "Three years after the last ticket",
        },
    )


def _billing() -> Connector:
    return connector_create(
        actor=actor_system("tests"),
        name="billing",
        kind="manual",
        config={"instructions": INSTRUCTIONS},
        data_categories=["billing"],
        disclosure=DISCLOSURE,
    )


def _detail(connector: Connector) -> str:
    return reverse("dashboard:connector_detail", args=[connector.public_id])


def _edit(connector: Connector) -> str:
    return reverse("dashboard:connector_edit", args=[connector.public_id])


def _test(connector: Connector) -> str:
    return reverse("dashboard:connector_check", args=[connector.public_id])


def _enable(connector: Connector) -> str:
    return reverse("dashboard:connector_enable", args=[connector.public_id])


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "mode": "json",  # the JSON form ("edit as JSON"); fields: test_connector_form
        "name": "billing",
        "kind": "manual",
        "config": json.dumps({"instructions": INSTRUCTIONS}),
        "secrets": "",
        "data_categories": "billing, invoices",
        "disclosure": json.dumps({**DISCLOSURE, "purposes": ["Invoicing"]}),
        "enabled": "on",
    }
    data.update(overrides)
    return data


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _snapshot() -> tuple:
    return (
        list(
            Connector.objects.order_by("pk").values_list(
                "name", "config", "enabled", "health", "data_categories"
            )
        ),
        [c.secrets for c in Connector.objects.order_by("pk")],
        AuditEvent.objects.count(),
    )


# --- List and detail ---------------------------------------------------------------


def test_list_shows_each_connector_with_kind_state_health_and_categories(
    officer_client: Client, db: None
) -> None:
    # given
    _helpdesk()
    _billing()

    # when
    response = officer_client.get(LIST)

    # then
    page = response.content.decode()
    assert response.status_code == 200
    for text in (
        "helpdesk",
        "SQL database",
        "billing",
        "Manual task",
        "Enabled",
        "Not checked",
        "support_ticket",
        "+ Add connector",
        f'href="{LIST}" aria-current="page"',
    ):
        assert text in page, text
    assert PASSWORD not in page


def test_empty_list_says_requests_are_handled_by_hand(officer_client: Client) -> None:
    page = officer_client.get(LIST).content.decode()

    assert "No connectors yet" in page
    assert "handled by hand" in page


def test_detail_shows_config_secret_names_disclosure_and_recent_tasks(
    officer_client: Client, make_request
) -> None:
    # given a store with a secret, and a request that reached a manual store
    helpdesk = _helpdesk()
    billing = _billing()
    Connector.objects.filter(pk=helpdesk.pk).update(enabled=False)
    dsr = make_request(kind="restriction", verified=True)
    task_run(task_id=dsr.tasks.get().pk)

    # when
    helpdesk_page = officer_client.get(_detail(helpdesk)).content.decode()
    billing_page = officer_client.get(_detail(billing)).content.decode()

    # then
    assert "&quot;table&quot;: &quot;customers&quot;" in helpdesk_page  # pretty JSON
    assert "<code>password</code> <span" in helpdesk_page  # the name only
    assert PASSWORD not in helpdesk_page
    assert "Answering support requests" in helpdesk_page
    assert "Three years after the last ticket" in helpdesk_page
    assert "No request has reached this store yet." in helpdesk_page
    assert dsr.reference in billing_page
    assert "Restrict processing" in billing_page
    assert "Test connection" in billing_page


def test_detail_never_shows_a_password_that_slipped_into_the_config(
    officer_client: Client, db: None
) -> None:
    # given a config written around the service, with a password in the URL
    helpdesk = _helpdesk()
    Connector.objects.filter(pk=helpdesk.pk).update(
        config=_sql_config(
            dsn=f"postgresql://privacy:{PASSWORD}@db/helpdesk", api_token="tok-123"
        )
    )

    # when
    page = officer_client.get(_detail(helpdesk)).content.decode()

    # then
    assert PASSWORD not in page
    assert "tok-123" not in page
    assert "postgresql://privacy:••••••@db/helpdesk" in page


def test_unknown_connector_is_404(officer_client: Client) -> None:
    response = officer_client.get(
        "/dashboard/connectors/00000000-0000-0000-0000-000000000000/"
    )

    assert response.status_code == 404


# --- Create and edit ------------------------------------------------------------------


def test_create_a_manual_connector(officer_client: Client) -> None:
    # when
    response = officer_client.post(NEW, _form(), follow=True)

    # then
    connector = Connector.objects.get()
    assert connector.name == "billing"
    assert connector.kind == "manual"
    assert connector.config == {"instructions": INSTRUCTIONS}
    assert connector.data_categories == ["billing", "invoices"]
    assert connector.disclosure == {**DISCLOSURE, "purposes": ["Invoicing"]}
    assert connector.enabled
    assert response.redirect_chain[-1][0] == _detail(connector)
    assert any("Connector billing added" in m for m in _messages(response))
    assert AuditEvent.objects.filter(action="connector.created").exists()


def test_a_config_error_is_shown_with_its_path(officer_client: Client) -> None:
    # given an SQL map whose third table is reachable from nothing
    data = _form(
        name="helpdesk",
        kind="sql",
        config=json.dumps(_sql_config()),
        secrets=json.dumps({"password": PASSWORD}),
    )

    # when
    response = officer_client.post(NEW, data)

    # then
    page = response.content.decode()
    assert response.status_code == 400
    errors = response.context["form"].errors["config"]
    assert errors[0].startswith("config.tables[2].identity: ")
    assert "config.tables[2].identity" in page
    assert PASSWORD not in page  # secrets are not filled back in
    assert not Connector.objects.exists()


def test_invalid_json_says_where_it_breaks(officer_client: Client) -> None:
    response = officer_client.post(NEW, _form(config='{"instructions": '))

    assert response.status_code == 400
    assert "not valid JSON" in response.context["form"].errors["config"][0]
    assert "line 1" in response.context["form"].errors["config"][0]
    assert not Connector.objects.exists()


def test_service_errors_outside_the_config_land_on_their_field(
    officer_client: Client, db: None
) -> None:
    _billing()

    response = officer_client.post(
        NEW, _form(name="crm", disclosure=json.dumps({"purposes": [3]}))
    )

    assert response.context["form"].errors["disclosure"] == [
        "disclosure.purposes[0]: must be a text or an object"
    ]
    taken = officer_client.post(NEW, _form())
    assert "exists" in taken.context["form"].errors["name"][0]
    assert Connector.objects.count() == 1


def test_a_disclosure_a_letter_cannot_use_is_refused_with_its_path(
    officer_client: Client, db: None
) -> None:
    # given a disclosure that forgets the transfers to third countries
    disclosure = {k: v for k, v in DISCLOSURE.items() if k != "transfers"}

    # when
    response = officer_client.post(NEW, _form(disclosure=json.dumps(disclosure)))

    # then
    assert response.status_code == 400
    assert (
        response.context["form"]
        .errors["disclosure"][0]
        .startswith("disclosure.transfers: is empty")
    )
    assert not Connector.objects.exists()


def test_edit_form_never_shows_secrets_and_blank_keeps_them(
    officer_client: Client, db: None
) -> None:
    # given
    helpdesk = _helpdesk()
    form_page = officer_client.get(_edit(helpdesk) + "?mode=json").content.decode()
    config = helpdesk.config

    # when saved with the secrets box left blank
    response = officer_client.post(
        _edit(helpdesk),
        _form(
            name="helpdesk-db",
            kind="sql",
            config=json.dumps(config),
            secrets="",
            data_categories="contact",
            disclosure=json.dumps(helpdesk.disclosure),
            enabled="",
        ),
        follow=True,
    )

    # then
    assert PASSWORD not in form_page
    assert "Leave blank to keep the stored secrets" in form_page
    assert "<code>password</code>" in form_page  # which secret is set
    helpdesk.refresh_from_db()
    assert helpdesk.name == "helpdesk-db"
    assert helpdesk.secrets == {"password": PASSWORD}
    assert helpdesk.data_categories == ["contact"]
    assert helpdesk.disclosure["purposes"] == [
        "Answering support requests",
        "Quality review",
    ]
    assert not helpdesk.enabled
    assert PASSWORD not in response.content.decode()


def test_edit_replaces_a_secret_when_one_is_given(
    officer_client: Client, db: None
) -> None:
    helpdesk = _helpdesk()

    officer_client.post(
        _edit(helpdesk),
        _form(
            name="helpdesk",
            config=json.dumps(helpdesk.config),
            secrets=json.dumps({"password": "new-one"}),
        ),
    )

    helpdesk.refresh_from_db()
    assert helpdesk.secrets == {"password": "new-one"}
    assert helpdesk.kind == "sql"  # the kind field is fixed on edit


def test_edit_with_a_bad_config_changes_nothing_and_hides_typed_secrets(
    officer_client: Client, db: None
) -> None:
    helpdesk = _helpdesk()
    before = _snapshot()

    response = officer_client.post(
        _edit(helpdesk),
        _form(
            name="helpdesk",
            config=json.dumps(_sql_config()),
            secrets=json.dumps({"password": "typed-but-refused"}),
        ),
    )

    assert response.status_code == 400
    assert "config.tables[2].identity" in response.content.decode()
    assert "typed-but-refused" not in response.content.decode()
    assert _snapshot() == before


# --- Test connection, enable ---------------------------------------------------


def test_test_connection_shows_ok(officer_client: Client, db: None) -> None:
    billing = _billing()

    response = officer_client.post(_test(billing), follow=True)

    billing.refresh_from_db()
    assert billing.health == "ok"
    assert billing.health_checked_at is not None
    assert any(
        "Connection to billing works: ok: tasks go to the privacy team" in m
        for m in _messages(response)
    )
    assert "Healthy" in response.content.decode()


def test_test_connection_shows_the_error(officer_client: Client, db: None) -> None:
    helpdesk = _helpdesk()

    response = officer_client.post(_test(helpdesk), follow=True)

    helpdesk.refresh_from_db()
    assert helpdesk.health == "error"
    assert any("Connection to helpdesk failed:" in m for m in _messages(response))
    page = response.content.decode()
    assert "Failing" in page
    assert helpdesk.health_detail in page
    assert PASSWORD not in page


def test_a_connector_stored_incomplete_is_not_enabled_again(
    officer_client: Client, db: None
) -> None:
    # given a connector stored before disclosures were checked, now disabled
    billing = _billing()
    Connector.objects.filter(pk=billing.pk).update(
        enabled=False, disclosure={"purposes": ["Invoicing"]}
    )

    # when
    response = officer_client.post(_enable(billing), {"enabled": "on"}, follow=True)

    # then
    billing.refresh_from_db()
    assert not billing.enabled
    assert any(
        "stays disabled: disclosure.recipients" in m for m in _messages(response)
    )


def test_disable_and_enable(officer_client: Client, db: None) -> None:
    billing = _billing()

    officer_client.post(_enable(billing))
    billing.refresh_from_db()
    assert not billing.enabled

    officer_client.post(_enable(billing), {"enabled": "on"})
    billing.refresh_from_db()
    assert billing.enabled


# --- Who may ----------------------------------------------------------------------


def test_auditor_reads_connectors_without_buttons(
    auditor_client: Client, db: None
) -> None:
    helpdesk = _helpdesk()

    list_page = auditor_client.get(LIST).content.decode()
    detail_page = auditor_client.get(_detail(helpdesk)).content.decode()

    assert "helpdesk" in list_page
    assert "Add connector" not in list_page
    assert "can view this connector but not change or test it" in detail_page
    assert "Test connection" not in detail_page
    assert _edit(helpdesk) not in detail_page
    assert PASSWORD not in detail_page


@pytest.mark.parametrize(
    "attempt",
    [
        lambda c, h: c.get(NEW),
        lambda c, h: c.post(NEW, _form(name="crm")),
        lambda c, h: c.get(_edit(h)),
        lambda c, h: c.post(_edit(h), _form(name="renamed")),
        lambda c, h: c.post(_test(h)),
        lambda c, h: c.post(_enable(h)),
    ],
    ids=["new-form", "create", "edit-form", "edit", "test", "disable"],
)
@pytest.mark.parametrize("client_fixture", ["auditor_client", "agent_client"])
def test_only_connector_managers_may_change_or_test(
    request, client_fixture: str, attempt, db: None
) -> None:
    # given
    client: Client = request.getfixturevalue(client_fixture)
    helpdesk = _billing()
    before = _snapshot()

    # when
    response = attempt(client, helpdesk)

    # then
    assert response.status_code == 403
    assert _snapshot() == before


def test_support_agent_cannot_see_connectors(agent_client: Client, db: None) -> None:
    billing = _billing()

    assert agent_client.get(LIST).status_code == 403
    assert agent_client.get(_detail(billing)).status_code == 403
    queue = agent_client.get(reverse("dashboard:queue")).content.decode()
    assert LIST not in queue  # no nav entry


def test_test_connection_shows_missing_indexes_as_warnings_with_the_fix(
    officer_client: Client, db: None, tmp_path: Any
) -> None:
    # given: a real SQLite store whose identity columns have no index
    path = tmp_path / "helpdesk.db"
    sqlite3.connect(path).close()
    store = Helpdesk(kind="sqlite", dsn=f"sqlite:///{path}")
    store.build()
    connector = connector_create(
        actor=actor_system("tests"),
        name="helpdesk",
        kind="sql",
        config=helpdesk_config(store.dsn),
        data_categories=["contact"],
        disclosure=DISCLOSURE,
    )

    # when
    response = officer_client.post(_test(connector), follow=True)

    # then: healthy, told so with a warning, and the page lists each fix
    connector.refresh_from_db()
    assert connector.health == "ok"
    assert any(
        "Connection to helpdesk works, with 4 warning(s)" in m
        for m in _messages(response)
    )
    page = response.content.decode()
    assert 'id="health-warnings"' in page
    assert "customers.email: no index serves the email match" in page
    assert (
        "CREATE INDEX &quot;customers_email_lower&quot; ON &quot;customers&quot; "
        "(lower(&quot;email&quot;))" in page
    )

    # when: the advice is followed and the store checked again
    for warning in connector.health_warnings:
        store.execute(warning["fix"])
    response = officer_client.post(_test(connector), follow=True)

    # then
    assert 'id="health-warnings"' not in response.content.decode()


def test_a_zendesk_connector_added_in_the_dashboard_tests_its_connection(
    officer_client: Client, db: None
) -> None:
    from standins.zendesk import start
    from standins.zendesk.state import AGENT_EMAIL

    standin = start(token="zd-dashboard-token-0123")
    config = {"subdomain": "demo", "email": AGENT_EMAIL, "base_url": standin.url}
    try:
        created = officer_client.post(
            NEW,
            _form(
                name="zendesk",
                kind="zendesk",
                config=json.dumps(config),
                secrets=json.dumps({"api_token": "zd-dashboard-token-0123"}),
                data_categories="contact, support_ticket",
            ),
        )
        zendesk = Connector.objects.get(name="zendesk")
        ok = officer_client.post(_test(zendesk), follow=True)
        # the token is revoked in Zendesk: the test names what failed
        standin.token = "revoked"
        refused = officer_client.post(_test(zendesk), follow=True)
    finally:
        standin.stop()

    assert created.status_code == 302
    assert zendesk.config == config
    assert any("Connection to zendesk works: ok:" in m for m in _messages(ok))
    (failed,) = [m for m in _messages(refused) if "Connection to zendesk failed" in m]
    assert "auth refused (HTTP 401)" in failed
    assert "zd-dashboard-token-0123" not in refused.content.decode()
