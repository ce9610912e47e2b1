"""The pgvector kind on a real PostgreSQL 16 with pgvector 0.8
(tests/pgvector_server.py): LangChain's layout and plain tables, access
without vectors, erasure verified by asking again, the GIN index serving
the match, and the errors a store gives."""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
import pytest

from accounts.actors import actor_system
from connectors.base import ConfigError, ConnectorError
from connectors.kinds.vectors.pgvector import PgvectorConnector
from connectors.services import connector_create
from dsr.services.execution.running import task_run
from tests.connectors.pgvector_store import (
    COLLECTIONS,
    DIMENSIONS,
    SUBJECT_CRM,
    SUBJECT_EMAIL,
    embed,
    langchain_config,
    literal,
    rows,
    seed_langchain,
    subject_identity,
)
from tests.disclosure import DISCLOSURE


def connector(config: dict[str, Any], **secrets: str) -> PgvectorConnector:
    return PgvectorConnector(
        name="assistant-memory",
        config=PgvectorConnector.validate_config(config),
        secrets=secrets,
    )


def test_access_gives_documents_and_metadata_and_only_the_shape_of_vectors(
    pgvector_database: str,
) -> None:
    seeded = seed_langchain(pgvector_database)
    # pages of 2 rows: her 3 points of support_memory take two fetches
    store = connector(langchain_config(pgvector_database, page_size=2))
    records = list(store.access(subject_identity()))

    points = [r for r in records if r.location in COLLECTIONS]
    by_collection = {c: {r.key for r in points if r.location == c} for c in COLLECTIONS}
    # every chunk of hers: by e-mail in three spellings, by CRM id, and the
    # chunks that hold only the id of one of her conversations
    assert by_collection == seeded.subject
    for record in points:
        assert record.data["document"] == seeded.documents[record.key]
        assert record.category == "ai_memory"
    summaries = {r.key: r.data for r in records if r.location == "vector summary"}
    assert summaries == {
        c: {
            "collection": c,
            "points": len(seeded.subject[c]),
            "dimensions": {"embedding": DIMENSIONS},
            "vectors": summaries[c]["vectors"],
        }
        for c in COLLECTIONS
    }
    package = json.dumps([r.data for r in records])
    assert 'embedding"' not in package.replace('"dimensions": {"embedding"', "")
    for point_id in seeded.subject["support_memory"]:
        text = seeded.documents[point_id]
        assert json.dumps(embed(text))[1:-1] not in package


def test_erasure_deletes_her_points_only_and_verifies_by_asking_again(
    pgvector_database: str,
) -> None:
    seeded = seed_langchain(pgvector_database)
    store = connector(langchain_config(pgvector_database))

    receipt = store.erase(subject_identity())

    assert {loc: n["found"] for loc, n in receipt.per_location.items()} == {
        c: len(seeded.subject[c]) for c in COLLECTIONS
    }
    assert receipt.changed == sum(len(ids) for ids in seeded.subject.values())
    left = {
        row[0]
        for row in rows(pgvector_database, "SELECT id FROM langchain_pg_embedding")
    }
    assert left == set().union(*seeded.others.values())
    assert receipt.knows("conversation_ids")  # what verification asks for later
    fresh = connector(langchain_config(pgvector_database))
    assert fresh.verify_erased(subject_identity(), receipt).found == 0
    assert fresh.verify_erased(subject_identity()).found == 0
    again = fresh.erase(subject_identity())  # idempotent
    assert again.changed == 0
    assert not again.per_location


