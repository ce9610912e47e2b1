"""Consent withdrawals in an SQL store: what a purpose link's action does.

The action names a table of the connector's map; the subject's rows are
found exactly as erasure finds them (identity columns, or parent tables),
names are quoted by the dialect and every value is a bound parameter.
Running it twice has the effect of running it once, and reports 0 changed.

    {"set": {"table": "customers", "column": "ai_training_opt_out", "value": true}}
    {"delete": {"table": "training_examples"}}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import Identity
from connectors.kinds.sql.config import StoreMap, TableMap
from connectors.kinds.sql.dialects import Dialect
from connectors.kinds.sql.query import SubjectQuery
from privacydesk.errors import ValidationFailed

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
ScalarValue = bool | int | float | str | None


@dataclass(frozen=True)
class StoreAction:
    """A link's action, checked: set a column, or delete the rows."""

    operation: str  # "set" or "delete"
    table: str
    column: str | None = None
    value: ScalarValue = None


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValidationFailed(
            "a plain SQL name (letters, digits, underscore)", field=field
        )
    return value


def action_clean(
    action: Any, *, store: StoreMap | None = None, field: str = "action"
) -> StoreAction:
    """Validate a link's action; errors name the path, e.g. `action.set.table`.

    With the connector's parsed `store`, the table must be one of its map."""
    if not isinstance(action, Mapping):
        raise ValidationFailed("must be an object", field=field)
    unknown = sorted(set(action) - {"set", "delete"})
    if unknown:
        raise ValidationFailed("unknown key", field=f"{field}.{unknown[0]}")
    if len(action) != 1:
        raise ValidationFailed('give exactly one of "set" or "delete"', field=field)
    operation = next(iter(action))
    spec, path = action[operation], f"{field}.{operation}"
    if not isinstance(spec, Mapping):
        raise ValidationFailed("must be an object", field=path)
    allowed = {"table", "column", "value"} if operation == "set" else {"table"}
    extra = sorted(set(spec) - allowed)
    if extra:
        raise ValidationFailed("unknown key", field=f"{path}.{extra[0]}")
    table = _name(spec.get("table"), f"{path}.table")
    if store is not None and table not in {t.table for t in store.tables}:
        raise ValidationFailed(
            f"table {table} is not in the connector's map", field=f"{path}.table"
        )
    if operation == "delete":
        return StoreAction("delete", table)
    column = _name(spec.get("column"), f"{path}.column")
    if "value" not in spec:
        raise ValidationFailed("the value to set is required", field=f"{path}.value")
    value = spec["value"]
    if value is not None and not isinstance(value, bool | int | float | str):
        raise ValidationFailed("must be a plain value", field=f"{path}.value")
    return StoreAction("set", table, column, value)


def withdrawal_statement(
    dialect: Dialect,
    store: StoreMap,
    table: TableMap,
    action: StoreAction,
    identity: Identity,
) -> tuple[str, list[Any]] | None:
    """The one statement that applies `action` to the subject's rows of
    `table`; None when none of the subject's identifiers reaches it."""
    where, params = SubjectQuery(dialect, store, identity).where(table)
    if where == "1 = 0":
        return None
    q, p = dialect.quote, dialect.param
    if action.operation == "delete":
        return f"DELETE FROM {q(table.table)} WHERE {where}", params
    assert action.column is not None
    column = q(action.column)
    # Only rows not set yet count as changed, so a rerun reports 0.
    return (
        f"UPDATE {q(table.table)} SET {column} = {p} "
        f"WHERE ({where}) AND ({column} IS NULL OR {column} <> {p})",
        [action.value, *params, action.value],
    )
