"""The qdrant kind on a real engine: qdrant-client's embedded local mode on
disk, points carrying embeddings the tests compute themselves
(connectors.demo.vectors.embed; no model is downloaded)."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient, models

from connectors.base import ConfigError, ConnectorError, ErasureReceipt, Identity
from connectors.kinds.vectors.base import SUMMARY_LOCATION, Match
from connectors.kinds.vectors.qdrant import QdrantConnector, QdrantEngine
from tests.connectors.vector_points import POINTS, qdrant_local_store

JANE = Identity(emails=("Jane.Doe@Example.com",))  # stored lower-cased
OMAR = Identity(emails=("omar.haddad@example.org",), customer_ids={"crm": ("C-1",)})
KEYS = {"email": "customer_email", "conversation_id": "conversation_id"}


def _config(store: Path, **extra: Any) -> dict[str, Any]:
    return QdrantConnector.validate_config(
        {"path": str(store), "collections": ["memory"], "keys": KEYS, **extra}
    )


def _kind(store: Path, **extra: Any) -> QdrantConnector:
    return QdrantConnector(name="memory", config=_config(store, **extra), secrets={})


def _ids(store: Path, collection: str = "memory") -> set[int]:
    client = QdrantClient(path=str(store))
    try:
        records, _ = client.scroll(collection, limit=100)
        return {int(r.id) for r in records}
    finally:
        client.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return qdrant_local_store(tmp_path / "qdrant")


# --- access ----------------------------------------------------------------------


def test_access_gives_documents_and_metadata_and_a_summary_never_vectors(
    store: Path,
) -> None:
    records = list(_kind(store).access(JANE))

    points = [r for r in records if r.location == "memory"]
    # her e-mail's chunk, and the chunk of the same conversation without it
    assert sorted(r.key for r in points) == ["1", "2"]
    first = next(r for r in points if r.key == "1")
    assert first.data["document"] == POINTS[0]["document"]
    assert first.data["metadata"] == POINTS[0]["payload"]
    assert first.category == "ai_memory"
    (summary,) = [r for r in records if r.location == SUMMARY_LOCATION]
    assert summary.key == "memory"
    assert summary.data["points"] == 2
    assert summary.data["dimensions"] == {"": 64}
    # no vector anywhere: no list of 64 numbers in any record
    assert "vector" not in str([r.data for r in points])
    assert all(len(str(r.data)) < 400 for r in records)


def test_access_through_the_executor_counts_points_per_collection(
    store: Path,
) -> None:
    class Sink:
        def __init__(self) -> None:
            self.records: list[Any] = []

        def write(self, record: Any) -> None:
            self.records.append(record)

    from connectors.base import Job

    sink = Sink()
    outcome = _kind(store).run(
        Job(task_id="t", request_reference="R", action="access", identity=OMAR), sink
    )

    assert outcome.per_location["memory"]["found"] == 2
    assert {r.key for r in sink.records if r.location == "memory"} == {"4", "5"}


def test_nested_payload_keys_and_another_document_key_are_read(
    tmp_path: Path,
) -> None:
    # given LangChain's layout: {"page_content": ..., "metadata": {...}}
    points = [
        {
            "id": 10,
            "document": "LangChain chunk for Jane",
            "payload": {"metadata": {"email": "jane.doe@example.com", "chat": "x-1"}},
        },
        {"id": 11, "document": "same chat", "payload": {"metadata": {"chat": "x-1"}}},
        {"id": 12, "document": "other", "payload": {"metadata": {"chat": "x-2"}}},
    ]
    store = qdrant_local_store(tmp_path / "lc", points=points)
    kind = _kind(
        store,
        keys={"email": "metadata.email", "conversation_id": "metadata.chat"},
        document_key="document",
    )

    found = {r.key for r in kind.access(JANE) if r.location == "memory"}
    receipt = kind.erase(JANE)

    assert found == {"10", "11"}
    assert receipt.changed == 2
    assert _ids(store) == {12}


# --- erasure and verification --------------------------------------------------------


def test_erasure_deletes_the_subjects_points_and_a_fresh_instance_verifies(
    store: Path,
) -> None:
    receipt = _kind(store).erase(JANE)

    assert (receipt.found, receipt.changed) == (2, 2)
    assert receipt.per_location == {"memory": {"found": 2, "changed": 2}}
    assert receipt.knows("conversation_ids") == ("c-1",)
    assert _ids(store) == {3, 4, 5}  # the others' points are untouched
    stored = ErasureReceipt.from_json(receipt.to_json())
    assert _kind(store).verify_erased(JANE, stored).found == 0
    # idempotent: a second run finds nothing and changes nothing
    again = _kind(store).erase(JANE)
    assert (again.found, again.changed) == (0, 0)


def test_verification_counts_what_still_matches(store: Path) -> None:
    # given a point of Jane's written back after her erasure
    receipt = _kind(store).erase(JANE)
    client = QdrantClient(path=str(store))
    client.upsert(
        "memory",
        [
            models.PointStruct(
                id=99, vector=[0.125] * 64, payload={"conversation_id": "c-1"}
            )
        ],
    )
    client.close()

    outcome = _kind(store).verify_erased(JANE, receipt)

    # found through the receipt's conversation ids alone
    assert outcome.found == 1
    assert outcome.per_location == {"memory": {"found": 1, "changed": 0}}
    assert "1 point(s)" in outcome.note


def test_subject_ids_of_one_system_and_numeric_conversation_ids_match(
    store: Path,
) -> None:
    kind = _kind(
        store,
        keys={"subject_id": "customer_id", "conversation_id": "conversation_id"},
        subject_id_system="crm",
    )
    omar = Identity(customer_ids={"crm": ("C-100042",), "shop": ("C-999",)})

    match = kind.match_for(omar, ("7001",))

    assert match.terms == (
        ("customer_id", ("C-100042",)),
        ("conversation_id", ("7001",)),
    )
    with kind.engine() as engine:
        # 7001 is stored as a number: matched through its integer form
        assert engine.count("memory", match) == 2
    receipt = kind.erase(omar)
    assert receipt.changed == 2  # point 5, and point 4 of its conversation
    assert _ids(store) == {1, 2, 3}


class CappedEngine(QdrantEngine):
    """Qdrant with a per-call deletion cap (as Weaviate's QUERY_MAXIMUM_RESULTS)."""

    cap = 1

    def delete(self, collection: str, match: Match) -> int | None:
        ids = [int(p.id) for p in self.find(collection, match)][: self.cap]
        self.client.delete(collection, models.PointIdsList(points=ids), wait=True)
        return len(ids)


class CappedQdrant(QdrantConnector):
    def open_engine(self) -> Any:
        engine = super().open_engine()
        assert isinstance(engine, QdrantEngine)
        return CappedEngine(engine.client, document_key="document", page_size=2)


def test_erasure_repeats_while_points_match_and_fails_past_its_bound(
    store: Path,
) -> None:
    kind = CappedQdrant(name="memory", config=_config(store), secrets={})

    receipt = kind.erase(JANE)  # two points, one per call

    assert receipt.changed == 2
    assert _ids(store) == {3, 4, 5}

    # given a bound of one call and two points to delete
    kind.max_delete_rounds = 1
    with pytest.raises(ConnectorError) as left:
        kind.erase(OMAR)
    assert not left.value.permanent  # the next attempt goes on
    assert left.value.message == (
        "1 point(s) still match in collection memory after 1 deletion(s)"
    )


def test_an_identity_without_a_configured_key_erases_nothing(store: Path) -> None:
    phone_only = Identity(phones=("+447700900123",))  # no phone key configured

    receipt = _kind(store).erase(phone_only)

    assert receipt.changed == 0
    assert "nothing to match" in receipt.note
    assert _ids(store) == {1, 2, 3, 4, 5}


# --- health and errors ---------------------------------------------------------------


def test_health_names_a_missing_collection_and_folder(store: Path) -> None:
    assert _kind(store).health().status == "ok: 1 collection(s)"
    with pytest.raises(ConnectorError) as missing:
        _kind(store, collections=["memory", "archive"]).health()
    assert missing.value.permanent
    assert missing.value.message == "collection(s) archive not found"
    with pytest.raises(ConnectorError) as no_folder:
        _kind(store.parent / "nowhere").health()
    assert no_folder.value.permanent
    assert "does not exist" in no_folder.value.message


def test_an_embedded_store_in_use_is_a_failure_to_retry(store: Path) -> None:
    holder = QdrantClient(path=str(store))  # another process's client
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ConnectorError) as busy:
                _kind(store).erase(JANE)
            permanent, message = busy.value.permanent, busy.value.message
            del busy  # its traceback holds what the failed open left behind
            gc.collect()
    finally:
        holder.close()
    assert not permanent
    assert "in use" in message
    # a retry leaks nothing (qdrant-client's own refusal leaves its lock open;
    # only this store's files count: the collection sweeps up other garbage)
    assert [
        str(w.message)
        for w in caught
        if "unclosed" in str(w.message) and str(store) in str(w.message)
    ] == []
    assert _kind(store).erase(JANE).changed == 2  # once released