def test_verification_finds_a_point_written_back_after_the_erasure(
    pgvector_database: str,
) -> None:
    seed_langchain(pgvector_database)
    store = connector(langchain_config(pgvector_database))
    receipt = store.erase(subject_identity())
    # a late write of the assistant: a chunk of her numbered conversation
    rows(
        pgvector_database,
        "INSERT INTO langchain_pg_embedding (id, collection_id, embedding, document,"
        " cmetadata) SELECT 'late-1', uuid, %s::vector, 'Jane again', %s::jsonb "
        "FROM langchain_pg_collection WHERE name = 'order_faq' RETURNING id",
        [literal(embed("Jane again")), json.dumps({"conversation_id": 4410})],
    )
    outcome = store.verify_erased(subject_identity(), receipt)
    assert outcome.found == 1
    assert outcome.per_location["order_faq"]["found"] == 1


def test_the_metadata_match_is_served_by_langchains_gin_index(
    pgvector_database: str,
) -> None:
    seed_langchain(pgvector_database)
    rows(pgvector_database, "ANALYZE langchain_pg_embedding")
    with psycopg.connect(pgvector_database, autocommit=True) as admin:
        database = admin.info.dbname
        admin.execute(f'ALTER DATABASE "{database}" SET enable_seqscan = off')
    store = connector(langchain_config(pgvector_database))
    assert store.health().warnings == ()

    assert store.verify_erased(subject_identity()).found == 5
    assert _index_scans(pgvector_database, "ix_cmetadata_gin") > 0


