"""What differs between PostgreSQL, SQLite and MariaDB/MySQL: connecting,
quoting, parameter style, streaming rows, the SQL a purge needs, and turning
driver errors into ConnectorErrors that say whether a retry can help.

`base` holds what they share, one module per family what differs, `pool`
the connections kept open between actions.
"""

from __future__ import annotations

from connectors.kinds.sql.dialects.base import Dialect, Row, Target
from connectors.kinds.sql.dialects.mysql import MySql
from connectors.kinds.sql.dialects.postgres import PREPARE_THRESHOLD, Postgres
from connectors.kinds.sql.dialects.sqlite import Sqlite

__all__ = [
    "PREPARE_THRESHOLD",
    "Dialect",
    "MySql",
    "Postgres",
    "Row",
    "Sqlite",
    "Target",
    "dialect_for",
]


def dialect_for(dsn: str, *, prepared_statements: bool = True) -> Dialect:
    """The dialect of a store's DSN (`prepared_statements`: see Postgres)."""
    scheme = dsn.split("://", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        return Postgres(dsn, prepared_statements=prepared_statements)
    if scheme == "sqlite":
        return Sqlite(dsn)
    return MySql(dsn)
