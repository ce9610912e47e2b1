"""The connection of one retention purge of an SQL store.

A purge holds one connection for its whole run, in autocommit: it reads a
batch's keys (and texts) outside any write transaction, then writes the
batch in one short transaction, so locks are held only for that write.
Driver errors become ConnectorErrors naming what was being done, never the
password.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from connectors.base import ConnectorError
from connectors.kinds.sql.dialects import Dialect, Row


class PurgeSession:
    """One purge's connection, opened at its first use."""

    def __init__(
        self,
        dialect: Dialect,
        *,
        password: str,
        connect_timeout: int,
        lock_timeout_ms: int,
    ) -> None:
        self.dialect = dialect
        self._password = password
        self._connect_timeout = connect_timeout
        self._lock_timeout_ms = max(int(lock_timeout_ms), 1)
        self._connection: Any = None

    @property
    def connection(self) -> Any:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            with suppress(Exception):
                self._connection.close()
            self._connection = None

    def _connect(self) -> Any:
        doing = f"connecting to {self.dialect.target.describe()}"
        try:
            connection = self.dialect.connect(
                password=self._password,
                timeout=self._connect_timeout,
                read_only=False,
            )
        except Exception as error:
            raise self._converted(error, doing) from None
        with self.step("preparing the purge session"):
            self.dialect.purge_prepare(
                connection, lock_timeout_ms=self._lock_timeout_ms
            )
        return connection

    def _converted(self, error: Exception, doing: str) -> Exception:
        converted = self.dialect.error(error, doing)
        password = self._password
        if (
            isinstance(converted, ConnectorError)
            and password
            and password in converted.message
        ):
            return ConnectorError(
                converted.message.replace(password, "***"),
                permanent=converted.permanent,
            )
        return converted

    @contextmanager
    def step(self, doing: str) -> Iterator[None]:
        """Turn a driver error raised inside into a ConnectorError."""
        try:
            yield
        except ConnectorError:
            raise
        except Exception as error:
            converted = self._converted(error, doing)
            if converted is error:
                raise
            raise converted from None

    @contextmanager
    def transaction(self, doing: str) -> Iterator[Any]:
        """One short write transaction."""
        connection = self.connection
        with self.step(doing), self.dialect.short_transaction(connection):
            yield connection

    def read(self, sql: str, params: Sequence[Any]) -> list[Row]:
        """A read outside any write transaction (PostgreSQL reads run in
        autocommit, SQLite and MySQL read without BEGIN)."""
        return self.dialect.fetch(self.connection, sql, params)

    def scalar(self, sql: str, params: Sequence[Any]) -> Any:
        rows = self.read(sql, params)
        return rows[0][0] if rows else None
