"""SQLite through the standard library's sqlite3."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import ConnectorError
from connectors.kinds.sql.dialects.base import Dialect, Target


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

    # -- identity indexes --------------------------------------------------------
    # SQLite uses an index on an expression (`lower(email)`) when the query
    # compares that very expression: its own plan says whether one does.
    checks_indexes = True

    def match_served(self, connection: Any, table: str, expression: str) -> bool:
        rows = self.fetch(
            connection,
            f"EXPLAIN QUERY PLAN SELECT 1 FROM {self.quote(table)} "
            f"WHERE {expression} IN (?)",
            [""],
        )
        return any(str(row[-1]).startswith("SEARCH") for row in rows)

    # -- retention purges ------------------------------------------------------
    def purge_prepare(self, connection: Any, *, lock_timeout_ms: int) -> None:
        connection.execute(f"PRAGMA busy_timeout = {int(lock_timeout_ms)}")

    def literal(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"  # sqlite3 leaves % alone

    def older_than(self, column_sql: str, cutoff: datetime) -> tuple[str, list[Any]]:
        # SQLite keeps timestamps as text in more than one shape
        # ("2025-03-01 09:00:00", "2025-03-01T09:00:00+00:00");
        # datetime() brings both to UTC "YYYY-MM-DD HH:MM:SS".
        utc = cutoff.astimezone(UTC)
        return f"datetime({column_sql}) < ?", [utc.strftime("%Y-%m-%d %H:%M:%S")]
