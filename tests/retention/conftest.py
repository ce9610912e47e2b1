"""Real helpdesk stores for the retention tests.

`helpdesk` is parametrized over SQLite (a file in tmp_path) and PostgreSQL
(a database created once per test session on the test database's server),
each rebuilt per test from the seeded demo generator: customers, their
tickets, the tickets' messages and AI conversation logs, with created_at
columns spread over 2024-2026.
"""

from __future__ import annotations

import copy
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.actors import Actor, actor_system
from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize, customer
from connectors.demo.stores import build_postgres, build_sqlite
from connectors.models import Connector
from retention.models import RetentionPolicy
from retention.services.holds import hold_subject_for_identity, legal_hold_place
from retention.services.policies import retention_policy_create

CUSTOMERS = 40
SIZE = StoreSize(customers=CUSTOMERS, tickets_per_customer=3, messages_per_ticket=3)
# Rows created before this are past retention in every test: time stands
# still at NOW, so every run (dry or real) computes exactly this cutoff.
CUTOFF = datetime(2025, 3, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def store_tables() -> list[dict[str, Any]]:
    """The demo map, with every identity column given an erasure strategy."""
    tables = copy.deepcopy(SQL_CONNECTOR_TABLES)
    for table in tables:
        erase = table.get("erase")
        if not isinstance(erase, dict):
            continue
        for spec in (table.get("identity") or {}).values():
            column = spec["column"] if isinstance(spec, dict) else spec
            erase.setdefault(column, "pseudonymize")
    return tables


def days_until_cutoff() -> int:
    """max_age_days that puts the policy's cutoff at CUTOFF."""
    return (timezone.now() - CUTOFF).days


@pytest.fixture(autouse=True)
def frozen_now(time_machine: Any) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@dataclass
class Helpdesk:
    """One real store and helpers to look inside it."""

    kind: str  # sqlite | postgresql
    dsn: str

    def connect(self) -> Any:
        if self.kind == "sqlite":
            return sqlite3.connect(self.dsn[len("sqlite:///") :])
        import psycopg

        return psycopg.connect(self.dsn)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.kind != "sqlite":
            sql = sql.replace("?", "%s")
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, list(params))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.rows(sql, params)[0][0]

    def age(self, column: str = "created_at") -> str:
        """SQL for "older than CUTOFF" on either database (one ? parameter)."""
        if self.kind == "sqlite":
            return f"datetime({column}) < datetime(?)"
        return f"{column} < ?"

    def cutoff_param(self) -> Any:
        return CUTOFF.strftime("%Y-%m-%d %H:%M:%S") if self.kind == "sqlite" else CUTOFF

    def block_writes(self, *, after_key: Any) -> Any:
        """Another writer, as a busy application would: on PostgreSQL it
        locks the tickets after `after_key`, on SQLite it takes the write
        lock. Returns its open connection; close it to let go."""
        if self.kind == "sqlite":
            connection = sqlite3.connect(
                self.dsn[len("sqlite:///") :], isolation_level=None
            )
            connection.execute("BEGIN IMMEDIATE")
            return connection
        connection = self.connect()
        connection.execute(
            "SELECT id FROM tickets WHERE id > %s FOR UPDATE", [after_key]
        ).fetchall()
        return connection

    def everything(self) -> dict[str, list[tuple[Any, ...]]]:
        return {
            table: self.rows(f"SELECT * FROM {table} ORDER BY id")
            for table in ("customers", "tickets", "messages", "ai_conversations")
        }


def _postgres_server() -> dict[str, Any] | None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"]:
        return None
    return {
        "host": database.get("HOST") or "127.0.0.1",
        "port": int(database.get("PORT") or 5432),
        "user": database.get("USER") or "postgres",
    }


@pytest.fixture(scope="session")
def retention_store_dsn(worker_id: str) -> Iterator[str]:
    server = _postgres_server()
    if server is None:
        pytest.skip("the test database is not PostgreSQL")
    import psycopg
    from psycopg import sql

    name = f"pd_test_retention_{worker_id}_{os.getpid()}"
    admin = psycopg.connect(
        dbname="postgres",
        host=server["host"],
        port=server["port"],
        user=server["user"],
        autocommit=True,
    )
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql://{server['user']}@{server['host']}:{server['port']}/{name}"
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def helpdesk(request: pytest.FixtureRequest, tmp_path: Path) -> Helpdesk:
    if request.param == "sqlite":
        path = tmp_path / "helpdesk.db"
        build_sqlite(path, SIZE)
        return Helpdesk("sqlite", f"sqlite:///{path}")
    dsn = request.getfixturevalue("retention_store_dsn")
    build_postgres(dsn, SIZE)
    return Helpdesk("postgresql", dsn)


@pytest.fixture
def sqlite_helpdesk(tmp_path: Path) -> Helpdesk:
    path = tmp_path / "helpdesk.db"
    build_sqlite(path, SIZE)
    return Helpdesk("sqlite", f"sqlite:///{path}")


@pytest.fixture
def postgres_helpdesk(retention_store_dsn: str) -> Helpdesk:
    build_postgres(retention_store_dsn, SIZE)
    return Helpdesk("postgresql", retention_store_dsn)


@pytest.fixture
def retention_actor() -> Actor:
    return actor_system("tests")


def make_connector(store: Helpdesk, name: str = "helpdesk") -> Connector:
    return Connector.objects.create(
        name=name,
        kind="sql",
        config={"dsn": store.dsn, "tables": store_tables()},
        data_categories=["contact", "support_ticket", "ai_conversation"],
    )


@pytest.fixture
def connector(db: Any, helpdesk: Helpdesk) -> Connector:
    return make_connector(helpdesk)


def make_policy(
    connector: Connector,
    *,
    table: str = "tickets",
    action: str = "delete",
    fields: Sequence[str] = (),
    batch_size: int = 25,
    name: str | None = None,
    **extra: Any,
) -> RetentionPolicy:
    return retention_policy_create(
        actor=actor_system("tests"),
        name=name or f"{table} {action}",
        connector=connector,
        table=table,
        age_column="created_at",
        max_age_days=days_until_cutoff(),
        action=action,
        fields=list(fields),
        batch_size=batch_size,
        **extra,
    )


def hold_customer(customer_id: int, *, reason: str = "litigation: order dispute"):  # type: ignore[no-untyped-def]
    """A legal hold on one demo customer, found by the e-mail the store holds."""
    actor = actor_system("tests")
    subject = hold_subject_for_identity(
        actor=actor, identity={"email": customer(customer_id).email}
    )
    return legal_hold_place(
        actor=actor,
        scope="subject",
        subject=subject,
        reason=reason,
        legal_basis="GDPR 17(3)(e): establishment of legal claims",
    )


def old_customer_with_tickets(store: Helpdesk) -> int:
    """A customer who has tickets past the cutoff."""
    return int(
        store.value(
            f"SELECT customer_id FROM tickets WHERE {store.age()} "
            "GROUP BY customer_id ORDER BY COUNT(*) DESC, customer_id LIMIT 1",
            [store.cutoff_param()],
        )
    )
