"""The connector form generated from each kind's config schema: the kind
picker, plain inputs instead of JSON, write-only secrets, the disclosure as
fields, and "test connection" before saving that names what failed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.models import Connector
from connectors.registry import kind_choices, kind_class
from connectors.services import connector_create
from dashboard.forms.connector_schema import example_of
from tests.connectors.api_kinds import SECRET, standin_url
from tests.connectors.chroma_points import chroma_local_store
from tests.connectors.saas.services import SERVICES
from tests.disclosure import DISCLOSURE

NEW = reverse("dashboard:connector_new")
TOKEN = "zd-form-token-0123456789"
INSTRUCTIONS = "Open the billing system, find the customer by e-mail and flag them."
SIGNING_KEY = "form-signing-key-0123456789"

# The disclosure as the plain inputs take it.
DISCLOSURE_INPUTS = {
    "disclosure_purposes": "Answering support questions\nQuality review",
    "disclosure_recipients": "Helpdesk Cloud Ltd (processor)",
    "disclosure_retention": "Three years after the last ticket",
    "disclosure_source": "The customer, when they wrote to support",
    "disclosure_automated_decision_making_na": "on",
    "disclosure_automated_decision_making_reason": "no solely automated decisions",
    "disclosure_transfers": "United States | EU Standard Contractual Clauses "
    "| Helpdesk Cloud Inc.",
}


def _new(kind: str) -> str:
    return f"{NEW}?kind={kind}"


def _post_data(kind: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "data_categories": "contact, support_ticket",
        "enabled": "on",
        **DISCLOSURE_INPUTS,
        **inputs,
    }


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- plain values for each kind, as an officer would type them ----------------------


def _sqlite_store(tmp_path: Path) -> str:
    path = tmp_path / "helpdesk.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
        db.execute("CREATE INDEX customers_email ON customers (lower(email))")
    return f"sqlite:///{path}"


def _inputs_sql(tmp_path: Path, settings: Any) -> dict[str, Any]:
    tables = [{"table": "customers", "key": "id", "identity": {"email": "email"}}]
    return {
        "config__dsn": _sqlite_store(tmp_path),
        "config__tables": json.dumps([{**tables[0], "erase": {"email": "hash"}}]),
        "config__batch_size": "500",
        "config__prepared_statements": "on",
    }


def _inputs_files(tmp_path: Path, settings: Any) -> dict[str, Any]:
    folder = tmp_path / "transcripts"
    folder.mkdir()
    settings.CONNECTOR_FILES_ROOTS = [str(tmp_path)]
    return {
        "config__folder": str(folder),
        "config__identity": '{"email": "customer.email"}',
        "config__text_fields": "messages[].text\nsummary",
        "config__erase": json.dumps("delete"),
    }


def _inputs_pgvector(tmp_path: Path, settings: Any) -> dict[str, Any]:
    from tests.connectors.pgvector_store import seed_langchain
    from tests.pgvector_server import fresh_database, process_server

    url = fresh_database(process_server())
    seed_langchain(url, per_collection=3)
    return {
        "config__dsn": url,
        "config__collections": "support_memory\norder_faq",
        "config__keys": json.dumps(
            {"email": "customer_email", "conversation_id": "conversation_id"}
        ),
        "config__page_size": "200",
        "secret__password": "a-secret-of-some-length-0123",
    }


def _inputs_qdrant(tmp_path: Path, settings: Any) -> dict[str, Any]:
    from tests.connectors.vector_points import qdrant_local_store

    store = qdrant_local_store(tmp_path / "qdrant", collections=("memory", "faq"))
    settings.CONNECTOR_FILES_ROOTS = [str(tmp_path)]
    return {
        "config__path": str(store),
        "config__collections": "memory\nfaq",
        "config__keys": json.dumps(
            {"email": "customer_email", "conversation_id": "conversation_id"}
        ),
        "config__document_key": "document",
    }


PLAIN: dict[str, Callable[[Path, Any], dict[str, Any]]] = {
    "pgvector": _inputs_pgvector,
    "qdrant": _inputs_qdrant,
    "sql": _inputs_sql,
    "files": _inputs_files,
    "http": lambda tmp_path, settings: {
        "config__url": "http://127.0.0.1:9/privacy-jobs",
        "config__timeout_seconds": "5",
        "config__actions": [json.dumps("access"), json.dumps("erase")],
        "secret__signing_key": SIGNING_KEY,
    },
    "pull": lambda tmp_path, settings: {"config__lease_seconds": "600"},
    "manual": lambda tmp_path, settings: {"config__instructions": INSTRUCTIONS},
    "weaviate": lambda tmp_path, settings: {
        "config__url": standin_url("weaviate"),
        "config__collections": "SupportMemory\nTicketSummary",
        "config__keys": '{"email": "customer_email"}',
        "secret__api_key": SECRET,
    },
    "chroma": lambda tmp_path, settings: {
        "config__path": str(chroma_local_store(tmp_path / "chroma")),
        "config__collections": "memory",
        "config__keys": '{"email": "customer_email"}',
        "config__token_header": json.dumps("Authorization"),
    },
}
EXPECTED_CONFIG: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "pgvector": lambda inputs: {  # LangChain's layout filled in
        "dsn": inputs["config__dsn"],
        "layout": "langchain",
        "table": "langchain_pg_embedding",
        "collection_table": "langchain_pg_collection",
        "columns": {
            "id": "id",
            "document": "document",
            "metadata": "cmetadata",
            "embedding": "embedding",
            "collection": "collection_id",
        },
        "page_size": 200,
        "connect_timeout": 10,
        "collections": ["support_memory", "order_faq"],
        "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
    },
    "http": lambda inputs: {
        "url": "http://127.0.0.1:9/privacy-jobs",
        "timeout_seconds": 5,
        "actions": ["access", "erase"],
    },
    "pull": lambda inputs: {"lease_seconds": 600},
    "manual": lambda inputs: {"instructions": INSTRUCTIONS},
    "qdrant": lambda inputs: {
        "path": inputs["config__path"],
        "collections": ["memory", "faq"],
        "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
        "document_key": "document",
        "page_size": 256,
        "timeout_seconds": 30,
    },
}


def _example_inputs(kind: str) -> dict[str, Any]:
    """For a kind no test here knows: its schema's own examples, typed in."""
    schema = kind_class(kind).config_schema()
    inputs: dict[str, Any] = {}
    for name in schema.get("required", ()):
        value = example_of(schema["properties"][name], schema)
        inputs[f"config__{name}"] = (
            value if isinstance(value, str | int | float) else json.dumps(value)
        )
    for secret in kind_class(kind).secret_fields:
        inputs[f"secret__{secret}"] = "a-secret-of-some-length-0123"
    return inputs


@pytest.fixture
def saas_standins() -> Iterator[dict[str, Any]]:
    started: dict[str, Any] = {}
    yield started
    for standin in started.values():
        standin.stop()


def _inputs_for(
    kind: str, tmp_path: Path, settings: Any, standins: dict[str, Any]
) -> dict[str, Any] | None:
    if kind in PLAIN:
        return PLAIN[kind](tmp_path, settings)
    if kind in SERVICES:
        service = SERVICES[kind]()
        standins[kind] = standin = service.start(token=TOKEN)
        inputs: dict[str, Any] = {
            f"config__{key}": str(value)
            for key, value in service.config(standin.url).items()
        }
        for name, value in service.secrets_of(TOKEN).items():
            inputs[f"secret__{name}"] = value
        return inputs
    return None


# --- the picker --------------------------------------------------------------------


def test_the_picker_lists_every_kind_grouped_with_a_description(
    officer_client: Client,
) -> None:
    page = officer_client.get(NEW).content.decode()

    stores = page.index("Databases and files")
    remote = page.index("Webhooks, agents and people")
    saas = page.index("Support SaaS")
    assert stores < page.index("?kind=sql") < remote < page.index("?kind=http") < saas
    assert saas < page.index("?kind=zendesk")
    vectors = page.index("Vector stores (AI memory)")
    assert saas < vectors < page.index("?kind=qdrant")
    for kind, label in kind_choices():
        assert f'href="{NEW}?kind={kind}"' in page
        assert label in page
    assert "A helpdesk, CRM or AI-log database described by a map of tables." in page
    assert "Sends each job to a webhook, signed; the result comes back in" in page


