"""A vector store linked to another connector: the linked store lists the
subject's conversation ids (sql: its `conversations` table; SaaS: its
ticket records; files: its conversations' ids), and the vector store erases
the points of those conversations though they hold no e-mail. Real stores:
the demo helpdesk in SQLite, the Zendesk stand-in, embedded Qdrant."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from accounts.actors import actor_system
from connectors.base import ConfigError, ConnectorError, Identity
from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize, customer
from connectors.demo.stores import build_sqlite
from connectors.demo.vectors import memory_points
from connectors.kinds.files import FilesConnector
from connectors.kinds.sql import SqlConnector
from connectors.kinds.vectors.qdrant import QdrantConnector
from connectors.services import connector_create
from standins.zendesk import StandIn
from tests.connectors.saas.conftest import SUBJECT, connector, subject
from tests.connectors.saas.conftest import standin as standin  # the fixture
from tests.connectors.saas.services import identity_of
from tests.connectors.vector_points import qdrant_local_store
from tests.disclosure import DISCLOSURE

SIZE = StoreSize(customers=3)  # 5 tickets each: customer 1 has tickets 1-5
KEYS = {"email": "customer_email", "conversation_id": "conversation_id"}


def _identity(number: int) -> Identity:
    return Identity(emails=(customer(number).email,))


def _helpdesk_config(folder: Path, **extra: Any) -> dict[str, Any]:
    store = folder / "helpdesk.sqlite3"
    if not store.exists():
        build_sqlite(store, SIZE)
    return {"dsn": f"sqlite:///{store}", "tables": SQL_CONNECTOR_TABLES, **extra}


def _helpdesk(folder: Path) -> SqlConnector:
    config = SqlConnector.validate_config(
        _helpdesk_config(folder, conversations="tickets")
    )
    return SqlConnector(name="helpdesk", config=config, secrets={})


def test_the_sql_kind_lists_the_keys_of_its_conversations_table(
    tmp_path: Path,
) -> None:
    helpdesk = _helpdesk(tmp_path)

    assert helpdesk.conversation_ids(_identity(1)) == ["1", "2", "3", "4", "5"]
    assert helpdesk.conversation_ids(_identity(2)) == ["6", "7", "8", "9", "10"]
    assert helpdesk.conversation_ids(Identity(emails=("no@example.com",))) == []


def test_an_sql_map_names_its_conversations_table_or_lists_none(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError) as refused:
        SqlConnector.validate_config(_helpdesk_config(tmp_path, conversations="x"))
    assert refused.value.field == "config.conversations"
    plain = SqlConnector(name="crm", config=_helpdesk_config(tmp_path), secrets={})
    with pytest.raises(ConnectorError) as none:
        plain.conversation_ids(_identity(1))
    assert none.value.permanent
    assert "(config.conversations)" in none.value.message


@pytest.mark.django_db
def test_a_saas_kind_lists_the_subjects_tickets(standin: StandIn) -> None:
    user = subject(standin)

    ids = connector(standin).conversation_ids(identity_of(user))

    tickets = [str(t["id"]) for t in standin.account.tickets_of(user["id"])]
    assert sorted(ids) == sorted(tickets)
    assert len(tickets) == 2
    # walked down to the tickets, not into their comments
    assert standin.stats.by_route.get("comments", 0) == 0
    other = subject(standin, SUBJECT + 1)
    assert not set(ids) & set(connector(standin).conversation_ids(identity_of(other)))


def test_the_files_kind_lists_its_conversations_ids(tmp_path: Path) -> None:
    folder = tmp_path / "chats"
    folder.mkdir()
    lines = [
        {"id": "chat-1", "customer": {"email": "jane.doe@example.com"}},
        {"id": "chat-2", "customer": {"email": "omar@example.org"}},
        {"customer": {"email": "jane.doe@example.com"}},  # no id: not listed
        {"id": "chat-3", "customer": {"email": "Jane.Doe@example.com"}},
    ]
    (folder / "a.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    config = {"folder": str(folder), "identity": {"email": "customer.email"}}
    files = FilesConnector(
        name="chats", config=FilesConnector.validate_config(config), secrets={}
    )

    ids = files.conversation_ids(Identity(emails=("jane.doe@example.com",)))

    assert ids == ["chat-1", "chat-3"]


# --- the vector store through its link ----------------------------------------------


def _create(name: str, kind: str, config: dict[str, Any]) -> None:
    connector_create(
        actor=actor_system("tests"),
        name=name,
        kind=kind,
        config=config,
        data_categories=["ai_memory"],
        disclosure=DISCLOSURE,
    )


def _memory(folder: Path, link: str) -> QdrantConnector:
    store = qdrant_local_store(folder / "qdrant", points=list(memory_points(SIZE)))
    config = {"path": str(store), "collections": ["memory"], "keys": KEYS}
    return QdrantConnector(
        name="memory",
        config=QdrantConnector.validate_config({**config, "link": link}),
        secrets={},
    )


@pytest.mark.django_db
def test_the_points_of_linked_conversations_are_erased_without_an_email(
    tmp_path: Path,
) -> None:
    _create("helpdesk", "sql", _helpdesk_config(tmp_path, conversations="tickets"))
    memory = _memory(tmp_path, link="helpdesk")
    jane = _identity(1)

    assert memory.health().status == "ok: 1 collection(s), linked to helpdesk"
    found = {r.key for r in memory.access(jane) if r.location == "memory"}
    receipt = memory.erase(jane)

    # her 5 tickets' points (ids 1-5, no e-mail) and her AI conversation's
    assert found == {"1", "2", "3", "4", "5", "10000010"}
    assert receipt.changed == 6
    assert receipt.knows("conversation_ids") == ("1", "2", "3", "4", "5", "ai-10")
    with memory.engine() as engine:
        # customer 2's tickets 6-10 and AI conversation are left alone
        omar = memory.match_for(_identity(2), ("6", "7", "8", "9", "10"))
        assert engine.count("memory", omar) == 6
    # the helpdesk may have deleted its tickets since: the receipt stands for them
    unlinked = QdrantConnector(
        name="memory", config={**memory.config, "link": "gone"}, secrets={}
    )
    assert unlinked.verify_erased(jane, receipt).found == 0


@pytest.mark.django_db
def test_a_link_to_a_missing_or_unfit_connector_fails_for_good(
    tmp_path: Path,
) -> None:
    _create("desk", "manual", {"instructions": "Erase the customer in the desk."})

    for link, says in (
        ("nowhere", "links to nowhere, which does not exist (config.link)"),
        ("desk", "links to desk, whose kind manual cannot list"),
    ):
        memory = _memory(tmp_path / link, link=link)
        for action in (memory.health, partial(memory.erase, _identity(1))):
            with pytest.raises(ConnectorError) as failed:
                action()
            assert failed.value.permanent
            assert says in failed.value.message


@pytest.mark.django_db
def test_a_link_is_checked_when_the_connector_is_written(tmp_path: Path) -> None:
    from connectors.models import Connector
    from privacydesk.errors import ValidationFailed

    _create("desk", "manual", {"instructions": "Erase the customer in the desk."})
    _create("helpdesk", "sql", _helpdesk_config(tmp_path, conversations="tickets"))
    store = qdrant_local_store(tmp_path / "qdrant")
    config = {"path": str(store), "collections": ["memory"], "keys": KEYS}

    for link, says in (
        ("nowhere", "'nowhere' is no connector of that name"),
        ("memory", "'memory' is itself"),
        ("desk", "'desk' is a Manual task connector"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            _create("memory", "qdrant", {**config, "link": link})
        assert refused.value.field == "config.link"
        assert says in refused.value.message
    assert not Connector.objects.filter(name="memory").exists()
    _create("memory", "qdrant", {**config, "link": "helpdesk"})
    assert Connector.objects.get(name="memory").config["link"] == "helpdesk"
