"""The chroma kind on real Chroma: embedded (chromadb's PersistentClient in a
temporary folder) and a Chroma server started on loopback (`chroma run`),
with embeddings the tests compute themselves (connectors.demo.vectors.embed):
nothing is downloaded, which one test checks with the network refused."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.config import Settings
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

from connectors.base import ConnectorError, Identity
from connectors.demo.vectors import embed
from connectors.kinds.vectors.base import SUMMARY_LOCATION
from connectors.kinds.vectors.chroma import ChromaConnector
from privacydesk.errors import ValidationFailed
from tests.connectors.chroma_points import chroma_local_store, fill, off
from tests.connectors.vector_points import POINTS

JANE = Identity(emails=("Jane.Doe@Example.com",))
OMAR = "omar.haddad@example.org"
COLLECTIONS = ("support_memory", "ticket_summaries")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return chroma_local_store(tmp_path / "chroma", COLLECTIONS)


def connector(**config: Any) -> ChromaConnector:
    cleaned = ChromaConnector.validate_config(
        {
            "collections": list(COLLECTIONS),
            "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
            "page_size": 2,
            **config,
        }
    )
    return ChromaConnector(name="assistant-memory", config=cleaned, secrets={})


def ids(path: Path, collection: str) -> set[str]:
    client = chromadb.PersistentClient(path=str(path), settings=off())
    return set(client.get_collection(collection).get(include=[])["ids"])


def test_access_gives_documents_and_metadata_never_embeddings(folder: Path) -> None:
    records = list(connector(path=str(folder)).access(JANE))

    # her chunk by e-mail, its conversation's other chunk by conversation id
    memory = [r for r in records if r.location == "support_memory"]
    assert sorted(r.key for r in memory) == ["p-1", "p-2"]
    assert {r.data["document"] for r in memory} == {
        POINTS[0]["document"],
        POINTS[1]["document"],
    }
    assert memory[0].data["metadata"]["conversation_id"] == "c-1"
    summaries = {r.key: r.data for r in records if r.location == SUMMARY_LOCATION}
    assert summaries["support_memory"]["points"] == 2
    assert summaries["support_memory"]["dimensions"] == {"": 64}
    for record in records:
        assert "embedding" not in record.data
        assert "embeddings" not in record.data


def test_erasure_deletes_the_subjects_records_and_verifies(folder: Path) -> None:
    kind = connector(path=str(folder))

    receipt = kind.erase(JANE)

    for name in COLLECTIONS:
        assert receipt.per_location[name] == {"found": 2, "changed": 2}
        assert ids(folder, name) == {"p-3", "p-4", "p-5"}  # Omar's, the ticket's
    assert receipt.known == {"conversation_ids": ("c-1",)}
    assert connector(path=str(folder)).verify_erased(JANE, receipt).found == 0
    # a chunk of her conversation written afterwards is found again
    client = chromadb.PersistentClient(path=str(folder), settings=off())
    vectors: list[Sequence[float] | Sequence[int]] = [embed("back again")]
    client.get_collection("support_memory", embedding_function=None).add(
        ids=["p-9"],
        embeddings=vectors,
        metadatas=[{"conversation_id": "c-1"}],
    )
    again = connector(path=str(folder)).verify_erased(JANE, receipt)
    assert again.found == 1


def test_an_integer_conversation_id_is_matched(folder: Path) -> None:
    # the helpdesk ticket 7001 is held as an integer
    kind = connector(path=str(folder))
    match = kind.match_for(Identity(), ("7001",))

    with kind.engine() as engine:
        found = [p.id for p in engine.find("support_memory", match)]
        counted = engine.count("ticket_summaries", match)

    assert found == ["p-3"]
    assert counted == 1


def test_nothing_reaches_the_network_or_loads_a_model(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: every connection, name lookup and model download is refused
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args[1:2] or args)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "_download_model_if_not_exists", refuse)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "__call__", refuse)
    kind = connector(path=str(folder))

    # when: access, erasure and verification, on a fresh client each
    records = list(kind.access(JANE))
    receipt = kind.erase(JANE)
    outcome = kind.verify_erased(JANE, receipt)

    # then
    assert len(records) == 6
    assert receipt.changed == 4
    assert outcome.found == 0
    assert attempts == []


def test_missing_store_or_collection_is_refused_for_good(
    folder: Path, tmp_path: Path
) -> None:
    with pytest.raises(ConnectorError) as missing:
        connector(path=str(folder), collections=["support_memory", "archive"]).health()
    assert missing.value.permanent
    assert "archive" in missing.value.message
    with pytest.raises(ConnectorError) as no_folder:
        connector(path=str(tmp_path / "nowhere")).erase(JANE)
    assert no_folder.value.permanent
    assert connector(path=str(folder)).health().status == "ok: 2 collection(s)"


def test_an_unreachable_server_is_retried_later() -> None:
    with pytest.raises(ConnectorError) as down:
        connector(url="http://127.0.0.1:9").erase(JANE)

    assert not down.value.permanent
    assert down.value.reason == "network"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, "config.url"),  # neither url nor path
        ({"url": "http://127.0.0.1:8000", "path": "/srv/chroma"}, "config.url"),
        ({"url": "http://chroma.example.com:8000"}, "config.url"),  # not https
        ({"url": "https://chroma.example.com/api/v2"}, "config.url"),
        ({"path": "chroma"}, "config.path"),
        ({"path": "/srv/chroma", "token_header": "Cookie"}, "config.token_header"),
        ({"path": "/srv/chroma", "tenant": ""}, "config.tenant"),
        ({"path": "/srv/chroma", "page_size": 0}, "config.page_size"),
    ],
)
def test_a_bad_config_names_its_field(change: dict[str, Any], field: str) -> None:
    config = {"collections": ["support_memory"], "keys": {"email": "e"}, **change}

    with pytest.raises(ValidationFailed) as refused:
        ChromaConnector.validate_config(config)

    assert refused.value.field == field


# -- a Chroma server on loopback -------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` (the server chromadb ships) on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("chroma")),
            "run",
            "--path",
            str(data),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_chroma_server_is_reached_by_url(server: str) -> None:
    # given a tenant's database on the server
    host, port = server.removeprefix("http://").split(":")
    admin = chromadb.AdminClient(
        Settings(
            anonymized_telemetry=False,
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host=host,
            chroma_server_http_port=int(port),
        )
    )
    admin.create_tenant("acme")
    admin.create_database("support", tenant="acme")
    fill(
        chromadb.HttpClient(
            host=host, port=int(port), settings=off(), tenant="acme", database="support"
        ),
        COLLECTIONS,
    )
    kind = connector(url=server, tenant="acme", database="support")

    assert kind.health().status == "ok: 2 collection(s)"
    assert len([r for r in kind.access(JANE) if r.location in COLLECTIONS]) == 4
    receipt = kind.erase(JANE)
    assert receipt.changed == 4
    assert kind.verify_erased(JANE, receipt).found == 0
    left = connector(url=server, tenant="acme", database="support")
    with left.engine() as engine:
        omar = left.match_for(Identity(emails=(OMAR,)))
        assert engine.count("support_memory", omar) == 1
