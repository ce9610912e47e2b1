"""The qdrant kind with `"engine": "edge"` on the real Qdrant Edge engine
(qdrant-edge-py, in process): a folder of shards, one per collection, whose
points carry embeddings the tests compute (connectors.demo.vectors.embed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import qdrant_edge as edge
from jsonschema import Draft202012Validator

from connectors.base import (
    ConfigError,
    ConnectorError,
    ErasureReceipt,
    Identity,
    Job,
    Outcome,
)
from connectors.choices import Action
from connectors.kinds.vectors.base import SUMMARY_LOCATION
from connectors.kinds.vectors.qdrant import QdrantConnector
from tests.connectors.vector_points import POINTS, qdrant_edge_store

JANE = Identity(emails=("Jane.Doe@Example.com",))  # stored lower-cased
OMAR = Identity(emails=("omar.haddad@example.org",))
KEYS = {"email": "customer_email", "conversation_id": "conversation_id"}


def _kind(store: Path, **extra: Any) -> QdrantConnector:
    config = QdrantConnector.validate_config(
        {
            "engine": "edge",
            "path": str(store),
            "collections": ["memory"],
            "keys": KEYS,
            **extra,
        }
    )
    return QdrantConnector(name="memory", config=config, secrets={})


class Shard:
    """The test's own view of a shard (opened and closed around each look)."""

    def __init__(self, store: Path, collection: str = "memory") -> None:
        self.path = str(store / collection)

    def ids(self) -> set[int]:
        shard = edge.EdgeShard.load(self.path)
        try:
            records, _ = shard.scroll(edge.ScrollRequest(limit=100))
            return {int(str(r.id)) for r in records}
        finally:
            shard.close()

    def indexed(self) -> set[str]:
        shard = edge.EdgeShard.load(self.path)
        try:
            return set(shard.info().payload_schema)
        finally:
            shard.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return qdrant_edge_store(tmp_path / "edge")


def test_access_gives_documents_and_metadata_and_a_summary_never_vectors(
    store: Path,
) -> None:
    assert Shard(store).indexed() == set()

    records = list(_kind(store).access(JANE))

    points = [r for r in records if r.location == "memory"]
    # her e-mail's chunk, and the chunk of the same conversation without it
    assert sorted(r.key for r in points) == ["1", "2"]
    first = next(r for r in points if r.key == "1")
    assert first.data["document"] == POINTS[0]["document"]
    assert first.data["metadata"] == POINTS[0]["payload"]
    (summary,) = [r for r in records if r.location == SUMMARY_LOCATION]
    assert (summary.key, summary.data["points"]) == ("memory", 2)
    assert summary.data["dimensions"] == {"": 64}  # from the shard's config
    assert "vector" not in str([r.data for r in points])
    assert all(len(str(r.data)) < 400 for r in records)
    # the kind indexed its keys in the shard, once, for the next actions
    assert Shard(store).indexed() == {"customer_email", "conversation_id"}


def test_erase_then_verify_through_the_executor_and_a_late_point_is_counted(
    store: Path,
) -> None:
    kind = _kind(store)
    erase = Job(task_id="t", request_reference="R", action=Action.ERASE, identity=JANE)

    receipt = kind.run(erase, None)  # type: ignore[arg-type]  # no sink to erase

    assert isinstance(receipt, ErasureReceipt)
    assert (receipt.found, receipt.changed) == (2, 2)
    assert receipt.per_location == {"memory": {"found": 2, "changed": 2}}
    assert receipt.knows("conversation_ids") == ("c-1",)
    assert Shard(store).ids() == {3, 4, 5}  # the others' points are untouched
    stored = ErasureReceipt.from_json(receipt.to_json())
    verify = Job(
        task_id="t",
        request_reference="R",
        action=Action.VERIFY_ERASURE,
        identity=JANE,
        receipt=stored,
    )
    verified = _kind(store).run(verify, None)  # type: ignore[arg-type]
    assert isinstance(verified, Outcome)
    assert verified.found == 0
    again = _kind(store).erase(JANE)  # idempotent
    assert (again.found, again.changed) == (0, 0)

    # given a chunk of her conversation written back after the erasure
    shard = edge.EdgeShard.load(str(store / "memory"))
    shard.update(
        edge.UpdateOperation.upsert_points(
            [edge.Point(99, [0.125] * 64, {"conversation_id": "c-1"})]
        )
    )
    shard.close()
    late = _kind(store).verify_erased(JANE, stored)
    assert late.per_location == {"memory": {"found": 1, "changed": 0}}


