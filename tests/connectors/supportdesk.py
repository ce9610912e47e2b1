"""A supportdesk-shaped store for discovery tests, in SQLite or PostgreSQL.

Customers, the agents who answer them, tickets (their customer and their
assignee), messages whose bodies carry names, e-mails and phone numbers,
AI conversations of a customer and their turns (free text with PII). The
subject is customer 1, Jane Doe; everyone else must survive her erasure.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SUBJECT_EMAIL = "jane.doe@example.com"
SUBJECT_PHONE = "+44 20 7946 0958"
PEOPLE = [
    (1, "Jane Doe", "Jane.Doe@Example.com", SUBJECT_PHONE),
    (2, "Omar Haddad", "omar.haddad@mail.example.org", "+49 30 5550192"),
    (3, "Lena Fischer", "lena.fischer@mail.example.org", "+49 30 5550777"),
    (4, "Ravi Patel", "ravi.patel@mail.example.org", "+44 161 4960 321"),
]
AGENTS = [
    (1, "Sam Agent", "sam@support.example.net"),
    (2, "Kim Agent", "kim@support.example.net"),
]

DDL = (
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name VARCHAR(200),"
    " email_address VARCHAR(200), mobile VARCHAR(64), external_ref VARCHAR(40),"
    " plan VARCHAR(20), processing_restricted BOOLEAN NOT NULL DEFAULT FALSE)",
    "CREATE TABLE agents (id INTEGER PRIMARY KEY, display_name VARCHAR(200),"
    " email VARCHAR(200), team VARCHAR(40))",
    "CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL"
    " REFERENCES customers(id), assignee_id INTEGER REFERENCES agents(id),"
    " title VARCHAR(300), state VARCHAR(20))",
    "CREATE TABLE ticket_messages (id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL"
    " REFERENCES tickets(id), sender VARCHAR(20), body TEXT)",
    "CREATE TABLE ai_conversations (id INTEGER PRIMARY KEY, customer_id INTEGER"
    " NOT NULL REFERENCES customers(id), channel VARCHAR(20), summary TEXT)",
    "CREATE TABLE ai_turns (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL"
    " REFERENCES ai_conversations(id), role VARCHAR(20), content TEXT)",
    "CREATE TABLE products (id INTEGER PRIMARY KEY, sku VARCHAR(40),"
    " price NUMERIC(10, 2))",
)
TABLES = (
    "ai_turns",
    "ai_conversations",
    "ticket_messages",
    "tickets",
    "agents",
    "customers",
    "products",
)


@dataclass
class Supportdesk:
    """One real supportdesk store and helpers to look inside it."""

    kind: str  # sqlite | postgresql
    dsn: str  # without the password
    password: str = ""

    def connect(self) -> Any:
        if self.kind == "sqlite":
            return sqlite3.connect(self.dsn[len("sqlite:///") :])
        import psycopg

        return psycopg.connect(self.dsn, password=self.password or None)

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

    def execute(self, sql: str, rows: Sequence[Sequence[Any]] = ((),)) -> None:
        connection = self.connect()
        try:
            cursor = connection.cursor()
            for row in rows:
                cursor.execute(self._sql(sql), list(row))
            connection.commit()
        finally:
            connection.close()

    def build(self) -> None:
        for table in TABLES:
            self.execute(f"DROP TABLE IF EXISTS {table}")
        for ddl in DDL:
            flag = "BOOLEAN NOT NULL DEFAULT 0" if self.kind == "sqlite" else None
            self.execute(
                ddl.replace("BOOLEAN NOT NULL DEFAULT FALSE", flag) if flag else ddl
            )
        self.execute(
            "INSERT INTO customers"
            " (id, full_name, email_address, mobile, external_ref, plan)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (i, name, email, phone, f"CUS-{9000 + i}", "pro")
                for i, name, email, phone in PEOPLE
            ],
        )
        self.execute(
            "INSERT INTO agents VALUES (?, ?, ?, ?)",
            [(i, name, email, "tier-1") for i, name, email in AGENTS],
        )
        tickets: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        conversations: list[tuple[Any, ...]] = []
        turns: list[tuple[Any, ...]] = []
        for i, name, email, phone in PEOPLE:
            first = name.split()[0]
            for _ in range(3):
                ticket = len(tickets) + 1
                order = f"ORD-{400100 + ticket}"
                tickets.append(
                    (ticket, i, 1 + ticket % 2, f"{order}: parcel missing", "open")
                )
                messages += [
                    (
                        len(messages) + 1,
                        ticket,
                        "customer",
                        f"Hi, this is {name}. Please call me on {phone} about {order}.",
                    ),
                    (
                        len(messages) + 2,
                        ticket,
                        "agent",
                        f"Thanks {first}, we wrote to {email.lower()} with a label.",
                    ),
                    (
                        len(messages) + 3,
                        ticket,
                        "customer",
                        "Thanks for getting back to me so quickly, that works.",
                    ),
                ]
            conversation = len(conversations) + 1
            conversations.append(
                (
                    conversation,
                    i,
                    "web",
                    f"{first} asked about {order}; reach at {email.lower()}",
                )
            )
            turns += [
                (
                    len(turns) + 1,
                    conversation,
                    "user",
                    f"My e-mail is {email.lower()} and my phone {phone}.",
                ),
                (
                    len(turns) + 2,
                    conversation,
                    "assistant",
                    f"Thanks {first}, I found order {order}.",
                ),
            ]
        self.execute("INSERT INTO tickets VALUES (?, ?, ?, ?, ?)", tickets)
        self.execute("INSERT INTO ticket_messages VALUES (?, ?, ?, ?)", messages)
        self.execute("INSERT INTO ai_conversations VALUES (?, ?, ?, ?)", conversations)
        self.execute("INSERT INTO ai_turns VALUES (?, ?, ?, ?)", turns)
        self.execute(
            "INSERT INTO products VALUES (?, ?, ?)",
            [(n, f"SKU-{n:05d}", "19.90") for n in range(1, 6)],
        )

    def everything_of_others(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row that is not the subject's, for the "others remain" check."""
        return {
            "customers": self.rows("SELECT * FROM customers WHERE id <> 1 ORDER BY id"),
            "agents": self.rows("SELECT * FROM agents ORDER BY id"),
            "tickets": self.rows(
                "SELECT * FROM tickets WHERE customer_id <> 1 ORDER BY id"
            ),
            "ticket_messages": self.rows(
                "SELECT * FROM ticket_messages WHERE ticket_id IN"
                " (SELECT id FROM tickets WHERE customer_id <> 1) ORDER BY id"
            ),
            "ai_conversations": self.rows(
                "SELECT * FROM ai_conversations WHERE customer_id <> 1 ORDER BY id"
            ),
            "ai_turns": self.rows(
                "SELECT * FROM ai_turns WHERE conversation_id IN"
                " (SELECT id FROM ai_conversations WHERE customer_id <> 1) ORDER BY id"
            ),
            "products": self.rows("SELECT * FROM products ORDER BY id"),
        }

    def subject_texts(self) -> list[str]:
        """Every text value left in the store that could name the subject."""
        texts: list[str] = []
        for sql in (
            "SELECT full_name, email_address, mobile, external_ref FROM customers"
            " WHERE id = 1",
            "SELECT title FROM tickets WHERE customer_id = 1",
            "SELECT body FROM ticket_messages WHERE ticket_id IN"
            " (SELECT id FROM tickets WHERE customer_id = 1)",
            "SELECT summary FROM ai_conversations WHERE customer_id = 1",
            "SELECT content FROM ai_turns WHERE conversation_id IN"
            " (SELECT id FROM ai_conversations WHERE customer_id = 1)",
        ):
            for row in self.rows(sql):
                texts.extend(str(value) for value in row if value is not None)
        return texts
