"""Small vector stores for the tests: real engines, embeddings the tests
pass themselves (connectors.demo.vectors.embed; nothing is downloaded)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from accounts.actors import actor_system
from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize
from connectors.demo.stores import build_sqlite
from connectors.demo.vectors import DIMENSIONS, build_qdrant, embed, memory_points
from connectors.services import connector_create
from tests.disclosure import DISCLOSURE

LINKED_SIZE = StoreSize(customers=3)  # customer 1: tickets 1-5, AI chat 10

# Two customers' support memory: Jane's first chunk holds her e-mail, its
# second chunk only the conversation id; her helpdesk ticket 7001 is known
# only by its id; Omar's points must survive her erasure.
POINTS: list[dict[str, Any]] = [
    {
        "id": 1,
        "document": "Hi, this is Jane Doe. My order ORD-482913 never arrived.",
        "payload": {"customer_email": "jane.doe@example.com", "conversation_id": "c-1"},
    },
    {
        "id": 2,
        "document": "Jane asked for a refund; the courier lost parcel ORD-482913.",
        "payload": {"conversation_id": "c-1"},
    },
    {
        "id": 3,
        "document": "Ticket about a broken blender, call +44 7700 900123.",
        "payload": {"conversation_id": 7001, "source": "helpdesk"},
    },
    {
        "id": 4,
        "document": "Omar Haddad changed his address for ORD-100200.",
        "payload": {
            "customer_email": "omar.haddad@example.org",
            "conversation_id": "c-2",
        },
    },
    {
        "id": 5,
        "document": "Omar's follow-up on ORD-100200: delivered.",
        "payload": {"conversation_id": "c-2", "customer_id": "C-100042"},
    },
]


def qdrant_local_store(
    path: Path,
    *,
    collections: Iterable[str] = ("memory",),
    points: list[dict[str, Any]] | None = None,
) -> Path:
    """An embedded Qdrant store at `path` with `points` (POINTS by default)
    in each of `collections`."""
    for collection in collections:
        build_qdrant(
            path, points if points is not None else POINTS, collection=collection
        )
    return path


def qdrant_edge_store(
    path: Path,
    *,
    collections: Iterable[str] = ("memory",),
    points: list[dict[str, Any]] | None = None,
) -> Path:
    """A folder of Qdrant Edge shards at `path`, one per collection, each
    with `points` (POINTS by default), as an application embedding Edge
    writes them; no payload index (the kind creates its own)."""
    import qdrant_edge as edge

    config = edge.EdgeConfig(
        vectors=edge.EdgeVectorParams(size=DIMENSIONS, distance=edge.Distance.Cosine)
    )
    for collection in collections:
        shard = edge.EdgeShard.create(str(path / collection), config)
        try:
            shard.update(
                edge.UpdateOperation.upsert_points(
                    [
                        edge.Point(
                            point["id"],
                            embed(point["document"]),
                            {"document": point["document"], **point["payload"]},
                        )
                        for point in (points if points is not None else POINTS)
                    ]
                )
            )
        finally:
            shard.close()
    return path


def _deleting_map() -> list[dict[str, Any]]:
    """The demo map, but erasure deletes the customer and their tickets."""
    tables = copy.deepcopy(SQL_CONNECTOR_TABLES)
    for table in tables:
        table["erase"] = "delete"
        table.pop("name_column", None)
    return tables


def linked_stores(tmp_path: Path) -> None:
    """`helpdesk` (sql: a demo helpdesk of 3 customers whose erasure deletes
    them and their tickets, tickets as conversations) and `memory` (qdrant:
    the demo memory of those tickets, linked to it), both enabled."""
    store = tmp_path / "helpdesk.sqlite3"
    build_sqlite(store, LINKED_SIZE)
    qdrant = qdrant_local_store(
        tmp_path / "qdrant", points=list(memory_points(LINKED_SIZE))
    )
    for name, kind, config in (
        (
            "helpdesk",
            "sql",
            {
                "dsn": f"sqlite:///{store}",
                "tables": _deleting_map(),
                "conversations": "tickets",
            },
        ),
        (
            "memory",
            "qdrant",
            {
                "path": str(qdrant),
                "collections": ["memory"],
                "keys": {
                    "email": "customer_email",
                    "conversation_id": "conversation_id",
                },
                "link": "helpdesk",
            },
        ),
    ):
        connector_create(
            actor=actor_system("tests"),
            name=name,
            kind=kind,
            config=config,
            data_categories=["support_ticket"],
            disclosure=DISCLOSURE,
        )
