"""SQL data discovery on real stores (SQLite and PostgreSQL): the proposed
map of the demo helpdesk and of a supportdesk, the kind's validation of it,
classifications without values, read-only sampling and its time limit."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.base import ConnectorError
from connectors.demo.content import customer
from connectors.discovery import store_scan
from connectors.discovery.proposal import proposal_config
from connectors.discovery.reading import (
    ScanTimeout,
    engine_for,
    read_only,
    sample,
)
from connectors.kinds.sql import validation
from tests.connectors.discovery_stores import DEMO_SIZE, Target, build_target
from tests.connectors.supportdesk import PEOPLE, SUBJECT_EMAIL


def _tables(proposal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {table["table"]: table for table in proposal["tables"]}


def _columns(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {column["name"]: column for column in table["columns"]}


def test_the_proposal_is_a_valid_map_of_the_kind(discovery_store: Target) -> None:
    # when
    scan = store_scan(discovery_store.dsn, password=discovery_store.password)
    config = proposal_config(scan.proposal, dsn=discovery_store.dsn)

    # then: the sql kind's own validation accepts it as it is
    store = validation.parse(config)
    assert {t.table for t in store.tables} >= {"customers", "tickets"}


def test_the_demo_helpdesk_map_finds_customers_and_follows_foreign_keys(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    for backend in ("sqlite", "postgresql"):
        built = build_target(request, tmp_path, "helpdesk", backend)
        tables = _tables(store_scan(built.dsn, password=built.password).proposal)

        assert tables["customers"]["row_count"] == DEMO_SIZE.customers
        assert tables["tickets"]["row_count"] == DEMO_SIZE.customers * 5
        customers = _columns(tables["customers"])
        assert customers["email"]["role"] == "identity_email"
        assert customers["email"]["strategy"] == "hash"
        assert customers["phone"]["role"] == "identity_phone"
        assert customers["name"]["role"] == "name"
        assert customers["crm_id"]["strategy"] == "pseudonymize"
        assert customers["restricted"]["role"] == "restrict"
        assert customers["objected"]["role"] == "objection"
        assert customers["created_at"]["strategy"] == ""
        assert tables["tickets"]["parent"]["table"] == "customers"
        assert tables["messages"]["parent"] == {
            "table": "tickets",
            "column": "ticket_id",
            "references": "id",
        }
        assert _columns(tables["messages"])["body"]["category"] == "free_text_pii"
        assert _columns(tables["messages"])["body"]["strategy"] == "redact_pii"
        assert _columns(tables["messages"])["author"]["category"] == "not_personal"
        # the AI log has no foreign key: found by its own e-mail, deleted
        ai = tables["ai_conversations"]
        assert ai["parent"] is None
        assert _columns(ai)["customer_email"]["role"] == "identity_email"
        assert ai["rows"] == "delete"
        assert ai["category"] == "ai_conversation"


def test_the_supportdesk_map_prefers_the_customer_over_the_assignee(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    for backend in ("sqlite", "postgresql"):
        built = build_target(request, tmp_path, "supportdesk", backend)
        tables = _tables(store_scan(built.dsn, password=built.password).proposal)

        assert tables["tickets"]["parent"]["column"] == "customer_id"
        assert tables["ticket_messages"]["parent"]["table"] == "tickets"
        assert _columns(tables["tickets"])["title"]["strategy"] == "redact_pii"
        customers = _columns(tables["customers"])
        assert customers["email_address"]["role"] == "identity_email"
        assert customers["mobile"]["role"] == "identity_phone"
        assert customers["full_name"]["role"] == "name"
        assert customers["processing_restricted"]["role"] == "restrict"
        assert customers["plan"]["category"] == "not_personal"
        # AI conversations hang under the customer and go, their turns too
        assert tables["ai_conversations"]["parent"]["table"] == "customers"
        assert tables["ai_conversations"]["rows"] == "delete"
        assert tables["ai_turns"]["parent"]["table"] == "ai_conversations"
        assert tables["ai_turns"]["rows"] == "delete"
        # a table nothing personal reaches is listed, not mapped
        assert tables["products"]["include"] is False
        assert "no e-mail or phone column" in tables["products"]["unreachable_reason"]


def test_the_proposal_holds_no_sampled_value(discovery_store: Target) -> None:
    scan = store_scan(discovery_store.dsn, password=discovery_store.password)
    text = json.dumps(scan.proposal).lower()

    if discovery_store.shape == "helpdesk":
        person = customer(1)
        values = [person.email, person.phone, person.name, person.crm_id]
    else:
        values = [v for _, name, email, phone in PEOPLE for v in (name, email, phone)]
    for value in values:
        assert value.lower() not in text
    # counts only: every sampled column says how many values it saw
    sampled = [c["sampled"] for t in scan.proposal["tables"] for c in t["columns"]]
    assert max(sampled) > 0


def test_sampling_is_bounded(discovery_store: Target) -> None:
    scan = store_scan(
        discovery_store.dsn, password=discovery_store.password, sample_rows=3
    )

    sampled = [c["sampled"] for t in scan.proposal["tables"] for c in t["columns"]]
    assert max(sampled) == 3


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_write_inside_the_sampler_fails(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    built = build_target(request, tmp_path, "supportdesk", backend)
    engine = engine_for(built.dsn, password=built.password, timeout=5)
    before = built.rows("SELECT COUNT(*) FROM products")

    with read_only(engine, deadline=time.monotonic() + 10) as connection:
        assert sample(connection, "customers", "email_address", limit=2)
        with pytest.raises(sa.exc.DBAPIError, match="(?i)read.only|readonly"):
            connection.exec_driver_sql(
                "INSERT INTO products (id, sku, price) VALUES (99, 'SKU-X', 1)"
            )
    engine.dispose()

    assert built.rows("SELECT COUNT(*) FROM products") == before


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_statement_past_the_time_limit_is_stopped(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    built = build_target(request, tmp_path, "supportdesk", backend)
    engine = engine_for(built.dsn, password=built.password, timeout=5)
    slow = (
        "SELECT pg_sleep(5)"
        if backend == "postgresql"
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        " WHERE i < 100000000) SELECT COUNT(*) FROM n"
    )
    started = time.monotonic()

    with read_only(engine, deadline=time.monotonic() + 0.3) as connection:
        with pytest.raises(sa.exc.DBAPIError, match="(?i)cancel|interrupt|timeout"):
            connection.exec_driver_sql(slow)
    engine.dispose()

    assert time.monotonic() - started < 4


def test_a_scan_past_its_time_limit_fails_naming_where(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    built = build_target(request, tmp_path, "supportdesk", "sqlite")

    with pytest.raises(ScanTimeout, match="time limit|stopped after"):
        store_scan(built.dsn, time_limit=0.0)


def test_an_unreachable_store_is_a_connector_error_without_the_password() -> None:
    with pytest.raises(ConnectorError) as caught:
        store_scan(
            "postgresql://nobody@127.0.0.1:1/none",
            password="s3cret-pw",
            connect_timeout=2,
        )

    assert "s3cret-pw" not in caught.value.message
    assert caught.value.message.startswith("connecting")


def test_a_missing_sqlite_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="no SQLite file"):
        store_scan(f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()


def test_the_subject_email_is_classified_by_values_not_only_names(
    tmp_path: Path,
) -> None:
    # given: a column whose name says nothing
    import sqlite3

    path = tmp_path / "odd.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, c1 TEXT, c2 TEXT)")
        db.executemany(
            "INSERT INTO people VALUES (?, ?, ?)",
            [(i, f"user{i}@example.org", f"+44 20 7946 {1000 + i}") for i in range(20)],
        )

    columns = _columns(_tables(store_scan(f"sqlite:///{path}").proposal)["people"])

    assert columns["c1"]["category"] == "email"
    assert columns["c1"]["role"] == "identity_email"
    assert columns["c2"]["category"] == "phone"
    assert SUBJECT_EMAIL not in json.dumps(columns)
