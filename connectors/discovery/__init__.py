"""Data discovery for SQL stores: read the schema, sample each text column
read-only, classify the columns with the one PII detector, and propose the
sql kind's map (`connectors.discovery.services` runs it for the dashboard
and the daily re-scan).

`reading` talks to the store (SQLAlchemy inspection, read-only sampling
with time limits), `classify` turns a column's name, type and samples into
a category, `proposal` turns the findings into an editable proposal and the
proposal into the sql kind's config, `rescan` compares a store with its map.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from connectors.base import ConnectorError
from connectors.discovery.classify import ColumnFinding, classify_column
from connectors.discovery.proposal import build_proposal
from connectors.discovery.reading import (
    ScanTimeout,
    TableSchema,
    engine_for,
    read_only,
    read_schema,
    row_estimate,
    sample,
)

logger = logging.getLogger(__name__)
# Rows are counted up to this (a count, not a scan of a huge table).
ROW_ESTIMATE_CAP = 1_000_000

Progress = Callable[[int, int], None]


@dataclass
class Scan:
    """What a scan found: tables, findings per table, the proposal (no values)."""

    schemas: list[TableSchema]
    findings: dict[str, list[ColumnFinding]]
    rows: dict[str, int]
    proposal: dict[str, Any]


def store_scan(
    dsn: str,
    *,
    password: str = "",
    sample_rows: int = 200,
    time_limit: float = 120.0,
    connect_timeout: int = 10,
    progress: Progress | None = None,
) -> Scan:
    """Scan one store read-only within `time_limit` seconds; raises
    ConnectorError (naming what was being done, never a value)."""
    deadline = time.monotonic() + time_limit
    doing = "connecting"
    try:
        engine = engine_for(dsn, password=password, timeout=connect_timeout)
        try:
            with read_only(engine, deadline=deadline) as connection:
                doing = "reading the schema"
                schemas = read_schema(connection)
                findings: dict[str, list[ColumnFinding]] = {}
                rows: dict[str, int] = {}
                if progress:
                    progress(0, len(schemas))
                for done, schema in enumerate(schemas, start=1):
                    doing = f"sampling table {schema.name}"
                    rows[schema.name] = row_estimate(
                        connection, schema.name, cap=ROW_ESTIMATE_CAP
                    )
                    findings[schema.name] = [
                        classify_column(
                            column.name,
                            column.type_name,
                            textual=column.textual,
                            samples=sample(
                                connection, schema.name, column.name, limit=sample_rows
                            )
                            if column.textual
                            else [],
                        )
                        for column in schema.columns
                    ]
                    if time.monotonic() > deadline:
                        raise ScanTimeout(
                            f"scan stopped after {time_limit:.0f} s at table "
                            f"{schema.name}",
                            permanent=True,
                        )
                    if progress:
                        progress(done, len(schemas))
        finally:
            engine.dispose()
    except ConnectorError:
        raise
    except sa.exc.DBAPIError as error:
        raise _converted(error, doing, deadline, time_limit) from None
    except sa.exc.SQLAlchemyError as error:
        raise ConnectorError(
            f"{doing}: {type(error).__name__}", permanent=True
        ) from None
    return Scan(schemas, findings, rows, build_proposal(schemas, findings, rows))


def _converted(
    error: sa.exc.DBAPIError, doing: str, deadline: float, time_limit: float
) -> ConnectorError:
    """A driver error in words that hold no value and no password."""
    original = type(error.orig).__name__ if error.orig is not None else "error"
    if time.monotonic() > deadline or "cancel" in str(error.orig).lower():
        return ScanTimeout(
            f"{doing}: stopped at the scan's time limit ({time_limit:.0f} s)",
            permanent=True,
        )
    if doing == "connecting" or error.connection_invalidated:
        return ConnectorError(
            f"{doing}: {original} (unreachable or refused)", permanent=False
        )
    return ConnectorError(f"{doing}: {original}", permanent=True)
