"""The pgvector engine: the `VectorEngine` protocol in SQL over psycopg.

Two layouts (`connectors.kinds.vectors.pgvector` cleans the config):

- `langchain`: LangChain's PGVector tables. A collection is a row of
  `langchain_pg_collection` (`uuid`, `name`); its points are the rows of
  `langchain_pg_embedding` whose `collection_id` is that uuid, with `id`,
  `document`, `embedding` (a `vector`) and the metadata in `cmetadata`
  (JSONB, which LangChain indexes with GIN `jsonb_path_ops`).
- `tables`: a collection is a table of its own (`schema.table` allowed).
  With a JSONB metadata column the keys are its keys; without one, the keys
  name plain columns.

A subject's rows match an OR of one condition per key and value: for JSONB
`metadata @> '{"key": value}'` (a GIN index on the column serves each), a
dotted key also as the nested path (`{"a": {"b": value}}`) and a value of
digits also as a JSON number; for a plain column `column = ANY(values)`
(digits only, for an integer column). Every name is quoted by psycopg.sql,
every value is a parameter.

Rows are read by one query streamed in chunks (planned for the whole
result: a bitmap scan of the index, then a sort of the subject's rows); a
deletion is one DELETE, its own transaction in autocommit, whose row count
is what it deleted. The vector itself is never read: only `vector_dims`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from connectors.base import ConnectorError, HealthWarning
from connectors.kinds.sql.dialects.pool import idle_connections
from connectors.kinds.sql.dialects.postgres import CHUNKED_ROWS, Postgres
from connectors.kinds.vectors.base import Match, Point
from connectors.kinds.vectors.pgvector_sql import (
    JSON,
    LANGCHAIN,
    TABLES,
    Layout,
    match_condition,
    name,
    point_of,
)


class PgvectorEngine:
    """One connection to the store for one action, in autocommit: each
    statement is its own transaction (a deletion is one DELETE).

    Connecting costs more than a subject's whole action (a backend start):
    the connection is kept for the next action in this process, as the sql
    kind keeps its own (connectors.kinds.sql.dialects.pool), under a key of
    its own since its session differs (autocommit).
    One whose action failed is closed."""

    def __init__(
        self, dsn: str, *, password: str, timeout: int, layout: Layout
    ) -> None:
        self.dialect = Postgres(dsn)
        self.layout = layout
        self._uuids: dict[str, Any] = {}
        self._types: dict[str, dict[str, int]] = {}
        self._failed = False
        secret = hashlib.sha256(password.encode()).hexdigest() if password else ""
        self._key = ("pgvector", dsn, secret)
        kept = idle_connections.take(self._key, self.dialect.reusable)
        if kept is not None:
            self.connection, self._opened = kept
            return
        try:
            self._opened = time.monotonic()
            self.connection = self.dialect.connect(
                password=password, timeout=timeout, read_only=False
            )
            self.connection.autocommit = True
        except psycopg.Error as error:
            raise self._error(
                error, f"connecting to {self.dialect.target.describe()}"
            ) from None

    def close(self) -> None:
        kept = (
            not self._failed
            and self.dialect.reusable(self.connection)
            and idle_connections.give(self._key, self.connection, self._opened)
        )
        if not kept:
            self.connection.close()

    # -- the protocol ---------------------------------------------------------------
    def collections(self) -> list[str]:
        lay = self.layout
        if lay.layout == LANGCHAIN:
            query = sql.SQL("SELECT name FROM {} ORDER BY name").format(
                name(lay.collection_table)
            )
            rows = self._fetch(query, [], doing=f"listing {lay.collection_table}")
            return [row[0] for row in rows]
        rows = self._fetch(
            sql.SQL(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ),
            [],
            doing="listing tables",
        )
        visible = self._scalar(sql.SQL("SELECT current_schemas(false)"), [], "")
        found = {f"{schema}.{table}" for schema, table in rows}
        found |= {table for schema, table in rows if schema in (visible or [])}
        return sorted(found)

    def dimensions(self, collection: str) -> dict[str, int]:
        table, scope, params = self._scope(collection)
        vector = sql.Identifier(self.layout.embedding)
        query = sql.SQL(
            "SELECT vector_dims({}) FROM {} WHERE {} AND {} IS NOT NULL LIMIT 1"
        ).format(vector, name(table), scope, vector)
        dims = self._scalar(query, params, f"reading the dimensions of {collection}")
        return {self.layout.embedding: int(dims)} if dims is not None else {}

    def find(self, collection: str, match: Match) -> Iterator[Point]:
        lay = self.layout
        table, scope, params = self._scope(collection)
        where, values = self._condition(table, match)
        columns = self._point_columns(table)
        query = sql.SQL("SELECT {} FROM {} WHERE {} AND ({}) ORDER BY {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            name(table),
            scope,
            where,
            sql.Identifier(lay.id),
        )
        doing = f"reading points of {collection}"
        # One query whose rows the server sends in chunks as they come (one
        # round trip; nothing else runs on the connection meanwhile).
        chunks = {"size": lay.page_size} if CHUNKED_ROWS else {}
        try:
            with self.connection.cursor() as cursor:
                for row in cursor.stream(query, [*params, *values], **chunks):
                    yield point_of(self.layout, columns, row)
        except psycopg.Error as error:
            raise self._error(error, doing) from None

    def count(self, collection: str, match: Match) -> int:
        table, scope, params = self._scope(collection)
        where, values = self._condition(table, match)
        query = sql.SQL("SELECT count(*) FROM {} WHERE {} AND ({})").format(
            name(table), scope, where
        )
        doing = f"counting points of {collection}"
        return int(self._scalar(query, [*params, *values], doing) or 0)

    def delete(self, collection: str, match: Match) -> int | None:
        table, scope, params = self._scope(collection)
        where, values = self._condition(table, match)
        query = sql.SQL("DELETE FROM {} WHERE {} AND ({})").format(
            name(table), scope, where
        )
        try:  # one statement in autocommit: its own transaction
            cursor = self.connection.execute(query, [*params, *values])
            return max(int(cursor.rowcount), 0)
        except psycopg.Error as error:
            raise self._error(error, f"deleting points of {collection}") from None

    # -- health -------------------------------------------------------------------
    def check(self, collections: Sequence[str]) -> list[HealthWarning]:
        """Raise when a configured column is missing; a warning per match no
        index serves, with the statement that adds one."""
        lay = self.layout
        tables = [lay.table] if lay.layout == LANGCHAIN else list(collections)
        warnings: list[HealthWarning] = []
        for table in tables:
            types = self._column_types(table)
            wanted = [lay.id, lay.embedding, lay.document, lay.metadata]
            if lay.layout == LANGCHAIN:
                wanted.append(lay.collection)
            elif not lay.metadata:
                wanted += lay.keys
            missing = [c for c in wanted if c and c not in types]
            if missing:
                raise ConnectorError(
                    f"column(s) {', '.join(missing)} not found in {table}",
                    permanent=True,
                )
            columns = [lay.metadata] if lay.metadata else list(lay.keys)
            for column in columns:
                warning = self._index_warning(table, column, types[column])
                if warning is not None:
                    warnings.append(warning)
        return warnings

    def _index_warning(self, table: str, column: str, oid: int) -> HealthWarning | None:
        json_column = self.layout.metadata is not None
        method = "gin" if json_column else "btree"
        if (oid != JSON or not json_column) and self._indexed(table, column, method):
            return None
        index = f"ix_{table.replace('.', '_')}_{column}"[:63]
        statement = sql.SQL(
            "CREATE INDEX CONCURRENTLY {} ON {} USING {} ({}{})"
        ).format(
            sql.Identifier(index),
            name(table),
            sql.SQL(method),
            sql.Identifier(column),
            sql.SQL(" jsonb_path_ops" if json_column else ""),
        )
        fix = statement.as_string(self.connection)
        message = f"no {method} index on {table}.{column}: finding a subject "
        if oid == JSON:  # LangChain's older tables: no index can serve json
            alter = sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE jsonb").format(
                name(table), sql.Identifier(column)
            )
            fix = f"{alter.as_string(self.connection)}; {fix}"
            message = f"{table}.{column} is json, not jsonb: finding a subject "
        return HealthWarning(message + "reads the whole table", fix=fix)

    def _indexed(self, table: str, column: str, method: str) -> bool:
        """A valid whole-table index of `method` whose first key is `column`."""
        query = sql.SQL(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = i.indkey[0] "
            "WHERE i.indrelid = to_regclass(%s) AND i.indisvalid "
            "AND i.indpred IS NULL AND am.amname = %s AND a.attname = %s"
        )
        quoted = name(table).as_string(self.connection)
        found = self._scalar(query, [quoted, method, column], "reading indexes")
        return found is not None

    # -- SQL pieces ---------------------------------------------------------------
    def _scope(self, collection: str) -> tuple[str, sql.Composable, list[Any]]:
        """The table of `collection` and the condition keeping to it."""
        lay = self.layout
        if lay.layout == TABLES:
            return collection, sql.SQL("TRUE"), []
        if collection not in self._uuids:  # every configured one at once
            query = sql.SQL("SELECT name, uuid FROM {} WHERE name = ANY(%s)").format(
                name(lay.collection_table)
            )
            wanted = list(dict.fromkeys((*lay.collections, collection)))
            found = self._fetch(query, [wanted], doing="finding the collections")
            self._uuids.update(dict(found))
            if collection not in self._uuids:
                raise ConnectorError(
                    f"collection {collection} not found in {lay.collection_table}",
                    permanent=True,
                )
        scope = sql.SQL("{} = %s").format(sql.Identifier(lay.collection))
        return lay.table, scope, [self._uuids[collection]]

    def _condition(self, table: str, match: Match) -> tuple[sql.Composable, list[Any]]:
        return match_condition(self.layout, table, self._column_types(table), match)

    def _column_types(self, table: str) -> dict[str, int]:
        if table not in self._types:
            query = sql.SQL("SELECT * FROM {} WHERE FALSE").format(name(table))
            try:
                with self.connection.cursor() as cursor:
                    cursor.execute(query, prepare=False)
                    self._types[table] = {
                        d.name: d.type_code for d in cursor.description or []
                    }
            except psycopg.Error as error:
                raise self._error(error, f"reading the columns of {table}") from None
        return self._types[table]

    def _point_columns(self, table: str) -> list[str]:
        """What a point is read with: never the vector (nor the collection's
        uuid, the store's own plumbing)."""
        lay = self.layout
        if lay.layout == LANGCHAIN:
            return [c for c in (lay.id, lay.document, lay.metadata) if c]
        skip = {lay.embedding}
        return [
            lay.id,
            *(c for c in self._column_types(table) if c not in skip | {lay.id}),
        ]

    # -- plumbing -----------------------------------------------------------------
    def _fetch(
        self, query: sql.Composable, params: Sequence[Any], *, doing: str
    ) -> list[tuple[Any, ...]]:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(query, list(params))
                return list(cursor.fetchall())
        except psycopg.Error as error:
            raise self._error(error, doing) from None

    def _scalar(self, query: sql.Composable, params: Sequence[Any], doing: str) -> Any:
        rows = self._fetch(query, params, doing=doing or "reading the store")
        return rows[0][0] if rows else None

    def _error(self, error: psycopg.Error, doing: str) -> ConnectorError:
        self._failed = True
        converted = self.dialect.classify(error, doing)
        return converted or ConnectorError(f"{doing}: {type(error).__name__}")
