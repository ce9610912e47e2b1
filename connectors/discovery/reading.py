"""Reading an SQL store for discovery: its schema through SQLAlchemy's
inspector, and a bounded sample of each text column's values, read only.

Every read runs in a read-only transaction with a time limit: PostgreSQL
`SET TRANSACTION READ ONLY` and `statement_timeout`, MariaDB/MySQL `START
TRANSACTION READ ONLY` and `max_execution_time`, SQLite the file opened in
read-only URI mode with a progress handler that interrupts a statement past
the deadline. Sampled values never leave this module's caller: they are
classified and dropped, never stored or logged.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from connectors.base import ConnectorError

# Types whose values can hold personal data as text (sampled); other types
# are classified by their name alone.
TEXT_TYPES = (sa.String, sa.Text, sa.Unicode, sa.UnicodeText, sa.Enum, sa.JSON)
DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
DRIVERS.update({"mysql": "mysql+pymysql", "mariadb": "mysql+pymysql"})


@dataclass(frozen=True)
class ForeignKey:
    """`columns` of this table point at `referred_columns` of `referred_table`."""

    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]


@dataclass
class ColumnSchema:
    name: str
    type_name: str
    textual: bool
    nullable: bool = True


@dataclass
class TableSchema:
    name: str
    columns: list[ColumnSchema]
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)


class ScanTimeout(ConnectorError):
    """The scan ran past its overall time limit."""


def engine_for(dsn: str, *, password: str, timeout: int) -> Engine:
    """A read-only SQLAlchemy engine for a DSN of the sql kind."""
    scheme = dsn.split("://", 1)[0].lower()
    if scheme == "sqlite":
        path = Path(dsn[len("sqlite:///") :]).as_posix()
        if not Path(path).exists():
            raise ConnectorError(f"no SQLite file {Path(path).name}", permanent=True)

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(
                f"file:{path}?mode=ro",
                uri=True,
                timeout=timeout,
                check_same_thread=False,
            )

        return sa.create_engine("sqlite://", creator=connect, poolclass=sa.NullPool)
    url: URL = make_url(dsn).set(drivername=DRIVERS.get(scheme, scheme))
    if password:
        url = url.set(password=password)
    args: dict[str, Any] = {"connect_timeout": timeout}
    return sa.create_engine(url, connect_args=args, poolclass=sa.NullPool)


def read_schema(connection: Connection) -> list[TableSchema]:
    """Every table of the default schema: columns, primary key, foreign keys."""
    inspector = sa.inspect(connection)
    tables: list[TableSchema] = []
    for name in sorted(inspector.get_table_names()):
        columns = [
            ColumnSchema(
                name=str(column["name"]),
                type_name=str(column["type"]).lower()[:40],
                textual=isinstance(column["type"], TEXT_TYPES),
                nullable=bool(column.get("nullable", True)),
            )
            for column in inspector.get_columns(name)
        ]
        primary = inspector.get_pk_constraint(name).get("constrained_columns") or []
        keys = [
            ForeignKey(
                columns=tuple(fk["constrained_columns"]),
                referred_table=str(fk["referred_table"]),
                referred_columns=tuple(fk["referred_columns"]),
            )
            for fk in inspector.get_foreign_keys(name)
            if fk.get("referred_table") and fk.get("constrained_columns")
        ]
        tables.append(TableSchema(name, columns, tuple(primary), keys))
    return tables


@contextmanager
def read_only(engine: Engine, *, deadline: float) -> Iterator[Connection]:
    """A connection inside a read-only transaction whose statements stop at
    `deadline` (time.monotonic()); rolled back at the end, whatever ran."""
    family = engine.dialect.name
    remaining_ms = max(int((deadline - time.monotonic()) * 1000), 1)
    if family == "mysql":
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    else:
        connection = engine.connect()
    try:
        if family == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {remaining_ms}")
        elif family == "mysql":
            connection.exec_driver_sql(
                f"SET SESSION max_execution_time = {remaining_ms}"
            )
            connection.exec_driver_sql("START TRANSACTION READ ONLY")
        elif family == "sqlite":
            raw = connection.connection.dbapi_connection
            assert raw is not None
            raw.set_progress_handler(_past(deadline), 1000)
        yield connection
    finally:
        try:
            if family == "mysql":
                connection.exec_driver_sql("ROLLBACK")
            else:
                connection.rollback()
        finally:
            connection.close()


def _past(deadline: float) -> Callable[[], int]:
    def handler() -> int:
        return 1 if time.monotonic() > deadline else 0  # non-zero interrupts

    return handler


def sample(connection: Connection, table: str, column: str, *, limit: int) -> list[str]:
    """Up to `limit` non-null values of one column, as text."""
    column_sql: sa.ColumnClause[Any] = sa.column(column)
    query = (
        sa.select(column_sql)
        .select_from(sa.table(table))
        .where(column_sql.is_not(None))
        .limit(int(limit))
    )
    return [str(row[0]) for row in connection.execute(query)]


def row_estimate(connection: Connection, table: str, *, cap: int) -> int:
    """The table's rows, counted up to `cap` (a bounded count, not a scan)."""
    inner = sa.select(sa.literal(1)).select_from(sa.table(table)).limit(cap).subquery()
    return int(
        connection.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one()
    )