def test_a_server_that_does_not_answer_is_a_failure_to_retry() -> None:
    kind = QdrantConnector(
        name="remote",
        config=QdrantConnector.validate_config(
            {
                "url": "http://127.0.0.1:9",  # nothing listens
                "collections": ["memory"],
                "keys": KEYS,
                "timeout_seconds": 2,
            }
        ),
        secrets={},
    )

    with pytest.raises(ConnectorError) as unreachable:
        kind.health()

    assert not unreachable.value.permanent
    assert unreachable.value.message == "qdrant unreachable (the collections)"


# --- config ---------------------------------------------------------------------


def _refused(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as refused:
        QdrantConnector.validate_config(config)
    return str(refused.value.field)


def test_a_bad_config_is_refused_naming_the_path() -> None:
    base = {"url": "https://q.example", "collections": ["m"], "keys": KEYS}

    assert _refused({**base, "keys": {}}) == "config.keys"
    assert _refused({**base, "keys": {"fax": "fax"}}) == "config.keys.fax"
    assert _refused({**base, "keys": {"email": "a b"}}) == "config.keys.email"
    assert _refused({**base, "collections": []}) == "config.collections"
    assert _refused({**base, "collections": ["m", "m"]}) == "config.collections[1]"
    assert _refused({**base, "path": "/srv/q"}) == "config.url"
    assert _refused({**base, "url": "ftp://q.example"}) == "config.url"
    assert _refused({**base, "url": "https://u:p@q.example"}) == "config.url"
    assert _refused({"path": "srv/q", "collections": ["m"], "keys": KEYS}) == (
        "config.path"
    )
    assert _refused({**base, "link": "not a name"}) == "config.link"
    link_only_email = {**base, "keys": {"email": "e"}, "link": "helpdesk"}
    assert _refused(link_only_email) == "config.keys.conversation_id"
    assert _refused({**base, "page_size": 0}) == "config.page_size"
    assert _refused({**base, "colour": "red"}) == "config.colour"


def test_the_config_keeps_its_defaults_and_names_what_it_reads() -> None:
    config = QdrantConnector.validate_config(
        {
            "url": "https://q.example/",
            "collections": ["m"],
            "keys": KEYS,
            "link": "helpdesk",
        }
    )

    assert config["url"] == "https://q.example"
    assert config["document_key"] == "document"
    assert QdrantConnector.reads_from(config) == ("helpdesk",)
    assert QdrantConnector.reads_from({**config, "link": ""}) == ()
