"""PostgreSQL through psycopg 3."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from connectors.base import ConnectorError
from connectors.kinds.sql.dialects.base import Dialect, Row

# psycopg's prepare_threshold for store connections (see Postgres.connect).
PREPARE_THRESHOLD = 1
# Rows streamed in chunks (Cursor.stream's size) need libpq 17 or later.
CHUNKED_ROWS = psycopg.pq.version() >= 170000


class Postgres(Dialect):
    """PostgreSQL through psycopg 3; reads stream from a server-side cursor."""

    # Connecting costs more than a small subject's whole action (a TCP and
    # authentication round trip, a backend start): keep it for the next one.
    reuse_connections = True

    def __init__(self, dsn: str, *, prepared_statements: bool = True) -> None:
        super().__init__(dsn)
        self.prepare_threshold = PREPARE_THRESHOLD if prepared_statements else None

    def _reuse_key(self, password: str) -> tuple[str, str, str] | None:
        # A connection is kept for sessions that prepare (or not) as it does.
        key = super()._reuse_key(password)
        if key is None:
            return None
        kind, dsn, secret = key
        return (f"{kind}/prepare={self.prepare_threshold}", dsn, secret)

    def connect(self, *, password: str, timeout: int, read_only: bool) -> Any:
        # A kept connection prepares a statement the second time it runs it
        # (the next subject's identical query): planning store queries costs
        # the server more than running them for one subject. If the store's
        # schema changes under a kept connection, PostgreSQL refuses a
        # prepared statement whose result type changed ("cached plan must
        # not change result type"): `classify` calls that retryable, and the
        # failed session's connection is closed, so the retry starts afresh.
        # A map with "prepared_statements": false (a store behind a pooler
        # that cannot keep them) prepares nothing.
        options: dict[str, Any] = {
            "connect_timeout": timeout,
            "prepare_threshold": self.prepare_threshold,
        }
        if password:
            options["password"] = password
        connection = psycopg.connect(self.target.dsn, **options)
        self.prepare(connection, read_only=read_only)
        return connection

    def columns(self, connection: Any, table: str) -> list[str]:
        # Never prepared: "SELECT *" changes its result with the table.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT * FROM {self.quote(table)} WHERE 1 = 0", prepare=False
            )
            return [d[0] for d in cursor.description]

    def prepare(self, connection: Any, *, read_only: bool) -> None:
        # Read-only actions see one consistent snapshot across all tables;
        # writes run with the server's defaults (None), as on a new connection.
        connection.read_only = True if read_only else None
        connection.isolation_level = (
            psycopg.IsolationLevel.REPEATABLE_READ if read_only else None
        )

    def begin(self, connection: Any) -> None:
        """psycopg opens the transaction at the first statement."""

    def phone_digits(self, column_sql: str) -> str:
        return f"translate({column_sql}, ' -()./', '')"  # one call, not six

    def stream(
        self,
        connection: Any,
        sql: str,
        params: Sequence[Any],
        *,
        key_index: int,
        key_column: str,
        batch: int,
        alone: bool = False,
    ) -> Iterator[tuple[list[str], list[Row]]]:
        key = self.quote(key_column)
        # Most subjects fit in one batch: a plain query answers them in one
        # round trip (a server-side cursor takes three: DECLARE, FETCH, CLOSE).
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY {key} LIMIT {int(batch)}", list(params))
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        if rows:
            yield columns, rows
        if len(rows) < batch:
            return
        rest_sql = f"{sql} AND {key} > %s ORDER BY {key}"
        rest_params = [*params, rows[-1][key_index]]
        if alone and CHUNKED_ROWS:
            # Nothing else runs on the connection meanwhile: the rest as one
            # query whose rows the server sends in chunks while this process
            # writes the previous ones (a cursor's FETCH waits for each).
            with connection.cursor() as cursor:
                streamed = cursor.stream(rest_sql, rest_params, size=batch)
                while rows := list(islice(streamed, batch)):
                    yield columns, rows
            return
        # The rest through one server-side cursor, after the last key seen.
        # PostgreSQL cursors are insensitive: writes made in the same
        # transaction while it is open (erasure rewriting the rows it reads)
        # do not disturb it, and one pass replaces a query per page.
        cursor = connection.cursor(name=f"pd_{uuid.uuid4().hex[:12]}")
        try:
            cursor.itersize = batch
            cursor.execute(rest_sql, rest_params)
            while rows := cursor.fetchmany(batch):
                yield columns, rows
                if len(rows) < batch:
                    break  # that was the last batch: no round trip to learn it
        finally:
            cursor.close()

    def execute_many(self, connection: Any, sql: str, rows: list[list[Any]]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(sql, rows)

    def reusable(self, connection: Any) -> bool:
        return (
            not connection.closed
            and not connection.broken
            and connection.info.transaction_status == TransactionStatus.IDLE
        )

    def classify(self, error: Exception, doing: str) -> ConnectorError | None:
        if not isinstance(error, psycopg.Error):
            return None
        state = getattr(error, "sqlstate", None) or ""
        if not state:
            text = str(error)
            if "FATAL:" in text:
                reason = text.split("FATAL:", 1)[1].strip().splitlines()[0]
                busy = ("starting up", "shutting down", "too many", "recovery")
                return ConnectorError(
                    f"{doing}: the server refused: {reason}",
                    permanent=not any(word in reason for word in busy),
                )
            reason = "connection refused" if "refused" in text else "unreachable"
            if "timeout" in text.lower():
                reason = "timed out"
            return ConnectorError(f"{doing}: {reason}", permanent=False)
        name = type(error).__name__
        transient = (
            state[:2] in ("08", "40", "53", "57", "58")
            or state == "55P03"  # lock not available
            or (state == "0A000" and "cached plan" in str(error))  # see connect
        )
        detail = ""
        if state[:2] in ("42", "28", "3D", "3F"):
            detail = f": {error.diag.message_primary or name}"
        return ConnectorError(
            f"{doing}: {name} ({state}){detail}", permanent=not transient
        )

    # -- identity indexes --------------------------------------------------------
    checks_indexes = True

    def match_served(self, connection: Any, table: str, expression: str) -> bool:
        """From the catalog: a valid, whole-table btree index whose first key
        is `expression` (the column itself, or e.g. `lower(email)`)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_indexdef(i.indexrelid, 1, false) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am am ON am.oid = c.relam "
                "WHERE i.indrelid = to_regclass(%s) AND i.indisvalid "
                "AND i.indpred IS NULL AND am.amname = 'btree'",
                [self.quote(table)],
                prepare=False,
            )
            keys = {_comparable(row[0]) for row in cursor.fetchall()}
        return _comparable(expression) in keys

    def compares_without_case(self, connection: Any, table: str, column: str) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.typname FROM pg_attribute a "
                "JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = to_regclass(%s) AND a.attname = %s",
                [self.quote(table), column],
                prepare=False,
            )
            row = cursor.fetchone()
        return bool(row) and row[0] == "citext"

    def index_statement(self, table: str, name: str, expression: str) -> str:
        # CONCURRENTLY: building it does not block the store's writes.
        return (
            f"CREATE INDEX CONCURRENTLY {self.quote(name)} "
            f"ON {self.quote(table)} ({expression})"
        )

    # -- retention purges ------------------------------------------------------
    def purge_prepare(self, connection: Any, *, lock_timeout_ms: int) -> None:
        connection.autocommit = True
        connection.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
        connection.execute("SET TIME ZONE 'UTC'")

    @contextmanager
    def short_transaction(self, connection: Any) -> Iterator[Any]:
        with connection.transaction():
            yield connection

    def key_in(self, column_sql: str, keys: list[Any]) -> tuple[str, list[Any]]:
        return f"{column_sql} = ANY({self.param})", [list(keys)]


_CAST = re.compile(r"::[A-Za-z_ ]+")


def _comparable(expression: str) -> str:
    """An index key or match expression with what PostgreSQL adds when it
    prints one (casts such as `::text`, parentheses, quotes) taken away:
    `lower((email)::text)` and `lower("email")` compare equal."""
    bare = _CAST.sub("", expression)
    return re.sub(r'[\s()"]', "", bare).lower()
