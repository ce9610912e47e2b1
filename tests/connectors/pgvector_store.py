"""A seeded pgvector store as an AI assistant's memory keeps it: LangChain's
PGVector tables (created as langchain-postgres creates them, with its GIN
`jsonb_path_ops` index on `cmetadata`), or a plain table of chunks.

Points are conversation chunks with realistic text (names, e-mails, phones,
order numbers) and small deterministic embeddings (8 dimensions, hashed from
the words: no model). Jane Doe's points carry her e-mail in several
capitalisations, her CRM id, or only the id of one of her conversations.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from connectors.base import Identity

DIMENSIONS = 8
COLLECTIONS = ("support_memory", "order_faq")
SUBJECT_EMAIL = "jane.doe@example.com"
SUBJECT_CRM = "CRM-100001"
SUBJECT_CONVERSATIONS = ("conv-7731", "4410")  # the second one a JSON number
FIRST = ["Omar", "Lena", "Ravi", "Sofia", "Tomasz", "Akira", "Maria", "Kwame"]
LAST = ["Haddad", "Fischer", "Patel", "Rossi", "Nowak", "Tanaka", "Garcia"]
LINES = [
    "Hi, this is {name}. Order {order} arrived with a cracked screen.",
    "{name} asked whether order {order} can still be sent to a new address.",
    "Call me back on {phone} about the refund for {order}, thanks {name}.",
    "Summary: {name} ({email}) wants to cancel order {order}.",
    "The assistant promised {name} a replacement for {order} within 5 days.",
]

LANGCHAIN_TABLES = """
CREATE TABLE langchain_pg_collection (
    uuid uuid PRIMARY KEY,
    name varchar NOT NULL UNIQUE,
    cmetadata json
);
CREATE TABLE langchain_pg_embedding (
    id varchar PRIMARY KEY,
    collection_id uuid REFERENCES langchain_pg_collection (uuid) ON DELETE CASCADE,
    embedding vector({dims}),
    document varchar,
    cmetadata jsonb
);
"""
LANGCHAIN_INDEX = """
CREATE INDEX ix_cmetadata_gin ON langchain_pg_embedding
    USING gin (cmetadata jsonb_path_ops);
"""
LANGCHAIN_DDL = LANGCHAIN_TABLES + LANGCHAIN_INDEX


def subject_identity() -> Identity:
    return Identity(
        emails=("Jane.Doe@Example.com",),  # as she typed it in the portal
        customer_ids={"crm": (SUBJECT_CRM,)},
    )


def embed(text: str) -> list[float]:
    """A deterministic stand-in for a model: words hashed into 8 buckets."""
    vector = [0.0] * DIMENSIONS
    for word in text.lower().split():
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % DIMENSIONS] += 1.0 if digest[1] % 2 else -1.0
    return vector


def literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{x:g}" for x in vector) + "]"


@dataclass
class Seeded:
    """What was written: point ids by collection, the subject's among them."""

    subject: dict[str, set[str]] = field(default_factory=dict)
    others: dict[str, set[str]] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)


def _chunks(rng: random.Random, count: int) -> list[tuple[str, dict[str, Any]]]:
    """Other customers' chunks: (document, metadata)."""
    chunks = []
    for index in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{index}@example.net".lower()
        text = rng.choice(LINES).format(
            name=f"{first} {last}",
            order=f"ORD-{rng.randint(100000, 999999)}",
            phone=f"+44 20 7946 {rng.randint(1000, 9999)}",
            email=email,
        )
        metadata: dict[str, Any] = {
            "customer_email": email,
            "conversation_id": f"conv-{rng.randint(1000, 6999)}",
            "source": "chat",
        }
        if index % 3 == 0:
            metadata["customer_id"] = f"CRM-{200000 + index}"
        chunks.append((text, metadata))
    return chunks


def _subject_chunks() -> list[tuple[str, dict[str, Any]]]:
    conv, numbered = SUBJECT_CONVERSATIONS
    return [
        (
            "Hi, this is Jane Doe. Order ORD-552190 arrived with a cracked screen.",
            {"customer_email": SUBJECT_EMAIL, "conversation_id": conv, "turn": 1},
        ),
        (  # only the conversation id: found through the chunk above
            "The assistant promised a replacement for ORD-552190 within 5 days.",
            {"conversation_id": conv, "turn": 2},
        ),
        (
            "Call me back on +44 20 7946 0958 about the refund, thanks Jane.",
            {"customer_email": "Jane.Doe@example.com", "turn": 1},
        ),
        (
            "Summary: Jane Doe wants to cancel order ORD-552191.",
            {"customer_id": SUBJECT_CRM, "conversation_id": int(numbered)},
        ),
        (  # a conversation the subject is known by through a numbered id
            "Jane asked whether order ORD-552191 can go to her office instead.",
            {"conversation_id": int(numbered), "turn": 3},
        ),
    ]


def seed_langchain(url: str, *, seed: int = 15, per_collection: int = 40) -> Seeded:
    """LangChain's tables with both collections filled; the subject's chunks
    spread over both."""
    rng = random.Random(seed)
    seeded = Seeded()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(LANGCHAIN_DDL.format(dims=DIMENSIONS))  # type: ignore[arg-type]
        for position, collection in enumerate(COLLECTIONS):
            collection_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            connection.execute(
                "INSERT INTO langchain_pg_collection (uuid, name, cmetadata) "
                "VALUES (%s, %s, %s)",
                [collection_id, collection, json.dumps({"owner": "assistant"})],
            )
            mine = _subject_chunks()[position::2]
            theirs = _chunks(rng, per_collection)
            seeded.subject[collection] = set()
            seeded.others[collection] = set()
            for number, (text, metadata) in enumerate([*theirs, *mine]):
                point_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                connection.execute(
                    "INSERT INTO langchain_pg_embedding "
                    "(id, collection_id, embedding, document, cmetadata) "
                    "VALUES (%s, %s, %s::vector, %s, %s::jsonb)",
                    [
                        point_id,
                        collection_id,
                        literal(embed(text)),
                        text,
                        json.dumps(metadata),
                    ],
                )
                group = seeded.subject if number >= len(theirs) else seeded.others
                group[collection].add(point_id)
                seeded.documents[point_id] = text
    return seeded


def langchain_config(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "dsn": url,
        "collections": list(COLLECTIONS),
        "keys": {
            "email": "customer_email",
            "subject_id": "customer_id",
            "conversation_id": "conversation_id",
        },
        **extra,
    }


def rows(url: str, query: str, params: list[Any] | None = None) -> list[Any]:
    """Run `query` on the store; the rows it returns, if any."""
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(query, params or [])  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []
