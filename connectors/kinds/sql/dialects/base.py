"""What every database family shares: a parsed target, sessions with one
write transaction, keyset streaming, and the driver errors turned into
ConnectorErrors that say whether a retry can help (connectors.kinds.sql.dialects).

Error messages name the store, tables and columns, never a row value and
never the password: driver texts are passed on only for error classes whose
text is known to hold names alone (undefined table or column, refused login).
"""

from __future__ import annotations

import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from connectors.base import ConnectorError
from connectors.kinds.sql.dialects.pool import idle_connections

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Target:
    """Where the store is, parsed from the DSN (which holds no password)."""

    scheme: str
    dsn: str
    host: str = ""
    port: int | None = None
    database: str = ""
    user: str = ""

    def describe(self) -> str:
        if self.scheme == "sqlite":
            return f"sqlite file {Path(self.database).name}"
        where = f"{self.host or 'localhost'}:{self.port}" if self.port else self.host
        return f"{self.scheme} at {where or 'localhost'}/{self.database}"


class Dialect(ABC):
    """One database family."""

    param = "%s"

    def __init__(self, dsn: str) -> None:
        parts = urlsplit(dsn)
        self.target = Target(
            scheme=parts.scheme.lower(),
            dsn=dsn,
            host=parts.hostname or "",
            port=parts.port,
            database=unquote(parts.path.lstrip("/")),
            user=unquote(parts.username or ""),
        )

    def quote(self, name: str) -> str:
        # Names are checked against [A-Za-z_][A-Za-z0-9_]* before they get here.
        return f'"{name}"'

    def params(self, count: int) -> str:
        return ", ".join([self.param] * count)

    @abstractmethod
    def connect(self, *, password: str, timeout: int, read_only: bool) -> Any: ...

    @abstractmethod
    def begin(self, connection: Any) -> None:
        """Start the one write transaction of an action."""

    @abstractmethod
    def classify(self, error: Exception, doing: str) -> ConnectorError | None:
        """A ConnectorError for a driver error, or None if it is not one."""

    # Whether a session's connection may be kept open for the next action in
    # this process (see _IdleConnections).
    reuse_connections = False

    @contextmanager
    def session(
        self, *, password: str, timeout: int, write: bool, doing: str
    ) -> Iterator[Any]:
        """A connection; with `write`, one transaction committed at the end."""
        key = self._reuse_key(password)
        kept = idle_connections.take(key, self.reusable) if key else None
        try:
            if kept is not None:
                connection, opened = kept
                self.prepare(connection, read_only=not write)
            else:
                opened = time.monotonic()
                connection = self.connect(
                    password=password, timeout=timeout, read_only=not write
                )
        except Exception as error:
            raise self.error(error, f"connecting to {self.target.describe()}") from None
        clean = False
        try:
            if write:
                self.begin(connection)
            yield connection
            connection.commit()
            clean = True
        except Exception as error:
            with suppress(Exception):
                connection.rollback()
            converted = self.error(error, doing)
            if converted is error:
                raise
            raise converted from None
        finally:
            # Only a connection whose action committed goes back; one that
            # failed, or whose reader stopped early, is closed.
            kept_again = (
                clean
                and key is not None
                and self.reusable(connection)
                and idle_connections.give(key, connection, opened)
            )
            if not kept_again:
                with suppress(Exception):
                    connection.close()

    def _reuse_key(self, password: str) -> tuple[str, str, str] | None:
        if not self.reuse_connections:
            return None
        secret = hashlib.sha256(password.encode()).hexdigest() if password else ""
        return (type(self).__name__, self.target.dsn, secret)

    def reusable(self, connection: Any) -> bool:
        """Whether `connection` is open, healthy and outside a transaction."""
        return False

    def prepare(self, connection: Any, *, read_only: bool) -> None:  # noqa: B027
        """Set up a kept connection for the next action (only kinds that
        keep connections need to)."""

    @contextmanager
    def converting(self, doing: str) -> Iterator[None]:
        """Turn a driver error raised inside into a ConnectorError naming
        what was being done (e.g. the table)."""
        try:
            yield
        except ConnectorError:
            raise
        except Exception as error:
            converted = self.classify(error, doing)
            if converted is None:
                raise
            raise converted from None

    def error(self, error: Exception, doing: str) -> Exception:
        if isinstance(error, ConnectorError):
            return error
        converted = self.classify(error, doing)
        return converted if converted is not None else error

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
        """Yield (column names, rows) in batches ordered by the key.

        `alone`: the caller runs no other statement on this connection until
        it has read the last batch (access, which only writes the rows out),
        so a database that can may send them as one stream.

        Keyset pagination: each batch is its own query starting after the last
        key seen, so no cursor stays open while the caller writes."""
        last: Any = None
        while True:
            page_sql = sql
            page_params = list(params)
            if last is not None:
                page_sql += f" AND {self.quote(key_column)} > {self.param}"
                page_params.append(last)
            page_sql += f" ORDER BY {self.quote(key_column)} LIMIT {int(batch)}"
            cursor = connection.cursor()
            try:
                cursor.execute(page_sql, page_params)
                columns = [d[0] for d in cursor.description]
                rows = list(cursor.fetchall())
            finally:
                cursor.close()
            if not rows:
                return
            yield columns, rows
            if len(rows) < batch:
                return
            last = rows[-1][key_index]

    def fetch(self, connection: Any, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, list(params))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def phone_digits(self, column_sql: str) -> str:
        """SQL that strips the usual phone separators from a column."""
        expression = column_sql
        for char in (" ", "-", "(", ")", ".", "/"):
            expression = f"REPLACE({expression}, '{char}', '')"
        return expression

    def execute(self, connection: Any, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, list(params))
            return max(int(cursor.rowcount), 0)
        finally:
            cursor.close()

    def scalar(self, connection: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, list(params))
            row = cursor.fetchone()
            return row[0] if row else None
        finally:
            cursor.close()

    def execute_many(self, connection: Any, sql: str, rows: list[list[Any]]) -> None:
        if not rows:
            return
        cursor = connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def columns(self, connection: Any, table: str) -> list[str]:
        cursor = connection.cursor()
        try:
            cursor.execute(f"SELECT * FROM {self.quote(table)} WHERE 1 = 0")
            return [d[0] for d in cursor.description]
        finally:
            cursor.close()

    # -- what the health check asks of identity indexes (sql.indexes) ---------
    # Whether this dialect can tell if an index serves an identity match.
    checks_indexes = False

    def match_served(self, connection: Any, table: str, expression: str) -> bool:
        """Whether an index of `table` serves `expression IN (...)`, the
        match the kind generates (only where `checks_indexes`)."""
        return False

    def compares_without_case(self, connection: Any, table: str, column: str) -> bool:
        """Whether `column`'s own equality ignores case (a citext column)."""
        return False

    def index_statement(self, table: str, name: str, expression: str) -> str:
        """The CREATE INDEX that makes `expression` a lookup."""
        return f"CREATE INDEX {self.quote(name)} ON {self.quote(table)} ({expression})"

    # -- what a retention purge needs (connectors.kinds.sql.purge) -------------
    @abstractmethod
    def purge_prepare(self, connection: Any, *, lock_timeout_ms: int) -> None:
        """Set up a purge's own connection: each statement commits by itself
        (reads run outside any write transaction), a write waits at most
        `lock_timeout_ms` for a lock, and timestamps compare in UTC."""

    @contextmanager
    def short_transaction(self, connection: Any) -> Iterator[Any]:
        """One short write transaction on a purge's connection."""
        self.begin(connection)
        try:
            yield connection
        except BaseException:
            with suppress(Exception):
                connection.rollback()
            raise
        connection.commit()

    def literal(self, text: str) -> str:
        """A mask value from the map as an SQL string literal."""
        literal = "'" + text.replace("'", "''") + "'"
        # psycopg and PyMySQL read % as the start of a placeholder.
        return literal.replace("%", "%%")

    def older_than(self, column_sql: str, cutoff: datetime) -> tuple[str, list[Any]]:
        """`column < cutoff`, comparable on this database."""
        return f"{column_sql} < {self.param}", [cutoff.astimezone(UTC)]

    def key_in(self, column_sql: str, keys: list[Any]) -> tuple[str, list[Any]]:
        """`column` is one of `keys`."""
        return f"{column_sql} IN ({self.params(len(keys))})", list(keys)