def _index_scans(url: str, index: str) -> int:
    """The index's scans as the statistics tell. A backend sends its counts
    when it ends: the connections the kind keeps are ended first."""
    rows(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    scans = 0
    for _ in range(40):
        with psycopg.connect(url, autocommit=True) as connection:
            found = connection.execute(
                "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = %s",
                [index],
            ).fetchone()
        scans = int(found[0]) if found else 0
        if scans:
            return scans
        time.sleep(0.05)
    return scans


def test_health_names_a_missing_index_with_the_statement_that_fixes_it(
    pgvector_database: str,
) -> None:
    seed_langchain(pgvector_database)
    rows(pgvector_database, "DROP INDEX ix_cmetadata_gin")
    store = connector(langchain_config(pgvector_database))

    report = store.health()

    assert report.status == "ok: 2 collection(s)"
    (warning,) = report.warnings
    assert "langchain_pg_embedding.cmetadata" in warning.message
    with psycopg.connect(pgvector_database, autocommit=True) as connection:
        connection.execute(warning.fix)  # type: ignore[arg-type]
    assert store.health().warnings == ()


def test_a_collection_missing_from_the_store_is_a_permanent_error(
    pgvector_database: str,
) -> None:
    seed_langchain(pgvector_database)
    config = langchain_config(pgvector_database, collections=["support_memory", "gone"])
    store = connector(config)

    with pytest.raises(ConnectorError) as health:
        store.health()
    with pytest.raises(ConnectorError) as erase:
        store.erase(subject_identity())

    assert health.value.permanent
    assert "gone" in health.value.message
    assert erase.value.permanent
    assert "gone" in erase.value.message
    assert (
        rows(pgvector_database, "SELECT count(*) FROM langchain_pg_embedding")[0][0]
        == 85
    )


def test_a_missing_table_and_a_dead_server_say_so(pgvector_database: str) -> None:
    no_tables = connector(langchain_config(pgvector_database))
    with pytest.raises(ConnectorError) as missing:
        no_tables.health()
    assert missing.value.permanent
    assert "UndefinedTable" in missing.value.message

    dead = connector(
        langchain_config("postgresql://rag@127.0.0.1:1/nowhere", connect_timeout=2),
        password="right-horse-battery",
    )
    with pytest.raises(ConnectorError) as unreachable:
        dead.erase(subject_identity())
    assert not unreachable.value.permanent  # retried later
    assert "127.0.0.1:1/nowhere" in unreachable.value.message
    assert "right-horse-battery" not in unreachable.value.message


PLAIN_DDL = """
CREATE TABLE "ChatChunks" (
    id bigserial PRIMARY KEY,
    embedding vector(8) NOT NULL,
    document text,
    customer_email text,
    conversation_id bigint,
    customer_phone text,
    created_at timestamptz DEFAULT now()
);
CREATE INDEX ON "ChatChunks" (customer_email);
"""


def test_a_plain_table_layout_matches_columns_and_reads_every_other_column(
    pgvector_database: str,
) -> None:
    rows(pgvector_database, PLAIN_DDL)
    chunks = [
        ("Jane Doe: order ORD-552190 is late", SUBJECT_EMAIL, 9001, "+44 20 7946 0958"),
        ("Assistant: sorry Jane, I will chase ORD-552190", None, 9001, None),
        ("Omar Haddad: where is ORD-118204?", "omar.haddad@example.net", 9002, None),
    ]
    for text, email, conversation, phone in chunks:
        rows(
            pgvector_database,
            'INSERT INTO "ChatChunks" (embedding, document, customer_email, '
            "conversation_id, customer_phone) VALUES (%s::vector, %s, %s, %s, %s) "
            "RETURNING id",
            [literal(embed(text)), text, email, conversation, phone],
        )
    config = {
        "dsn": pgvector_database,
        "layout": "tables",
        "collections": ["ChatChunks"],
        "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
    }
    store = connector(config)

    report = store.health()
    records = [
        r for r in store.access(subject_identity()) if r.location == "ChatChunks"
    ]

    # conversation_id is a bigint column: the second chunk, with no e-mail,
    # is found through the first one's conversation
    assert [r.data["document"] for r in records] == [c[0] for c in chunks[:2]]
    first = records[0].data["metadata"]
    assert first["customer_phone"] == "+44 20 7946 0958"
    assert first["conversation_id"] == 9001
    assert "created_at" in first
    assert "embedding" not in first
    # customer_email has its index; conversation_id has none
    (warning,) = report.warnings
    assert "ChatChunks.conversation_id" in warning.message
    assert '"ChatChunks"' in warning.fix

    receipt = store.erase(subject_identity())
    assert receipt.per_location["ChatChunks"]["found"] == 2
    assert rows(pgvector_database, 'SELECT document FROM "ChatChunks"') == [
        (chunks[2][0],)
    ]


def test_a_table_in_a_schema_with_nested_metadata(pgvector_database: str) -> None:
    rows(
        pgvector_database,
        "CREATE SCHEMA rag; CREATE TABLE rag.memories (memory_id uuid PRIMARY KEY "
        "DEFAULT gen_random_uuid(), vec vector(8), body text, meta jsonb, "
        "agent text);",
    )
    for body, meta in (
        ("Prefers e-mail over phone calls.", {"customer": {"email": SUBJECT_EMAIL}}),
        ("Lives in Leeds, orders weekly.", {"customer": {"email": "x@example.org"}}),
    ):
        rows(
            pgvector_database,
            "INSERT INTO rag.memories (vec, body, meta, agent) "
            "VALUES (%s::vector, %s, %s::jsonb, 'concierge') RETURNING memory_id",
            [literal(embed(body)), body, json.dumps(meta)],
        )
    store = connector(
        {
            "dsn": pgvector_database,
            "layout": "tables",
            "columns": {
                "id": "memory_id",
                "embedding": "vec",
                "document": "body",
                "metadata": "meta",
            },
            "collections": ["rag.memories"],
            "keys": {"email": "customer.email"},
        }
    )
    (point, summary) = list(store.access(subject_identity()))
    assert point.data["document"] == "Prefers e-mail over phone calls."
    assert point.data["metadata"] == {
        "agent": "concierge",
        "customer": {"email": SUBJECT_EMAIL},
    }
    assert summary.data["dimensions"] == {"vec": DIMENSIONS}
    assert store.erase(subject_identity()).changed == 1
    assert rows(pgvector_database, "SELECT body FROM rag.memories") == [
        ("Lives in Leeds, orders weekly.",)
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dsn": "postgresql://rag:secret@db/x"}, "config.dsn"),
        ({"dsn": "mysql://rag@db/x"}, "config.dsn"),
        ({"layout": "flat"}, "config.layout"),
        ({"table": "bad-name"}, "config.table"),
        ({"columns": {"vector": "embedding"}}, "config.columns.vector"),
        ({"columns": {"metadata": None}}, "config.columns.metadata"),
        ({"columns": {"id": 'id"; DROP TABLE x; --'}}, "config.columns.id"),
        ({"page_size": 0}, "config.page_size"),
        ({"layout": "tables", "table": "chunks"}, "config.table"),
        ({"layout": "tables", "collections": ["a b"]}, "config.collections[0]"),
        (
            {"layout": "tables", "collections": ["chunks"], "keys": {"email": "a.b"}},
            "config.keys.email",
        ),
    ],
)
def test_a_bad_config_is_refused_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    config = {**langchain_config("postgresql://rag@db.internal/assistant"), **change}
    with pytest.raises(ConfigError) as refused:
        PgvectorConnector.validate_config(config)
    assert refused.value.field == field


