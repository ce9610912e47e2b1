"""A realistic, deterministic helpdesk store for the demo, tests and benchmarks.

Four tables, the shape most support tools share: customers, their tickets,
the messages of each ticket (free text with names, e-mails, phone numbers and
order numbers inside), and AI-assistant conversation logs keyed by e-mail.
Everything comes from one seeded random generator: the same seed gives the
same store, byte for byte.
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIRST_NAMES = (
    "Maria Ada Grace Linus Amara Sven Chloe Mateo Priya Jonas Aisha Oliver Lucia "
    "Kenji Fatima Noah Elena Tomasz Ingrid Samuel Leila Marco Hannah Diego Yara "
    "Felix Nadia Arjun Sofia Ewan Zara Pieter Camille Omar Freya Luca Mei Rafael"
).split()
LAST_NAMES = (
    "Garcia Lovelace Hopper Torvalds Okafor Lindqvist Dubois Fernandez Sharma "
    "Becker Khan Smith Rossi Tanaka Haddad Walsh Petrova Nowak Larsen Mensah "
    "Aziz Romano Schmidt Alvarez Nasser Weber Ivanova Patel Moreau Campbell "
    "Ahmed Jansen Laurent Farouk Berg Bianchi Chen Costa"
).split()
DOMAINS = ("example.com", "example.org", "example.net")
PRODUCTS = (
    "headphones",
    "coffee grinder",
    "running shoes",
    "desk lamp",
    "backpack",
    "smart watch",
    "phone case",
    "blender",
    "yoga mat",
    "e-reader",
)

CUSTOMER_OPENERS = (
    "Hi, this is {name}. My order {order} for the {product} still hasn't arrived.",
    "Hello, {name} here. I was charged twice for order {order}, can you check?",
    "The {product} from order {order} arrived broken. Please call me on {phone}.",
    "Can you change the delivery address on {order}? Reply to {email} please.",
    "I'd like to return the {product} (order {order}). My number is {phone}.",
    "Why was order {order} cancelled? You can reach me at {email} or {phone}.",
)
AGENT_REPLIES = (
    "Thanks {first}, I've looked into {order} and escalated it to our warehouse.",
    "Sorry about that, {first}. A refund for {order} is on its way (3-5 days).",
    "Hi {first}, I've sent a return label to {email}.",
    "We tried to call you on {phone} but couldn't get through, {first}.",
    "Order {order} is now marked for redelivery tomorrow, {first}.",
)
FOLLOW_UPS = (
    "Thanks! Also, my colleague {other} might call about it from {other_phone}.",
    "Great, thank you. Please send updates to {email}.",
    "That works. The tracking page still shows {order} as pending though.",
    "Perfect, thanks for the quick help.",
)
BOT_LINES = (
    "I can help with order {order}. Could you confirm the e-mail on the account?",
    "Thanks {first}. I found order {order} for the {product}; it shipped yesterday.",
    "I've noted your new phone number {phone} for delivery updates.",
    "Let me hand you over to a human agent about the refund for {order}.",
)
USER_LINES = (
    "Sure, it's {email}.",
    "Where is my {product}? Order {order}.",
    "My phone changed, it's now {phone}.",
    "I want a refund for {order}, it was a gift for {other}.",
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

# The connector map the issue asks for: the customer row survives anonymised,
# ticket and message texts are redacted, AI logs are deleted.
SQL_CONNECTOR_TABLES: list[dict[str, Any]] = [
    {
        "table": "customers",
        "key": "id",
        "category": "contact",
        "identity": {
            "email": "email",
            "phone": "phone",
            "customer_id": {"column": "crm_id", "system": "crm"},
        },
        "name_column": "name",
        "restrict_column": "restricted",
        "objection_column": "objected",
        "erase": {
            "email": "hash",
            "name": "null",
            "phone": "null",
            "crm_id": "pseudonymize",
        },
    },
    {
        "table": "tickets",
        "key": "id",
        "category": "support_ticket",
        "parent": {"table": "customers", "column": "customer_id"},
        "erase": {"subject": "redact_pii"},
    },
    {
        "table": "messages",
        "key": "id",
        "category": "support_message",
        "parent": {"table": "tickets", "column": "ticket_id"},
        "erase": {"body": "redact_pii"},
    },
    {
        "table": "ai_conversations",
        "key": "id",
        "category": "ai_conversation",
        "identity": {"email": "customer_email"},
        "erase": "delete",
    },
]


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    email: str
    phone: str
    crm_id: str


@dataclass(frozen=True)
class StoreSize:
    customers: int
    tickets_per_customer: int = 5
    messages_per_ticket: int = 4
    ai_conversations_per_customer: int = 1


def _phone_for(customer_id: int) -> str:
    """A unique mobile-style number per customer (so a phone names one person)."""
    return f"+44 7{700 + customer_id // 1_000_000:03d} {customer_id % 1_000_000:06d}"


def _phone(rng: random.Random) -> str:
    return _phone_for(rng.randint(1_000_000, 9_999_999))


def customer(customer_id: int, *, seed: int = 2026) -> Customer:
    """The customer with this id, derived from the seed alone (no store needed)."""
    rng = random.Random(seed * 1_000_003 + customer_id)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}.{customer_id}@{rng.choice(DOMAINS)}".lower()
    return Customer(
        customer_id,
        f"{first} {last}",
        email,
        _phone_for(customer_id),
        f"C-{100000 + customer_id}",
    )


def _fill(rng: random.Random, template: str, c: Customer) -> str:
    other = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return template.format(
        name=c.name,
        first=c.name.split()[0],
        email=c.email,
        phone=c.phone,
        order=f"ORD-{rng.randint(100000, 999999)}",
        product=rng.choice(PRODUCTS),
        other=other,
        other_phone=_phone(rng),
    )


def rows(size: StoreSize, *, seed: int = 2026) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every row of the store as (table, values), parents before children."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    ticket_id = message_id = 0
    for customer_id in range(1, size.customers + 1):
        c = customer(customer_id, seed=seed)
        created = start + timedelta(minutes=rng.randint(0, 900_000))
        yield "customers", (c.id, c.name, c.email, c.phone, c.crm_id, created)
        for _ in range(size.tickets_per_customer):
            ticket_id += 1
            opened = created + timedelta(hours=rng.randint(1, 9000))
            yield (
                "tickets",
                (
                    ticket_id,
                    customer_id,
                    _fill(rng, "Order {order}: {product}", c),
                    rng.choice(("open", "pending", "solved", "closed")),
                    opened,
                ),
            )
            lines = (CUSTOMER_OPENERS, AGENT_REPLIES, FOLLOW_UPS, AGENT_REPLIES)
            for index in range(size.messages_per_ticket):
                message_id += 1
                author = ("customer", "agent")[index % 2]
                body = _fill(rng, rng.choice(lines[index % len(lines)]), c)
                yield (
                    "messages",
                    (
                        message_id,
                        ticket_id,
                        author,
                        body,
                        opened + timedelta(minutes=7 * index),
                    ),
                )
        for index in range(size.ai_conversations_per_customer):
            turns = [
                {
                    "role": "user" if turn % 2 else "assistant",
                    "text": _fill(
                        rng, rng.choice(USER_LINES if turn % 2 else BOT_LINES), c
                    ),
                }
                for turn in range(4)
            ]
            yield (
                "ai_conversations",
                (
                    customer_id * 10 + index,
                    c.email,
                    json.dumps(turns),
                    "support-assistant-v2",
                    created + timedelta(days=rng.randint(1, 400)),
                ),
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
    import psycopg

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
                    "text": _fill(
                        rng, rng.choice(USER_LINES if turn % 2 else BOT_LINES), c
                    ),
                }
                for turn in range(6)
            ],
            "summary": _fill(rng, "Customer asked about {order} ({product}).", c),
        }
        assert handle is not None  # the first customer opened one (0 % per_file == 0)
        handle.write(json.dumps(conversation, sort_keys=True) + "\n")
        written += 1
    if handle:
        handle.close()
    return written


FILES_CONNECTOR_CONFIG: dict[str, Any] = {
    "pattern": "*.jsonl",
    "identity": {
        "email": "customer.email",
        "phone": "customer.phone",
        "customer_id": {"path": "customer.id", "system": "crm"},
    },
    "text_fields": ["messages[].text", "summary"],
    "erase": "redact_pii",
}


# What the subject is told about each demo store (GDPR 15(1)(a)-(h), 15(2)).
HELPDESK_DISCLOSURE: dict[str, Any] = {
    "purposes": [
        "Answering your support requests",
        "Handling orders, deliveries and refunds",
    ],
    "recipients": [
        "Example Helpdesk Cloud Ltd, Dublin (processor hosting our helpdesk)",
        "Example Couriers GmbH (delivery questions only)",
    ],
    "retention": "Tickets and messages are kept 24 months after the last reply.",
    "source": "You, when you contacted support; order data from our web shop.",
    "automated_decision_making": {"not_applicable": "No automated decisions are made."},
    "transfers": {"not_applicable": "The helpdesk is hosted in the EU."},
}
TRANSCRIPTS_DISCLOSURE: dict[str, Any] = {
    "purposes": [
        "Answering you through our AI assistant",
        "Quality review of the assistant's answers",
    ],
    "recipients": [
        "Example AI Hosting BV, Amsterdam (processor running the assistant)"
    ],
    "retention": "Chat transcripts are kept 12 months.",
    "source": "You, in conversations with our chat assistant.",
    "automated_decision_making": {
        "logic": "The assistant suggests answers; refunds over 50 EUR go to a person.",
        "significance": "It can approve small refunds automatically.",
        "consequences": "A refused automatic refund is always reviewed by staff.",
    },
    "transfers": {"not_applicable": "Transcripts stay in the EU."},
}
DEMO_CUSTOMERS = 2000


def demo_stores_seed(folder: Path) -> list[tuple[str, bool]]:
    """Build the demo helpdesk and transcript stores under `folder`, and their
    connectors. Idempotent: an existing store or connector is left as it is.

    Returns (connector name, created?) pairs."""
    from accounts.actors import actor_system
    from connectors.models import Connector
    from connectors.services import connector_create

    store = folder / "helpdesk.sqlite3"
    transcripts = folder / "transcripts"
    if not store.exists():
        build_sqlite(store, StoreSize(customers=DEMO_CUSTOMERS))
    if not any(transcripts.glob("*.jsonl")):
        build_transcripts(transcripts, DEMO_CUSTOMERS)
    wanted = [
        (
            "helpdesk",
            "sql",
            {"dsn": f"sqlite:///{store}", "tables": SQL_CONNECTOR_TABLES},
            ["contact", "support_ticket", "support_message", "ai_conversation"],
            HELPDESK_DISCLOSURE,
        ),
        (
            "chat-transcripts",
            "files",
            {"folder": str(transcripts), **FILES_CONNECTOR_CONFIG},
            ["ai_conversation"],
            TRANSCRIPTS_DISCLOSURE,
        ),
    ]
    results = []
    for name, kind, config, categories, disclosure in wanted:
        if Connector.objects.filter(name=name).exists():
            results.append((name, False))
            continue
        connector_create(
            actor=actor_system("seed_demo"),
            name=name,
            kind=kind,
            config=config,
            data_categories=categories,
            disclosure=disclosure,
        )
        results.append((name, True))
    return results
