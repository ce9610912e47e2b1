"""Small vector stores for the tests: real engines, embeddings the tests
pass themselves (connectors.demo.vectors.embed; nothing is downloaded)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from connectors.demo.vectors import build_qdrant

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