def test_an_unknown_kind_shows_the_picker_again(officer_client: Client) -> None:
    response = officer_client.get(_new("mainframe"))

    assert response.status_code == 400
    assert "no connector kind “mainframe”" in response.content.decode()


# --- every kind, from plain fields ----------------------------------------------------


@pytest.mark.parametrize("kind", [kind for kind, _ in kind_choices()])
def test_every_kind_renders_and_creates_a_working_connector_from_plain_fields(
    kind: str,
    officer_client: Client,
    tmp_path: Path,
    settings: Any,
    saas_standins: dict[str, Any],
) -> None:
    # given the kind's form
    form_page = officer_client.get(_new(kind))
    assert form_page.status_code == 200
    html = form_page.content.decode()
    schema = kind_class(kind).config_schema()
    for name in schema.get("properties", {}):
        assert f'name="config__{name}"' in html
    for secret in kind_class(kind).secret_fields:
        assert f'<input type="password" name="secret__{secret}"' in html
    assert "Configuration (JSON)" not in html or not schema.get("properties")

    # when an officer fills in plain fields and saves
    inputs = _inputs_for(kind, tmp_path, settings, saas_standins)
    if inputs is None:  # a kind added after these tests: its own examples
        response = officer_client.post(
            NEW, _post_data(kind, f"{kind}-store", _example_inputs(kind))
        )
        assert response.status_code in (302, 400)
        if response.status_code == 400:  # what is wrong is named on a field
            assert response.context["form"].errors
        return
    response = officer_client.post(NEW, _post_data(kind, f"{kind}-store", inputs))

    # then the connector is created as the kind validated it, and it works
    assert response.status_code == 302, response.context["form"].errors
    connector = Connector.objects.get(name=f"{kind}-store")
    assert connector.kind == kind
    if kind in EXPECTED_CONFIG:
        assert connector.config == EXPECTED_CONFIG[kind](inputs)
    assert connector.disclosure == {
        "purposes": ["Answering support questions", "Quality review"],
        "recipients": ["Helpdesk Cloud Ltd (processor)"],
        "retention": "Three years after the last ticket",
        "source": "The customer, when they wrote to support",
        "automated_decision_making": {
            "not_applicable": "no solely automated decisions"
        },
        "transfers": [
            {
                "country": "United States",
                "safeguards": "EU Standard Contractual Clauses",
                "recipient": "Helpdesk Cloud Inc.",
            }
        ],
    }
    checked = officer_client.post(
        reverse("dashboard:connector_check", args=[connector.public_id]), follow=True
    )
    connector.refresh_from_db()
    if kind == "pull":  # healthy once its agent (on the CRM side) calls in
        assert "agent token" in connector.health_detail
        return
    assert connector.health == "ok", connector.health_detail
    assert any("works" in m for m in _messages(checked))


def test_zendesk_config_and_secret_from_plain_fields(
    officer_client: Client, saas_standins: dict[str, Any]
) -> None:
    from standins.zendesk.state import AGENT_EMAIL

    inputs = _inputs_for("zendesk", Path(), None, saas_standins)
    assert inputs is not None

    officer_client.post(NEW, _post_data("zendesk", "zendesk", inputs))

    zendesk = Connector.objects.get(name="zendesk")
    assert zendesk.config == {
        "subdomain": "demo",
        "email": AGENT_EMAIL,
        "base_url": saas_standins["zendesk"].url,
    }
    assert zendesk.secrets == {"api_token": TOKEN}


