"""Builders that write the demo helpdesk store out.

SQLite (the demo's store), PostgreSQL with COPY (tests and benchmarks) and a
folder of JSON-lines chat transcripts (for the files kind), all filled from
``connectors.demo.content``.
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from connectors.demo.content import (
    BOT_LINES,
    USER_LINES,
    StoreSize,
    customer,
    fill_template,
    rows,
)

SCHEMA = (
    """CREATE TABLE customers (
        id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT, crm_id TEXT,
        created_at TIMESTAMP, ai_training_opt_out BOOLEAN NOT NULL DEFAULT FALSE,
        restricted BOOLEAN NOT NULL DEFAULT FALSE,
        objected BOOLEAN NOT NULL DEFAULT FALSE)""",
    """CREATE TABLE tickets (
        id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
        subject TEXT, status TEXT, created_at TIMESTAMP)""",
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        author TEXT, body TEXT, created_at TIMESTAMP)""",
    """CREATE TABLE ai_conversations (
        id INTEGER PRIMARY KEY, customer_email TEXT, transcript TEXT, model TEXT,
        created_at TIMESTAMP)""",
    "CREATE INDEX customers_email ON customers (email)",
    "CREATE INDEX customers_phone ON customers (phone)",
    "CREATE INDEX tickets_customer ON tickets (customer_id)",
    "CREATE INDEX messages_ticket ON messages (ticket_id)",
    "CREATE INDEX ai_conversations_email ON ai_conversations (customer_email)",
)

COLUMNS = {
    "customers": ("id", "name", "email", "phone", "crm_id", "created_at"),
    "tickets": ("id", "customer_id", "subject", "status", "created_at"),
    "messages": ("id", "ticket_id", "author", "body", "created_at"),
    "ai_conversations": ("id", "customer_email", "transcript", "model", "created_at"),
}


def build_sqlite(path: Path, size: StoreSize, *, seed: int = 2026) -> dict[str, int]:
    """Create (or replace) an SQLite store at `path`; returns row counts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    counts = dict.fromkeys(COLUMNS, 0)
    with sqlite3.connect(path) as db:
        for statement in SCHEMA:
            db.execute(statement)
        batch: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
        for table, values in rows(size, seed=seed):
            batch[table].append(
                tuple(v.isoformat() if isinstance(v, datetime) else v for v in values)
            )
            counts[table] += 1
            if len(batch[table]) >= 5000:
                _insert_sqlite(db, table, batch[table])
                batch[table] = []
        for table, pending in batch.items():
            _insert_sqlite(db, table, pending)
    return counts


def _insert_sqlite(
    db: sqlite3.Connection, table: str, values: list[tuple[Any, ...]]
) -> None:
    if values:
        marks = ", ".join("?" for _ in COLUMNS[table])
        db.executemany(
            f"INSERT INTO {table} ({', '.join(COLUMNS[table])}) VALUES ({marks})",
            values,
        )


def build_postgres(dsn: str, size: StoreSize, *, seed: int = 2026) -> dict[str, int]:
    """Create (replace) the four tables in a PostgreSQL database with COPY."""
    counts = dict.fromkeys(COLUMNS, 0)
    buffers = {table: io.StringIO() for table in COLUMNS}
    with psycopg.connect(dsn, autocommit=False) as conn:
        for table in ("messages", "tickets", "ai_conversations", "customers"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in SCHEMA:
            conn.execute(statement.replace("TIMESTAMP", "TIMESTAMPTZ"))
        with conn.cursor() as cursor:
            for table, values in rows(size, seed=seed):
                counts[table] += 1
                buffers[table].write("\t".join(_copy_value(v) for v in values) + "\n")
                if buffers[table].tell() > 8_000_000:
                    # Parents first, or a child row would name a parent not
                    # yet copied (the foreign keys check at once).
                    for name in (
                        "customers",
                        "tickets",
                        "messages",
                        "ai_conversations",
                    ):
                        _copy(cursor, name, buffers[name])
                        buffers[name] = io.StringIO()
            for table in ("customers", "tickets", "messages", "ai_conversations"):
                _copy(cursor, table, buffers[table])
        conn.execute("ANALYZE")
        conn.commit()
    return counts


def _copy_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _copy(cursor: Any, table: str, buffer: io.StringIO) -> None:
    buffer.seek(0)
    with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def build_transcripts(
    folder: Path, customers: int, *, seed: int = 2026, per_file: int = 500
) -> int:
    """JSON-lines chat transcripts (one conversation a line) for the files kind."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    rng = random.Random(seed + 7)
    written = 0
    handle = None
    for customer_id in range(1, customers + 1):
        if written % per_file == 0:
            if handle:
                handle.close()
            handle = (folder / f"chats-{written // per_file:04d}.jsonl").open("w")
        c = customer(customer_id, seed=seed)
        conversation = {
            "id": f"chat-{customer_id:06d}",
            "started_at": (
                datetime(2025, 1, 1, tzinfo=UTC)
                + timedelta(minutes=rng.randint(0, 500_000))
            ).isoformat(),
            "customer": {"email": c.email, "phone": c.phone, "id": c.crm_id},
            "messages": [
                {
                    "role": "user" if turn % 2 else "assistant",
                    "text": fill_template(
                        rng, rng.choice(USER_LINES if turn % 2 else BOT_LINES), c
                    ),
                }
                for turn in range(6)
            ],
            "summary": fill_template(
                rng, "Customer asked about {order} ({product}).", c
            ),
        }
        assert handle is not None  # the first customer opened one (0 % per_file == 0)
        handle.write(json.dumps(conversation, sort_keys=True) + "\n")
        written += 1
    if handle:
        handle.close()
    return written