def test_the_defaults_are_langchains() -> None:
    cleaned = PgvectorConnector.validate_config(
        langchain_config("postgresql://rag@db.internal/assistant")
    )
    assert cleaned["table"] == "langchain_pg_embedding"
    assert cleaned["collection_table"] == "langchain_pg_collection"
    assert cleaned["columns"] == {
        "id": "id",
        "document": "document",
        "metadata": "cmetadata",
        "embedding": "embedding",
        "collection": "collection_id",
    }


OLD_LANGCHAIN_DDL = """
CREATE TABLE langchain_pg_collection (uuid uuid PRIMARY KEY, name varchar,
    cmetadata json);
CREATE TABLE langchain_pg_embedding (
    uuid uuid PRIMARY KEY,
    collection_id uuid REFERENCES langchain_pg_collection (uuid) ON DELETE CASCADE,
    embedding vector(8),
    document varchar,
    cmetadata json,
    custom_id varchar
);
"""


def test_langchains_older_json_metadata_is_matched_and_health_says_to_migrate(
    pgvector_database: str,
) -> None:
    rows(pgvector_database, OLD_LANGCHAIN_DDL)
    rows(
        pgvector_database,
        "INSERT INTO langchain_pg_collection VALUES "
        "('6f1d0b1e-3c55-4c1e-9d7a-2b1f0e9c8a11', 'support_memory', '{}')",
    )
    for text, email in (
        ("Jane Doe wants her order ORD-552190 refunded", SUBJECT_EMAIL),
        ("Kwame Mensah asked about ORD-300411", "kwame.mensah@example.net"),
    ):
        rows(
            pgvector_database,
            "INSERT INTO langchain_pg_embedding (uuid, collection_id, embedding, "
            "document, cmetadata, custom_id) VALUES (gen_random_uuid(), "
            "'6f1d0b1e-3c55-4c1e-9d7a-2b1f0e9c8a11', %s::vector, %s, %s::json, "
            "'chunk')",
            [literal(embed(text)), text, json.dumps({"customer_email": email})],
        )
    config = {
        **langchain_config(pgvector_database),
        "collections": ["support_memory"],
        "columns": {"id": "uuid"},
    }
    store = connector(config)

    (warning,) = store.health().warnings
    assert "cmetadata is json, not jsonb" in warning.message
    (point, _) = list(store.access(subject_identity()))
    assert point.data == {
        "document": "Jane Doe wants her order ORD-552190 refunded",
        "metadata": {"customer_email": SUBJECT_EMAIL},
    }
    assert store.erase(subject_identity()).changed == 1

    for statement in warning.fix.split("; "):  # as psql runs it
        rows(pgvector_database, statement)
    assert store.health().warnings == ()
    assert store.verify_erased(subject_identity()).found == 0
    assert rows(pgvector_database, "SELECT count(*) FROM langchain_pg_embedding") == [
        (1,)
    ]


