"""An erasure request through the executor (task_run, real tasks) over a
SQLite helpdesk and two vector stores linked to it: a Weaviate cluster (its
stand-in on loopback, ticket ids held as text) and an embedded Chroma store
(ticket ids held as integers). The helpdesk's task waits for both, their
points go, each verified in the same run, and the request completes."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import chromadb
import pytest

from accounts.actors import actor_system
from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize, customer
from connectors.demo.stores import build_sqlite
from connectors.demo.vectors import embed, memory_points
from connectors.services import connector_create
from dsr.models import Request, RequestTask
from dsr.services.execution.running import task_run
from standins.weaviate import StandIn, Store, start
from tests.connectors.chroma_points import off
from tests.disclosure import DISCLOSURE
from tests.standin_fixtures import running

pytestmark = pytest.mark.django_db
SIZE = StoreSize(customers=3)  # customer 1: tickets 1-5, AI conversation 10
KEY = "wv-linked-erasure-key-0123"
KEYS = {"email": "customer_email", "conversation_id": "conversation_id"}


def _weaviate_store() -> Store:
    """The demo memory in a `Memory` collection, conversation ids as text."""
    store = Store()
    store.add_class(
        "Memory",
        {
            "text": ("text", "word"),
            "customer_email": ("text", "field"),
            "conversation_id": ("text", "field"),
            "source": ("text", "word"),
        },
    )
    for point in memory_points(SIZE):
        payload = point["payload"]
        properties = {
            "text": point["document"],
            "conversation_id": str(payload["conversation_id"]),
            "source": payload["source"],
        }
        if "customer_email" in payload:
            properties["customer_email"] = payload["customer_email"]
        store.add("Memory", properties, embed(point["document"], 16))
    return store


def _chroma_store(path: Path) -> Path:
    """The demo memory in a `memory` collection, ticket ids as integers."""
    points = list(memory_points(SIZE))
    vectors: list[Sequence[float] | Sequence[int]] = [
        embed(p["document"]) for p in points
    ]
    client = chromadb.PersistentClient(path=str(path), settings=off())
    client.create_collection("memory", embedding_function=None).add(
        ids=[str(p["id"]) for p in points],
        documents=[p["document"] for p in points],
        embeddings=vectors,
        metadatas=[p["payload"] for p in points],
    )
    return path


@pytest.fixture
def weaviate() -> Iterator[StandIn]:
    yield from running(start, KEY, account=_weaviate_store(), query_maximum_results=3)


@pytest.fixture
def linked(tmp_path: Path, weaviate: StandIn) -> None:
    helpdesk = tmp_path / "helpdesk.sqlite3"
    build_sqlite(helpdesk, SIZE)
    tables = copy.deepcopy(SQL_CONNECTOR_TABLES)
    for table in tables:  # erasure deletes the customer and their tickets
        table["erase"] = "delete"
        table.pop("name_column", None)
    stores: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
        (
            "helpdesk",
            "sql",
            {
                "dsn": f"sqlite:///{helpdesk}",
                "tables": tables,
                "conversations": "tickets",
            },
            {},
        ),
        (
            "memory",
            "weaviate",
            {
                "url": weaviate.url,
                "collections": ["Memory"],
                "keys": KEYS,
                # past the cap of 3, counts list the collection: many calls
                "rate_limit_per_minute": 12_000,
            },
            {"api_key": KEY},
        ),
        (
            "assistant",
            "chroma",
            {
                "path": str(_chroma_store(tmp_path / "chroma")),
                "collections": ["memory"],
                "keys": KEYS,
            },
            {},
        ),
    ]
    for name, kind, config, secrets in stores:
        if name != "helpdesk":
            config["link"] = "helpdesk"
        connector_create(
            actor=actor_system("tests"),
            name=name,
            kind=kind,
            config=config,
            secrets=secrets,
            data_categories=["support_ticket"],
            disclosure=DISCLOSURE,
        )


def _task(request: Request, connector: str) -> RequestTask:
    return request.tasks.get(connector__name=connector, action="erase")


def test_both_vector_stores_erase_before_the_helpdesk_and_verify(
    linked: None,
    weaviate: StandIn,
    make_request: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        request = make_request(
            kind="erasure", verified=True, identity={"email": customer(1).email}
        )
    helpdesk = _task(request, "helpdesk")

    # the helpdesk first: held while the stores that read it are open
    assert task_run(task_id=helpdesk.pk) == "held"
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("memory", "assistant"):
            task = _task(request, name)
            assert task_run(task_id=task.pk) == "succeeded", task.tries.values("error")

    # then each store lost her 5 tickets' points and her AI chat, in
    # capped calls of 3 on Weaviate, and found nothing left
    for name in ("memory", "assistant"):
        task = _task(request, name)
        assert task.records_changed == 6, (name, task.status_note)
    assert weaviate.account.deleted == 6
    assert weaviate.account.delete_calls == 2
    helpdesk.refresh_from_db()
    assert helpdesk.status == "succeeded"
    assert helpdesk.per_location["tickets"]["changed"] == 5
    request.refresh_from_db()
    assert request.status == "completed", request.status_reason
