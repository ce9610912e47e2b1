"""Rectification in one table of an sql store: the map's `rectify` columns
that the table has, set to the corrected values for the subject's rows
(only where they differ, so running it twice changes nothing the second
time)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.kinds.sql.config import IDENTIFIER, TableMap, rectify_map
from connectors.kinds.sql.dialects import Dialect
from connectors.kinds.sql.erasure import StorePass


def rectify_table(
    *,
    dialect: Dialect,
    connection: Any,
    store_pass: StorePass,
    table: TableMap,
    changes: Mapping[str, str],
) -> tuple[int, int, set[str]] | None:
    """(rows found, rows changed, fields written) in `table`, or None when
    the table holds none of the corrected fields."""
    q, p = dialect.quote, dialect.param
    present = set(dialect.columns(connection, table.table))
    mapping = {
        field: column
        for field, column in rectify_map(table, present).items()
        if field in changes and column in present and IDENTIFIER.fullmatch(column)
    }
    if not mapping:
        return None
    values = [changes[field] for field in mapping]
    found = store_pass.count(table)
    where, params = store_pass.query.where(table)
    sets = ", ".join(f"{q(c)} = {p}" for c in mapping.values())
    pending = " OR ".join(
        f"({q(c)} IS NULL OR {q(c)} <> {p})" for c in mapping.values()
    )
    changed = dialect.execute(
        connection,
        f"UPDATE {q(table.table)} SET {sets} WHERE ({where}) AND ({pending})",
        values + params + values,
    )
    return found, changed, set(mapping)