def test_numeric_conversation_ids_match_beside_the_keyword_index(
    store: Path,
) -> None:
    kind = _kind(store, keys={"conversation_id": "conversation_id"})
    match = kind.match_for(Identity(emails=("x@example.com",)), ("7001", "c-2"))

    with kind.engine() as engine:
        # 7001 is stored as a number, c-2 as text: both found
        assert engine.count("memory", match) == 3
        engine.delete("memory", match)
        assert engine.count("memory", match) == 0
    assert Shard(store).ids() == {1, 2}


def test_nested_keys_and_several_collections(tmp_path: Path) -> None:
    points = [
        {
            "id": 10,
            "document": "LangChain chunk for Jane",
            "payload": {"metadata": {"email": "jane.doe@example.com", "chat": "x-1"}},
        },
        {"id": 11, "document": "same chat", "payload": {"metadata": {"chat": "x-1"}}},
        {"id": 12, "document": "other", "payload": {"metadata": {"chat": "x-2"}}},
    ]
    store = qdrant_edge_store(tmp_path / "lc", collections=("a", "b"), points=points)
    kind = _kind(
        store,
        collections=["a", "b"],
        keys={"email": "metadata.email", "conversation_id": "metadata.chat"},
    )

    receipt = kind.erase(JANE)

    assert receipt.per_location == {
        "a": {"found": 2, "changed": 2},
        "b": {"found": 2, "changed": 2},
    }
    assert Shard(store, "a").ids() == Shard(store, "b").ids() == {12}
    assert Shard(store, "a").indexed() == {"metadata.email", "metadata.chat"}


def test_health_a_missing_collection_and_a_shard_in_use(store: Path) -> None:
    assert _kind(store).health().status == "ok: 1 collection(s)"
    with pytest.raises(ConnectorError) as missing:
        _kind(store, collections=["memory", "archive"]).health()
    assert missing.value.permanent
    assert missing.value.message == "collection(s) archive not found"
    with pytest.raises(ConnectorError) as unknown:
        _kind(store, collections=["archive"]).erase(JANE)
    assert unknown.value.permanent
    assert unknown.value.message == "qdrant edge: collection archive not found"

    holder = edge.EdgeShard.load(str(store / "memory"))  # another process's
    try:
        with pytest.raises(ConnectorError) as busy:
            _kind(store).erase(OMAR)
    finally:
        holder.close()
    assert not busy.value.permanent  # retried later
    assert busy.value.message == (
        "qdrant edge: collection memory is in use; retrying later"
    )
    assert _kind(store).erase(OMAR).changed == 2  # once released


def _refused(config: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ConfigError) as refused:
        QdrantConnector.validate_config(config)
    return str(refused.value.field), str(refused.value)


def test_the_engine_option_is_checked_and_the_default_is_unchanged(
    tmp_path: Path,
) -> None:
    base = {"collections": ["m"], "keys": KEYS}

    field, message = _refused({**base, "engine": "edge", "url": "https://q.example"})
    assert field == "config.engine"
    assert "give path" in message
    assert _refused({**base, "engine": "rust", "path": str(tmp_path)})[0] == (
        "config.engine"
    )
    assert _refused({**base, "engine": "edge"})[0] == "config.url"  # neither
    assert _refused({**base, "engine": "edge", "path": "edge"})[0] == "config.path"
    assert _refused({**base, "engine": "edge", "path": str(tmp_path), "x": 1})[0] == (
        "config.x"
    )
    edge_config = QdrantConnector.validate_config(
        {**base, "engine": "edge", "path": str(tmp_path)}
    )
    assert edge_config["engine"] == "edge"
    client = QdrantConnector.validate_config({**base, "path": str(tmp_path)})
    assert "engine" not in client  # qdrant-client local mode, as before
    schema = QdrantConnector.config_schema()
    assert schema["properties"]["engine"]["enum"] == ["client", "edge"]
    # the JSON Schema refuses what validate_config refuses
    checker = Draft202012Validator(schema)
    assert checker.is_valid({**base, "engine": "edge", "path": str(tmp_path)})
    assert not checker.is_valid({**base, "engine": "edge", "url": "https://q.example"})
    assert checker.is_valid({**base, "url": "https://q.example"})