# --- errors name their field ------------------------------------------------------


def test_a_bad_subdomain_is_shown_on_the_subdomain_input(
    officer_client: Client,
) -> None:
    data = _post_data(
        "zendesk",
        "zendesk",
        {
            "config__subdomain": "Acme Corp",
            "config__email": "agent@example.com",
            "secret__api_token": TOKEN,
        },
    )

    response = officer_client.post(NEW, data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["config__subdomain"]
    assert errors["config__subdomain"][0].startswith("config.subdomain: ")
    page = response.content.decode()
    assert 'id="id_config__subdomain_error"' in page
    assert TOKEN not in page  # the typed secret is not sent back
    assert not Connector.objects.exists()


def test_a_missing_secret_and_a_missing_required_input_name_their_inputs(
    officer_client: Client,
) -> None:
    data = _post_data("zendesk", "zendesk", {"config__subdomain": "acme"})

    response = officer_client.post(NEW, data)
    errors = response.context["form"].errors
    assert list(errors) == ["config__email"]

    data["config__email"] = "agent@example.com"
    response = officer_client.post(NEW, data)
    errors = response.context["form"].errors
    assert errors == {"secret__api_token": ["secrets.api_token: required"]}


def test_a_bad_table_map_lands_on_the_tables_json_with_its_path(
    officer_client: Client, tmp_path: Path, settings: Any
) -> None:
    inputs = _inputs_sql(tmp_path, settings)
    inputs["config__tables"] = json.dumps([{"table": "customers", "erase": {}}])

    response = officer_client.post(NEW, _post_data("sql", "helpdesk", inputs))

    assert response.status_code == 400
    (error,) = response.context["form"].errors["config__tables"]
    assert error.startswith("config.tables[0]")


def test_the_tables_field_stays_json_with_an_example(officer_client: Client) -> None:
    page = officer_client.get(_new("sql")).content.decode()

    assert "Tables (JSON)" in page
    assert "Example of Tables" in page
    assert "&quot;identity&quot;: {" in page  # the schema's example, shown
    assert '<input type="text" name="config__dsn"' in page
    assert 'name="config__batch_size" value="1000"' in page  # the default
    assert '<input type="checkbox" name="config__prepared_statements"' in page


def test_a_disclosure_item_neither_filled_nor_marked_is_named(
    officer_client: Client,
) -> None:
    data = _post_data("manual", "billing", {"config__instructions": INSTRUCTIONS})
    data["disclosure_transfers"] = ""
    data["disclosure_source_na"] = "on"  # marked, but no reason given

    response = officer_client.post(NEW, data)

    errors = response.context["form"].errors
    assert set(errors) == {"disclosure_transfers", "disclosure_source_reason"}
    assert "does not apply" in errors["disclosure_transfers"][0]
    assert not Connector.objects.exists()


def test_a_transfer_without_safeguards_is_refused_on_the_transfers(
    officer_client: Client,
) -> None:
    data = _post_data("manual", "billing", {"config__instructions": INSTRUCTIONS})
    data["disclosure_transfers"] = "United States"

    response = officer_client.post(NEW, data)

    (error,) = response.context["form"].errors["disclosure_transfers"]
    assert error == (
        "disclosure.transfers[0]: needs both the country and the safeguards"
    )


# --- edit: the same form, secrets write-only -----------------------------------------


def _zendesk_stored(url: str, **extra: Any) -> Connector:
    return connector_create(
        actor=actor_system("tests"),
        name="zendesk",
        kind="zendesk",
        config={"subdomain": "acme", "email": "agent@example.com", "base_url": url},
        secrets={"api_token": TOKEN},
        data_categories=["contact"],
        disclosure={
            **DISCLOSURE,
            "purposes": [
                "Answering support questions",
                {"purpose": "Improving answers", "legal_basis": "Art. 6(1)(f)"},
            ],
        },
        **extra,
    )


def test_edit_fills_the_fields_never_the_secret_and_blank_keeps_it(
    officer_client: Client, db: None
) -> None:
    # given
    zendesk = _zendesk_stored("http://127.0.0.1:9")
    edit = reverse("dashboard:connector_edit", args=[zendesk.public_id])
    form_page = officer_client.get(edit)
    html = form_page.content.decode()
    assert TOKEN not in html
    assert 'name="config__subdomain" value="acme"' in html
    assert "Leave blank to keep the stored one." in html
    assert "<code>api_token</code>" in html  # which secret is set
    initial = {
        name: form_page.context["form"][name].value()
        for name in form_page.context["form"].fields
    }

    # when it is saved as shown, with one change and the token left blank
    data = {k: v for k, v in initial.items() if v not in (None, False)}
    data.update({"kind": "zendesk", "config__subdomain": "acme-eu"})
    data = {k: "on" if v is True else v for k, v in data.items()}
    response = officer_client.post(edit, data)

    # then
    assert response.status_code == 302, response.context["form"].errors
    zendesk.refresh_from_db()
    assert zendesk.config["subdomain"] == "acme-eu"
    assert zendesk.config["base_url"] == "http://127.0.0.1:9"
    assert zendesk.secrets == {"api_token": TOKEN}
    assert zendesk.disclosure["purposes"][1] == {
        "purpose": "Improving answers",
        "legal_basis": "Art. 6(1)(f)",
    }
    assert (
        zendesk.disclosure["automated_decision_making"]
        == (DISCLOSURE["automated_decision_making"])
    )


def test_edit_as_json_stays_reachable(officer_client: Client, db: None) -> None:
    zendesk = _zendesk_stored("http://127.0.0.1:9")
    edit = reverse("dashboard:connector_edit", args=[zendesk.public_id])

    page = officer_client.get(f"{edit}?mode=json").content.decode()

    assert "Configuration (JSON)" in page
    assert "&quot;subdomain&quot;: &quot;acme&quot;" in page
    assert TOKEN not in page


# --- test connection before saving ----------------------------------------------------


def _zendesk_inputs(url: str, token: str = TOKEN) -> dict[str, Any]:
    from standins.zendesk.state import AGENT_EMAIL

    return {
        "config__subdomain": "demo",
        "config__email": AGENT_EMAIL,
        "config__base_url": url,
        "secret__api_token": token,
    }


def _snapshot() -> tuple[int, int]:
    return Connector.objects.count(), AuditEvent.objects.count()


def test_test_connection_with_a_good_token_works_and_saves_nothing(
    officer_client: Client, db: None
) -> None:
    from standins.zendesk import start

    standin = start(token=TOKEN)
    before = _snapshot()
    try:
        # the disclosure is not filled in yet: a test needs only the store
        data = {"kind": "zendesk", "action": "test", **_zendesk_inputs(standin.url)}
        response = officer_client.post(NEW, data)
    finally:
        standin.stop()

    page = response.content.decode()
    assert response.status_code == 200
    assert "Connection works." in page
    assert "Nothing was saved yet." in page
    assert TOKEN not in page
    assert _snapshot() == before


def test_test_connection_with_a_bad_token_says_auth(
    officer_client: Client, db: None
) -> None:
    from standins.zendesk import start

    standin = start(token=TOKEN)
    try:
        data = {
            "kind": "zendesk",
            "action": "test",
            **_zendesk_inputs(standin.url, token="zd-wrong-token-987654"),
        }
        response = officer_client.post(NEW, data)
    finally:
        standin.stop()

    page = response.content.decode()
    assert response.context["probe"].reason == "auth"
    assert 'data-reason="auth"' in page
    assert "auth: credentials refused (401)" in page
    assert "zd-wrong-token-987654" not in page
    assert not Connector.objects.exists()


def test_test_connection_to_a_stopped_standin_says_network(
    officer_client: Client, db: None
) -> None:
    from standins.zendesk import start

    standin = start(token=TOKEN)
    url = standin.url
    standin.stop()

    data = {"kind": "zendesk", "action": "test", **_zendesk_inputs(url)}
    response = officer_client.post(NEW, data)

    page = response.content.decode()
    assert response.context["probe"].reason == "network"
    assert "network: unreachable, TLS or timeout" in page
    assert "unreachable" in response.context["probe"].detail
    assert TOKEN not in page


def test_test_connection_with_a_bad_subdomain_names_the_input(
    officer_client: Client, db: None
) -> None:
    data = {
        "kind": "zendesk",
        "action": "test",
        **_zendesk_inputs("http://127.0.0.1:9"),
        "config__subdomain": "Not A Subdomain",
    }

    response = officer_client.post(NEW, data)

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["config__subdomain"]


def test_test_connection_on_edit_uses_the_stored_secret(
    officer_client: Client, db: None
) -> None:
    from standins.zendesk import start

    standin = start(token=TOKEN)
    try:
        zendesk = _zendesk_stored(standin.url)
        edit = reverse("dashboard:connector_edit", args=[zendesk.public_id])
        data = {"action": "test", **_zendesk_inputs(standin.url, token="")}
        works = officer_client.post(edit, data)
        standin.token = "revoked"
        refused = officer_client.post(
            reverse("dashboard:connector_check", args=[zendesk.public_id]),
            follow=True,
        )
    finally:
        standin.stop()

    assert works.context["probe"].ok
    (failed,) = [m for m in _messages(refused) if "failed" in m]
    assert failed.startswith(
        "Connection to zendesk failed (auth: credentials refused (401)): "
    )
    assert TOKEN not in refused.content.decode()


# --- the names the subject reads -----------------------------------------------------


def test_title_and_category_names_are_inputs_that_round_trip(
    officer_client: Client,
) -> None:
    # given a new store with a title and two category names typed
    data = _post_data("manual", "billing", {"config__instructions": INSTRUCTIONS})
    data["disclosure_title"] = "Billing and invoices"
    data["disclosure_category_names"] = (
        "contact: Your contact details\n\nsupport_ticket: Your support tickets\n"
    )

    # when it is saved, then edited without a change
    officer_client.post(NEW, data)
    billing = Connector.objects.get()
    edit = reverse("dashboard:connector_edit", args=[billing.public_id])
    form = officer_client.get(edit).context["form"]
    shown = {name: form[name].value() for name in form.fields}
    again = {k: "on" if v is True else v for k, v in shown.items() if v}
    response = officer_client.post(edit, {**again, "kind": "manual"})

    # then the disclosure holds them, and the edit kept them
    assert response.status_code == 302, response.context["form"].errors
    billing.refresh_from_db()
    assert billing.disclosure["title"] == "Billing and invoices"
    assert billing.disclosure["category_names"] == {
        "contact": "Your contact details",
        "support_ticket": "Your support tickets",
    }
    page = officer_client.get(
        reverse("dashboard:connector_detail", args=[billing.public_id])
    ).content.decode()
    assert "Billing and invoices" in page
    assert "support_ticket: Your support tickets" in page


def test_a_category_name_line_without_a_colon_is_named(officer_client: Client) -> None:
    data = _post_data("manual", "billing", {"config__instructions": INSTRUCTIONS})
    data["disclosure_category_names"] = "contact Your contact details"

    response = officer_client.post(NEW, data)

    (error,) = response.context["form"].errors["disclosure_category_names"]
    assert "category: name" in error
    assert not Connector.objects.exists()
