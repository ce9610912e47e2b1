"""Real helpdesk stores for the connector tests.

`store` is parametrized over SQLite (a file in tmp_path), PostgreSQL (a
database `pd_test_store_<worker>_<pid>` created for the test session on the
test database's server; the pid keeps concurrent runs on one server apart) and
MariaDB (the same, when a server answers; skipped otherwise). Every test
gets the same five tables freshly built and filled with seeded, realistic
data: customers, tickets, messages whose bodies carry names, e-mails, phones
and order numbers, AI conversation logs, invoices.
"""

from __future__ import annotations

import copy
import os
import random
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from connectors.base import Identity
from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.kinds.sql import SqlConnector
from tests.connectors.discovery_stores import discovery_store  # noqa: F401
from tests.connectors.pg_scratch import scratch_database
from tests.pgvector_server import pgvector_database, pgvector_server  # noqa: F401

TABLES = ("messages", "tickets", "invoices", "ai_conversations", "customers")
SUBJECT = {
    "id": 1,
    "name": "Jane Doe",
    "email": "Jane.Doe@Example.com",  # stored with capitals; asked for in lower case
    "phone": "+44 20 7946 0958",
    "crm_id": "CRM-100001",
}
FIRST = ["Omar", "Lena", "Ravi", "Sofia", "Tomasz", "Akira", "Maria", "Kwame", "Ines"]
LAST = ["Haddad", "Fischer", "Patel", "Rossi", "Nowak", "Tanaka", "Garcia", "Mensah"]
FILLER = [
    "Thanks for getting back to me so quickly.",
    "The parcel still has not arrived and the tracking page shows no update.",
    "I tried restarting the router as suggested but the light keeps blinking.",
    "Could you please check the status of my refund?",
    "Your assistant said it would take three to five working days.",
    "I would like to change the delivery address for my next order.",
    "The invoice shows a different amount than what I paid at checkout.",
]


def subject_identity() -> Identity:
    return Identity(
        emails=("jane.doe@example.com",),
        phones=("+442079460958",),
        customer_ids={"crm": (SUBJECT["crm_id"],)},
    )


def helpdesk_config(dsn: str) -> dict[str, Any]:
    """The demo map (the issue's, plus a CRM id, a name column and flags), and
    an invoices table kept under a tax-law duty."""
    invoices = {
        "table": "invoices",
        "key": "id",
        "category": "billing",
        "parent": {"table": "customers", "column": "customer_id"},
        "erase": {
            "billing_name": {
                "strategy": "keep",
                "basis": "GDPR 17(3)(b)",
                "reason": "invoices kept 10 years under tax law",
            }
        },
    }
    return {"dsn": dsn, "tables": [*copy.deepcopy(SQL_CONNECTOR_TABLES), invoices]}


