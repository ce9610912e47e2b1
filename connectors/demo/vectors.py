"""The demo vector store: embeddings of the demo helpdesk's conversations in
an embedded Qdrant store, as an AI assistant's retrieval memory keeps them.

The embedding is local and deterministic (a hashed bag of words, 64
dimensions): no model is downloaded, and the same text gives the same vector.
One point per ticket (its subject and messages: the assistant's memory of
that conversation), with the ticket id as `conversation_id` and no e-mail:
the qdrant connector finds these through its link to the helpdesk
connector. One point per AI-assistant conversation, with the customer's
e-mail, found by it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from connectors.demo.content import StoreSize, rows

DIMENSIONS = 64
COLLECTION = "support_memory"
_WORD = re.compile(r"[a-z0-9]+")


def embed(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    """A hashed bag of words, L2-normalised: each word adds +1 or -1 (by its
    hash) at the index its hash gives."""
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        digest = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest())
        vector[digest % dimensions] += 1.0 if digest >> 63 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def memory_points(size: StoreSize, *, seed: int = 2026) -> Iterator[dict[str, Any]]:
    """The points of the demo memory as {id, document, payload}, in a fixed
    order: one per ticket, then one per AI conversation of each customer."""
    ticket: dict[str, Any] | None = None
    for table, values in rows(size, seed=seed):
        if table == "tickets":
            if ticket is not None:
                yield ticket
            ticket_id, _, subject, status, opened = values
            ticket = {
                "id": ticket_id,
                "document": subject,
                "payload": {
                    "conversation_id": ticket_id,
                    "source": "helpdesk",
                    "status": status,
                    "opened_at": opened.isoformat(),
                },
            }
        elif table == "messages" and ticket is not None:
            ticket["document"] += "\n" + values[3]
        elif table == "ai_conversations":
            conversation_id, email, turns, model, at = values
            text = "\n".join(turn["text"] for turn in json.loads(turns))
            yield {
                # ids apart from the tickets' (at most 10 per customer)
                "id": 10_000_000 + conversation_id,
                "document": text,
                "payload": {
                    "customer_email": email,
                    "conversation_id": f"ai-{conversation_id}",
                    "source": "assistant",
                    "model": model,
                    "at": at.isoformat(),
                },
            }
    if ticket is not None:
        yield ticket


def build_qdrant(
    path: Path,
    points: Iterable[dict[str, Any]],
    *,
    collection: str = COLLECTION,
    batch: int = 1000,
) -> int:
    """An embedded (on-disk) Qdrant store at `path` holding `points` in
    `collection`, replaced if it exists; returns how many were written."""
    from qdrant_client import QdrantClient, models

    path.mkdir(parents=True, exist_ok=True)
    client = QdrantClient(path=str(path))
    try:
        if client.collection_exists(collection):
            client.delete_collection(collection)
        client.create_collection(
            collection,
            vectors_config=models.VectorParams(
                size=DIMENSIONS, distance=models.Distance.COSINE
            ),
        )
        written = 0
        pending: list[models.PointStruct] = []
        for point in points:
            pending.append(
                models.PointStruct(
                    id=point["id"],
                    vector=embed(point["document"]),
                    payload={"document": point["document"], **point["payload"]},
                )
            )
            if len(pending) >= batch:
                client.upsert(collection, points=pending, wait=True)
                written, pending = written + len(pending), []
        if pending:
            client.upsert(collection, points=pending, wait=True)
            written += len(pending)
        return written
    finally:
        client.close()
