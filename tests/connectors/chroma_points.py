"""Small Chroma stores for the tests: the points of tests.connectors.
vector_points with embeddings the tests compute (connectors.demo.vectors.
embed), so no embedding model is ever loaded."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings

from connectors.demo.vectors import embed
from tests.connectors.vector_points import POINTS


def off() -> Settings:
    """No telemetry (new for each client, which writes its host into it)."""
    return Settings(anonymized_telemetry=False)


def fill(client: Any, collections: Iterable[str]) -> None:
    """POINTS in each collection: the first made with no embedding function
    (the app passes its own vectors), the others with Chroma's default one,
    as an app that never chose one has them (it is never called)."""
    for index, name in enumerate(collections):
        if index == 0:
            collection = client.create_collection(name, embedding_function=None)
        else:
            collection = client.create_collection(name)
        collection.add(
            ids=[f"p-{point['id']}" for point in POINTS],
            documents=[point["document"] for point in POINTS],
            embeddings=[embed(point["document"]) for point in POINTS],
            metadatas=[point["payload"] for point in POINTS],
        )


def chroma_local_store(path: Path, collections: Iterable[str] = ("memory",)) -> Path:
    """An embedded (persistent) Chroma store at `path` holding POINTS."""
    fill(chromadb.PersistentClient(path=str(path), settings=off()), collections)
    return path
