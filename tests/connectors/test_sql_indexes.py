"""The sql kind's health check names identity columns no index serves, with
the CREATE INDEX to run; and the advice is proven by the planner."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
import pytest

from connectors.base import Identity
from connectors.kinds.sql.query import SubjectQuery
from tests.connectors.conftest import Helpdesk, helpdesk_config, subject_identity

ADVICE = {
    "customers.email": 'CREATE INDEX CONCURRENTLY "customers_email_lower" '
    'ON "customers" (lower("email"))',
    "customers.phone": 'CREATE INDEX CONCURRENTLY "customers_phone_digits" '
    "ON \"customers\" (translate(\"phone\", ' -()./', ''))",
    "customers.crm_id": 'CREATE INDEX CONCURRENTLY "customers_crm_id_idx" '
    'ON "customers" ("crm_id")',
    "ai_conversations.customer_email": "CREATE INDEX CONCURRENTLY "
    '"ai_conversations_customer_email_lower" ON "ai_conversations" '
    '(lower("customer_email"))',
}


EMAIL_ONLY = Identity(emails=("jane.doe@example.com",))


@pytest.fixture
def pg_store(postgres_store_dsn: tuple[str, str]) -> Helpdesk:
    dsn, password = postgres_store_dsn
    helpdesk = Helpdesk(kind="postgresql", dsn=dsn, password=password)
    helpdesk.build()
    return helpdesk


def _autocommit(store: Helpdesk, *statements: str) -> None:
    # CREATE INDEX CONCURRENTLY runs outside a transaction, as advised.
    with psycopg.connect(
        store.dsn, password=store.password or None, autocommit=True
    ) as connection:
        for statement in statements:
            connection.execute(statement)


def _plan(
    store: Helpdesk,
    config: dict[str, Any],
    table_name: str,
    identity: Identity | None = None,
) -> str:
    """EXPLAIN of the match the kind generates, seq scans priced out (the
    seeded tables are too small for the planner to prefer an index)."""
    connector = store.connector(config)
    table = connector.store.table(table_name)
    where, params = SubjectQuery(
        connector.dialect, connector.store, identity or subject_identity()
    ).where(table)
    with psycopg.connect(store.dsn, password=store.password or None) as connection:
        cursor = psycopg.ClientCursor(connection)
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f'EXPLAIN SELECT "id" FROM "{table_name}" WHERE {where}', params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_postgres_health_names_each_unindexed_identity_column_and_its_index(
    pg_store: Helpdesk,
) -> None:
    # when
    report = pg_store.connector().health()

    # then: the store works, so it stays ok, and says what is slow
    assert report.status.startswith("ok: 5 tables checked")
    assert report.status.endswith("4 identity column(s) without a usable index")
    advice = {w.message.split(":")[0]: w.fix for w in report.warnings}
    assert advice == ADVICE
    email = next(w for w in report.warnings if w.message.startswith("customers.email"))
    assert email.message == (
        'customers.email: no index serves the email match lower("email"); '
        "each request scans the whole table"
    )


def test_postgres_plain_unique_index_does_not_serve_the_lower_match(
    pg_store: Helpdesk,
) -> None:
    # given: the helpdesk's own unique index on the e-mail column
    _autocommit(
        pg_store, "CREATE UNIQUE INDEX customers_email_key ON customers (email)"
    )

    # when
    report = pg_store.connector().health()

    # then
    assert ADVICE["customers.email"] in [w.fix for w in report.warnings]
    assert "Seq Scan" in _plan(pg_store, helpdesk_config(pg_store.dsn), "customers")


def test_postgres_running_the_advice_removes_the_warnings_and_the_match_uses_them(
    pg_store: Helpdesk,
) -> None:
    # given
    config = helpdesk_config(pg_store.dsn)
    assert "Seq Scan" in _plan(pg_store, config, "customers")
    fixes = [w.fix for w in pg_store.connector().health().warnings]

    # when
    _autocommit(pg_store, *fixes)

    # then
    report = pg_store.connector().health()
    assert report.warnings == ()
    assert report.status == (
        f"ok: 5 tables checked on {pg_store.connector().dialect.target.describe()}"
    )
    customers = _plan(pg_store, config, "customers")
    assert "Seq Scan" not in customers
    for index in (
        "customers_email_lower",
        "customers_phone_digits",
        "customers_crm_id_idx",
    ):
        assert f"Bitmap Index Scan on {index}" in customers
    ai = _plan(pg_store, config, "ai_conversations")
    assert "ai_conversations_customer_email_lower" in ai
    assert "Seq Scan" not in ai
    # and the subject is still found through them
    assert pg_store.connector(config).discover(subject_identity())["customers"] == 1


def _exact_config(dsn: str) -> dict[str, Any]:
    config = helpdesk_config(dsn)
    config["tables"][0]["identity"]["email"] = {"column": "email", "exact": True}
    return config


def test_postgres_an_exact_identity_uses_its_plain_index_and_matches_as_written(
    pg_store: Helpdesk,
) -> None:
    # given: a store that writes e-mails as they came, with only a plain index
    _autocommit(
        pg_store, "CREATE UNIQUE INDEX customers_email_key ON customers (email)"
    )
    config = _exact_config(pg_store.dsn)
    connector = pg_store.connector(config)
    where, _ = SubjectQuery(
        connector.dialect, connector.store, subject_identity()
    ).where(connector.store.table("customers"))

    # when
    report = connector.health()

    # then: no advice for customers.email, and the match is the plain column
    assert not [w for w in report.warnings if w.message.startswith("customers.email")]
    assert '("email" IN (' in where
    assert "lower" not in where.split(" OR ")[0]
    plan = _plan(pg_store, config, "customers", EMAIL_ONLY)
    assert "customers_email_key" in plan
    assert "Seq Scan" not in plan
    # exact means exact: the stored "Jane.Doe@Example.com" is not the asked
    # "jane.doe@example.com" (other identifiers still find the row)
    assert "customers" not in connector.discover(EMAIL_ONLY)
    pg_store.execute("UPDATE customers SET email = lower(email)")
    assert connector.discover(EMAIL_ONLY)["customers"] == 1


def test_postgres_citext_column_is_told_to_be_declared_exact_and_then_uses_its_index(
    pg_store: Helpdesk,
) -> None:
    # given
    _autocommit(
        pg_store,
        "CREATE EXTENSION IF NOT EXISTS citext",
        "ALTER TABLE customers ALTER COLUMN email TYPE citext",
        "CREATE UNIQUE INDEX customers_email_key ON customers (email)",
    )

    # when: matched through lower(), the citext column's index is no use
    report = pg_store.connector().health()

    # then
    warning = next(
        w for w in report.warnings if w.message.startswith("customers.email")
    )
    assert "citext" in warning.message
    assert warning.fix == '"identity": {"email": {"column": "email", "exact": true}}'

    # when: declared exact
    config = _exact_config(pg_store.dsn)
    report = pg_store.connector(config).health()

    # then: no warning, the plain index serves it, and citext ignores case
    assert not [w for w in report.warnings if w.message.startswith("customers.email")]
    plan = _plan(pg_store, config, "customers", EMAIL_ONLY)
    assert "customers_email_key" in plan
    assert "Seq Scan" not in plan
    only_email = Identity(emails=("JANE.doe@example.COM",))
    assert pg_store.connector(config).discover(only_email)["customers"] == 1


def test_sqlite_health_asks_its_planner_and_an_expression_index_satisfies_it(
    tmp_path: Any,
) -> None:
    # given
    path = tmp_path / "helpdesk.db"
    sqlite3.connect(path).close()
    store = Helpdesk(kind="sqlite", dsn=f"sqlite:///{path}")
    store.build()
    store.execute("CREATE UNIQUE INDEX customers_email_key ON customers (email)")

    # when
    report = store.connector().health()

    # then
    fixes = {w.message.split(":")[0]: w.fix for w in report.warnings}
    assert fixes["customers.email"] == (
        'CREATE INDEX "customers_email_lower" ON "customers" (lower("email"))'
    )

    # when
    for fix in fixes.values():
        store.execute(fix)

    # then
    assert store.connector().health().warnings == ()


def test_mariadb_health_says_indexes_are_not_checked(
    mariadb_store_dsn: tuple[str, str],
) -> None:
    dsn, password = mariadb_store_dsn
    store = Helpdesk(kind="mariadb", dsn=dsn, password=password)
    store.build()

    report = store.connector().health()

    assert report.status.endswith("identity indexes not checked on this database")
    assert report.warnings == ()