@dataclass
class Helpdesk:
    """One real store with seeded data, and helpers to look inside it."""

    kind: str  # sqlite | postgresql | mariadb
    dsn: str
    password: str = ""
    seed: int = 20260
    subject_ticket_ids: list[int] = field(default_factory=list)

    # -- raw access for arranging and asserting -----------------------------
    def connect(self) -> Any:
        if self.kind == "sqlite":
            return sqlite3.connect(self.dsn[len("sqlite:///") :])
        if self.kind == "postgresql":
            import psycopg

            return psycopg.connect(self.dsn, password=self.password or None)
        import pymysql

        parts = urlsplit(self.dsn)
        return pymysql.connect(
            host=parts.hostname,
            port=parts.port or 3306,
            user=parts.username or "root",
            password=self.password,
            database=parts.path.lstrip("/"),
            charset="utf8mb4",
        )

    def _sql(self, sql: str) -> str:
        return sql if self.kind == "sqlite" else sql.replace("?", "%s")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(self._sql(sql), list(params))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.execute_many(sql, [list(params)])

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        connection = self.connect()
        try:
            cursor = connection.cursor()
            if len(rows) == 1:
                cursor.execute(self._sql(sql), list(rows[0]))
            else:
                cursor.executemany(self._sql(sql), [list(r) for r in rows])
            connection.commit()
        finally:
            connection.close()

    def connector(self, config: dict[str, Any] | None = None) -> SqlConnector:
        secrets = {"password": self.password} if self.password else {}
        return SqlConnector(
            name=f"helpdesk-{self.kind}",
            config=config or helpdesk_config(self.dsn),
            secrets=secrets,
        )

    def others(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row that does not belong to the subject, in key order."""
        subject = SUBJECT["id"]
        return {
            "customers": self.rows(
                "SELECT * FROM customers WHERE id <> ? ORDER BY id", [subject]
            ),
            "tickets": self.rows(
                "SELECT * FROM tickets WHERE customer_id <> ? ORDER BY id", [subject]
            ),
            "messages": self.rows(
                "SELECT * FROM messages WHERE ticket_id IN "
                "(SELECT id FROM tickets WHERE customer_id <> ?) ORDER BY id",
                [subject],
            ),
            "ai_conversations": self.rows(
                "SELECT * FROM ai_conversations WHERE LOWER(customer_email) <> ? "
                "ORDER BY id",
                ["jane.doe@example.com"],
            ),
            "invoices": self.rows(
                "SELECT * FROM invoices WHERE customer_id <> ? ORDER BY id", [subject]
            ),
        }

    def everything(self) -> dict[str, list[tuple[Any, ...]]]:
        return {t: self.rows(f"SELECT * FROM {t} ORDER BY id") for t in TABLES}

    # -- building the store ---------------------------------------------------
    def build(self) -> None:
        for table in TABLES:
            self.execute(f"DROP TABLE IF EXISTS {table}")
        ts = "DATETIME" if self.kind == "mariadb" else "TIMESTAMP"
        flag = "BOOLEAN NOT NULL DEFAULT FALSE"
        if self.kind == "sqlite":
            flag = "BOOLEAN NOT NULL DEFAULT 0"
        for ddl in (
            f"CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200),"
            f" name VARCHAR(200), phone VARCHAR(64), crm_id VARCHAR(64),"
            f" restricted {flag}, objected {flag}, created_at {ts})",
            f"CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER"
            f" REFERENCES customers(id), subject VARCHAR(300), status VARCHAR(20),"
            f" created_at {ts})",
            f"CREATE TABLE messages (id INTEGER PRIMARY KEY, ticket_id INTEGER"
            f" REFERENCES tickets(id), author VARCHAR(20), body TEXT, created_at {ts})",
            f"CREATE TABLE ai_conversations (id INTEGER PRIMARY KEY, customer_email"
            f" VARCHAR(200), model VARCHAR(60), transcript TEXT, created_at {ts})",
            "CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER"
            " REFERENCES customers(id), billing_name VARCHAR(200),"
            " amount NUMERIC(10, 2))",
        ):
            self.execute(ddl)
        if self.kind != "sqlite":
            self.execute("CREATE INDEX tickets_customer ON tickets (customer_id)")
            self.execute("CREATE INDEX messages_ticket ON messages (ticket_id)")
        self._fill()

    def _fill(self, customers: int = 24) -> None:
        rng = random.Random(self.seed)
        start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
        people = [dict(SUBJECT)]
        for number in range(2, customers + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            people.append(
                {
                    "id": number,
                    "name": f"{first} {last}",
                    "email": f"{first}.{last}{number}@mail.example.org".lower(),
                    "phone": f"+49 30 {rng.randint(1000000, 9999999)}",
                    "crm_id": f"CRM-{100000 + number}",
                }
            )
        customer_rows, ticket_rows, message_rows, ai_rows, invoice_rows = (
            [],
            [],
            [],
            [],
            [],
        )
        ticket_id = message_id = 0
        for person in people:
            when = (start + timedelta(days=person["id"])).isoformat(sep=" ")[:19]
            customer_rows.append(
                [
                    person["id"],
                    person["email"],
                    person["name"],
                    person["phone"],
                    person["crm_id"],
                    when,
                ]
            )
            first = person["name"].split()[0]
            for _ in range(3 if person["id"] == 1 else rng.randint(1, 3)):
                ticket_id += 1
                order = f"ORD-{rng.randint(100000, 999999)}"
                ticket_rows.append(
                    [
                        ticket_id,
                        person["id"],
                        f"{first}: {order} not delivered",
                        "open",
                        when,
                    ]
                )
                if person["id"] == 1:
                    self.subject_ticket_ids.append(ticket_id)
                for turn in range(4):
                    message_id += 1
                    message_rows.append(
                        [
                            message_id,
                            ticket_id,
                            "customer" if turn % 2 == 0 else "agent",
                            self._body(rng, person, order, turn),
                            when,
                        ]
                    )
            for number in range(2 if person["id"] == 1 else 1):
                ai_rows.append(
                    [
                        len(ai_rows) + 1,
                        person["email"].lower(),
                        "support-assistant-v2",
                        f"user: hi, I am {person['name']} ({person['email']}). "
                        f"assistant: how can I help with conversation {number}?",
                        when,
                    ]
                )
            invoice_rows.append(
                [len(invoice_rows) + 1, person["id"], person["name"], "49.90"]
            )
        self.execute_many(
            "INSERT INTO customers (id, email, name, phone, crm_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            customer_rows,
        )
        self.execute_many("INSERT INTO tickets VALUES (?, ?, ?, ?, ?)", ticket_rows)
        self.execute_many("INSERT INTO messages VALUES (?, ?, ?, ?, ?)", message_rows)
        self.execute_many(
            "INSERT INTO ai_conversations VALUES (?, ?, ?, ?, ?)", ai_rows
        )
        self.execute_many("INSERT INTO invoices VALUES (?, ?, ?, ?)", invoice_rows)

    @staticmethod
    def _body(rng: random.Random, person: dict[str, Any], order: str, turn: int) -> str:
        filler = rng.choice(FILLER)
        if turn == 1:
            return f"Hello {person['name'].split()[0]}, sorry about {order}. {filler}"
        if turn == 3:
            card = "4111 1111 1111 1111"
            return f"Agent note: {filler} Card on file {card} was not charged."
        contact = [
            f"Hi, this is {person['name']}, write to {person['email'].lower()} "
            f"about {order} please.",
            f"You can call me on {person['phone']} after five. {filler}",
        ][turn // 2]
        return f"{contact} {filler}"


# --- the servers -------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_store_dsn(worker_id: str) -> Iterator[tuple[str, str]]:
    with scratch_database("pd_test_store", worker_id) as database:
        yield database


@pytest.fixture(scope="session")
def mariadb_store_dsn(worker_id: str) -> Iterator[tuple[str, str]]:
    import pymysql

    url = urlsplit(os.environ.get("PD_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"))
    password = url.password or ""
    try:
        admin = pymysql.connect(
            host=url.hostname,
            port=url.port or 3306,
            user=url.username or "root",
            password=password,
            connect_timeout=3,
        )
    except pymysql.Error:
        pytest.skip("no MariaDB/MySQL server answers (set PD_TEST_MYSQL_URL)")
    name = f"pd_test_store_{worker_id}_{os.getpid()}"
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    dsn = f"mysql://{url.username or 'root'}@{url.hostname}:{url.port or 3306}/{name}"
    try:
        yield dsn, password
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Helpdesk:
    kind = request.param
    password = ""
    if kind == "sqlite":
        path = tmp_path / "helpdesk.db"
        sqlite3.connect(path).close()
        dsn = f"sqlite:///{path}"
    elif kind == "postgresql":
        dsn, password = request.getfixturevalue("postgres_store_dsn")
    else:
        dsn, password = request.getfixturevalue("mariadb_store_dsn")
    helpdesk = Helpdesk(kind=kind, dsn=dsn, password=password)
    helpdesk.build()
    return helpdesk
