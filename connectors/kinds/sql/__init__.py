"""The `sql` connector kind (PostgreSQL, SQLite, MariaDB/MySQL).

`config` holds the map's parsed types, `validation` checks and parses it,
`schema` describes it as JSON Schema; `dialects` holds what differs between
the databases; `query` finds a subject's rows, `erasure` erases and verifies
them, `withdrawal` applies consent withdrawals, `purge` (with `purge_plan`,
`purge_session`, `purge_counts`) runs retention purges; `connector` is the
kind itself, the one class the rest of Privacy Desk reaches through the
connector contract.
"""

from connectors.kinds.sql.connector import SqlConnector

__all__ = ["SqlConnector"]
