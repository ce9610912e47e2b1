"""What a re-scan flags: personal-looking columns the map does not cover.

A column is covered when the map names it (key, identity, parent, a rule,
the name or flag columns) or its table's rows are deleted whole. A column
the officer saw at discovery and left
out on purpose is not new, so it is not flagged; a column or table that
appeared since, and looks personal, is.
"""

from __future__ import annotations

from typing import Any

from connectors.discovery.classify import PERSONAL, ColumnFinding
from connectors.kinds.sql.config import StoreMap


def known_columns(proposal: dict[str, Any]) -> set[tuple[str, str]]:
    """(table, column) pairs a discovery's proposal showed the officer."""
    return {
        (table["table"], column["name"])
        for table in proposal.get("tables", [])
        for column in table.get("columns", [])
    }


def flagged_columns(
    store: StoreMap,
    findings: dict[str, list[ColumnFinding]],
    *,
    seen: set[tuple[str, str]],
) -> list[dict[str, str]]:
    """Personal-looking columns outside the map and not in `seen`."""
    mapped = {table.table: table.columns() for table in store.tables}
    # A deleted row takes every column with it, new ones too.
    deleted = {table.table for table in store.tables if table.row_strategy == "delete"}
    flagged: list[dict[str, str]] = []
    for table, columns in sorted(findings.items()):
        for finding in columns:
            if finding.category not in PERSONAL or table in deleted:
                continue
            if (
                finding.name in mapped.get(table, set())
                or (table, finding.name) in seen
            ):
                continue
            flagged.append(
                {
                    "table": table,
                    "column": finding.name,
                    "category": finding.category,
                    "reason": finding.reason,
                    "where": "a table not in the map"
                    if table not in mapped
                    else "not in the map",
                }
            )
    return flagged
