"""What differs between PostgreSQL, SQLite and MariaDB/MySQL: connecting,
quoting, parameter style, streaming rows, and turning driver errors into
ConnectorErrors that say whether a retry can help.

Error messages name the store, tables and columns, never a row value and
never the password: driver texts are passed on only for error classes whose
text is known to hold names alone (undefined table or column, refused login).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from connectors.base import ConnectorError

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


def dialect_for(dsn: str, *, prepared_statements: bool = True) -> Dialect:
    """The dialect of a store's DSN (`prepared_statements`: see Postgres)."""
    scheme = dsn.split("://", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        return Postgres(dsn, prepared_statements=prepared_statements)
    if scheme == "sqlite":
        return Sqlite(dsn)
    return MySql(dsn)


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
        kept = _idle.take(key, self.reusable) if key else None
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
                and _idle.give(key, connection, opened)
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
    ) -> Iterator[tuple[list[str], list[Row]]]:
        """Yield (column names, rows) in batches ordered by the key.

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
            return max(cursor.rowcount, 0)
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


# psycopg's prepare_threshold for store connections (see Postgres.connect).
PREPARE_THRESHOLD = 1


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
        import psycopg

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
        import psycopg

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
        # The rest through one server-side cursor, after the last key seen.
        # PostgreSQL cursors are insensitive: writes made in the same
        # transaction while it is open (erasure rewriting the rows it reads)
        # do not disturb it, and one pass replaces a query per page.
        cursor = connection.cursor(name=f"pd_{uuid.uuid4().hex[:12]}")
        try:
            cursor.itersize = batch
            cursor.execute(
                f"{sql} AND {key} > %s ORDER BY {key}",
                [*params, rows[-1][key_index]],
            )
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
        from psycopg.pq import TransactionStatus

        return (
            not connection.closed
            and not connection.broken
            and connection.info.transaction_status == TransactionStatus.IDLE
        )

    def classify(self, error: Exception, doing: str) -> ConnectorError | None:
        import psycopg

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


class Sqlite(Dialect):
    """A SQLite file (stdlib sqlite3); writes take the lock at BEGIN."""

    param = "?"

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn)
        path = dsn[len("sqlite:///") :]
        self.target = Target(scheme="sqlite", dsn=dsn, database=path)

    def connect(self, *, password: str, timeout: int, read_only: bool) -> Any:
        mode = "ro" if read_only else "rw"  # never create a missing file
        uri = f"file:{Path(self.target.database).as_posix()}?mode={mode}"
        return sqlite3.connect(
            uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=True
        )

    def begin(self, connection: Any) -> None:
        connection.execute("BEGIN IMMEDIATE")

    def classify(self, error: Exception, doing: str) -> ConnectorError | None:
        if not isinstance(error, sqlite3.Error):
            return None
        text = str(error)
        transient = any(
            word in text for word in ("locked", "busy", "disk I/O", "interrupted")
        )
        # sqlite3 messages name tables, columns and constraints, not values.
        return ConnectorError(
            f"{doing}: {type(error).__name__}: {text}", permanent=not transient
        )


class MySql(Dialect):
    """MariaDB or MySQL through PyMySQL."""

    TRANSIENT = {1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013, 2055}
    SAFE_TEXT = {1045, 1049, 1054, 1146, 1406}  # texts that hold names only

    def quote(self, name: str) -> str:
        return f"`{name}`"

    def connect(self, *, password: str, timeout: int, read_only: bool) -> Any:
        import pymysql

        target = self.target
        return pymysql.connect(
            host=target.host or "localhost",
            port=target.port or 3306,
            user=target.user or "root",
            password=password,
            database=target.database or None,
            connect_timeout=timeout,
            charset="utf8mb4",
            autocommit=False,
        )

    def begin(self, connection: Any) -> None:
        connection.begin()

    def classify(self, error: Exception, doing: str) -> ConnectorError | None:
        import pymysql

        if not isinstance(error, pymysql.Error):
            return None
        code = error.args[0] if error.args and isinstance(error.args[0], int) else 0
        text = str(error.args[1]) if len(error.args) > 1 else ""
        detail = f": {text}" if code in self.SAFE_TEXT else ""
        if code in (2002, 2003):
            detail = ": connection refused or unreachable"
        return ConnectorError(
            f"{doing}: {type(error).__name__} ({code}){detail}",
            permanent=code not in self.TRANSIENT,
        )


class _IdleConnections:
    """Store connections kept open between actions, per process and per store.

    A connection goes back only after its action committed, with no
    transaction open on it; it is closed instead once it has been idle for
    IDLE_SECONDS (a server or a firewall may have dropped it by then) or is
    older than MAX_AGE_SECONDS. A forked child (Celery prefork) never uses its
    parent's connections, which share the parent's sockets: it keeps them
    referenced (closing one would end the parent's session) and starts empty.
    """

    IDLE_SECONDS = 30.0
    MAX_AGE_SECONDS = 300.0
    PER_STORE = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._idle: dict[tuple[str, str, str], list[tuple[Any, float, float]]] = {}
        self._inherited: list[Any] = []

    def _forget_parents(self) -> None:
        if self._pid != os.getpid():
            for entries in self._idle.values():
                self._inherited += [connection for connection, _, _ in entries]
            self._idle = {}
            self._pid = os.getpid()

    def take(
        self, key: tuple[str, str, str], usable: Callable[[Any], bool]
    ) -> tuple[Any, float] | None:
        """A kept connection and when it was opened, or None."""
        now = time.monotonic()
        stale: list[Any] = []
        found = None
        with self._lock:
            self._forget_parents()
            entries = self._idle.get(key, [])
            while entries:
                connection, opened, returned = entries.pop()
                if (
                    now - returned > self.IDLE_SECONDS
                    or now - opened > self.MAX_AGE_SECONDS
                    or not usable(connection)
                ):
                    stale.append(connection)
                    continue
                found = (connection, opened)
                break
        for connection in stale:
            with suppress(Exception):
                connection.close()
        return found

    def give(self, key: tuple[str, str, str], connection: Any, opened: float) -> bool:
        """Keep `connection` for the next action; False if it must be closed."""
        now = time.monotonic()
        with self._lock:
            self._forget_parents()
            entries = self._idle.setdefault(key, [])
            if len(entries) >= self.PER_STORE or now - opened > self.MAX_AGE_SECONDS:
                return False
            entries.append((connection, opened, now))
            return True


_idle = _IdleConnections()
