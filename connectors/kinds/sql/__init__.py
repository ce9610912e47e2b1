"""The `sql` connector kind (PostgreSQL, SQLite, MariaDB/MySQL).

`config` holds the map and its validation, `dialects` what differs between
the databases, `connector` the actions.
"""

from connectors.kinds.sql.connector import SqlConnector

__all__ = ["SqlConnector"]
