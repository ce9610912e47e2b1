"""MariaDB or MySQL through PyMySQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pymysql

from connectors.base import ConnectorError
from connectors.kinds.sql.dialects.base import Dialect


class MySql(Dialect):
    """MariaDB or MySQL through PyMySQL."""

    TRANSIENT = {1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013, 2055}
    SAFE_TEXT = {1045, 1049, 1054, 1146, 1406}  # texts that hold names only

    def quote(self, name: str) -> str:
        return f"`{name}`"

    def connect(self, *, password: str, timeout: int, read_only: bool) -> Any:
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

    # -- retention purges ------------------------------------------------------
    def purge_prepare(self, connection: Any, *, lock_timeout_ms: int) -> None:
        connection.autocommit(True)
        cursor = connection.cursor()
        try:
            # Whole seconds, rounded up: MySQL takes no fraction here.
            seconds = max(1, -(-int(lock_timeout_ms) // 1000))
            cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {seconds}")
            cursor.execute("SET time_zone = '+00:00'")
        finally:
            cursor.close()

    def older_than(self, column_sql: str, cutoff: datetime) -> tuple[str, list[Any]]:
        # DATETIME columns hold no zone: compare with the naive UTC time.
        return f"{column_sql} < %s", [cutoff.astimezone(UTC).replace(tzinfo=None)]