def test_a_configured_column_the_table_lacks_is_named_by_the_health_check(
    pgvector_database: str,
) -> None:
    rows(pgvector_database, PLAIN_DDL)
    store = connector(
        {
            "dsn": pgvector_database,
            "layout": "tables",
            "collections": ["ChatChunks"],
            "keys": {"email": "customer_email", "subject_id": "crm_id"},
        }
    )
    with pytest.raises(ConnectorError) as missing:
        store.health()
    assert missing.value.permanent
    assert missing.value.message == "column(s) crm_id not found in ChatChunks"


@pytest.mark.django_db
def test_an_erasure_request_empties_her_points_through_the_executor(
    pgvector_database: str,
    make_request: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    seeded = seed_langchain(pgvector_database)
    connector_create(
        actor=actor_system("tests"),
        name="assistant-memory",
        kind="pgvector",
        config=langchain_config(pgvector_database),
        secrets={"password": "unused-with-trust-auth"},
        data_categories=["ai_memory"],
        disclosure=DISCLOSURE,
    )
    with django_capture_on_commit_callbacks(execute=False):  # planned, not run
        request = make_request(
            kind="erasure",
            verified=True,
            identity={
                "email": "Jane.Doe@Example.com",
                "customer_ids": {"crm": SUBJECT_CRM},
            },
        )
    task = request.tasks.get(connector__name="assistant-memory", action="erase")

    assert task_run(task_id=task.pk) == "succeeded"

    task.refresh_from_db()
    mine = sum(len(ids) for ids in seeded.subject.values())
    assert task.records_changed == mine
    assert task.per_location == {
        c: {"found": len(seeded.subject[c]), "changed": len(seeded.subject[c])}
        for c in COLLECTIONS
    }
    left = rows(pgvector_database, "SELECT count(*) FROM langchain_pg_embedding")
    assert left == [(sum(len(ids) for ids in seeded.others.values()),)]


def _backends(url: str) -> list[int]:
    """The store's connections other than the one asking, after those
    closing have gone."""
    found: list[int] = []
    for _ in range(40):
        found = [
            row[0]
            for row in rows(
                url,
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            )
        ]
        if len(found) <= 1:
            return found
        time.sleep(0.05)
    return found


def test_the_connection_is_kept_between_actions_and_closed_after_a_failure(
    pgvector_database: str,
) -> None:
    seed_langchain(pgvector_database)
    store = connector(langchain_config(pgvector_database))

    store.verify_erased(subject_identity())
    (kept,) = _backends(pgvector_database)
    store.erase(subject_identity())
    store.verify_erased(subject_identity())
    assert _backends(pgvector_database) == [kept]  # no new backend started

    broken = connector(langchain_config(pgvector_database, table="no_such_table"))
    with pytest.raises(ConnectorError, match="UndefinedTable"):
        broken.erase(subject_identity())
    # the failed action's connection (the one kept) is not kept again
    assert _backends(pgvector_database) == []


def test_a_table_without_a_document_column_exports_its_other_columns(
    pgvector_database: str,
) -> None:
    rows(
        pgvector_database,
        "CREATE TABLE faq_hits (id integer PRIMARY KEY, embedding vector(8), "
        "customer_email text, question text)",
    )
    rows(
        pgvector_database,
        "INSERT INTO faq_hits VALUES (7, %s::vector, %s, 'Can I pay by invoice?')",
        [literal(embed("pay by invoice")), SUBJECT_EMAIL],
    )
    store = connector(
        {
            "dsn": pgvector_database,
            "layout": "tables",
            "columns": {"document": None},
            "collections": ["faq_hits"],
            "keys": {"email": "customer_email"},
        }
    )
    (point, summary) = list(store.access(subject_identity()))
    assert point.key == "7"
    assert point.data == {
        "document": None,
        "metadata": {
            "customer_email": SUBJECT_EMAIL,
            "question": "Can I pay by invoice?",
        },
    }
    assert summary.data["points"] == 1
