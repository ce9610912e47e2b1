"""Matching a requester's data points against the subject's rows of an sql
store (CCPA-REG §7062): which columns hold which kind, and the comparison,
in memory, of the normalised values (connectors.data_points)."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.data_points import NAME, PHONE, data_point_normalise
from connectors.kinds.sql.config import TableMap
from connectors.kinds.sql.erasure import StorePass

VALUES_LIMIT = 1000  # distinct stored combinations read per table


def data_point_columns(table: TableMap) -> list[tuple[str, str]]:
    """(kind, column) pairs of a table: those the map declares, the phone
    identity columns and the name column."""
    pairs = list(table.data_points)
    pairs += [(PHONE, i.column) for i in table.identity if i.kind == "phone"]
    if table.name_column:
        pairs.append((NAME, table.name_column))
    return list(dict.fromkeys(pairs))


def data_points_match(
    store_pass: StorePass, tables: tuple[TableMap, ...], wanted: Mapping[str, str]
) -> dict[str, bool]:
    """Per kind in `wanted` (kind -> normalised value) that some table keeps:
    whether one of the subject's rows holds it."""
    dialect = store_pass.dialect
    q = dialect.quote
    answer: dict[str, bool] = {}
    for table in tables:
        columns = [(k, c) for k, c in data_point_columns(table) if k in wanted]
        if not columns:
            continue
        where, params = store_pass.query.where(table)
        selected = ", ".join(q(column) for _, column in columns)
        sql = (
            f"SELECT DISTINCT {selected} FROM {q(table.table)} WHERE {where} "
            f"LIMIT {VALUES_LIMIT}"
        )
        with dialect.converting(f"matching data points in table {table.table}"):
            rows = dialect.fetch(store_pass.connection, sql, params)
        for kind, _ in columns:
            answer.setdefault(kind, False)
        for row in rows:
            for (kind, _), value in zip(columns, row, strict=True):
                if data_point_normalise(kind, value) == wanted[kind]:
                    answer[kind] = True
    return answer
