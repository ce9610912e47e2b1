"""The SQL of one retention purge of an SQL store, written once per run.

`PurgePlan` turns a `PurgeSpec` and the `HeldScope` into the conditions
every statement of the run shares: rows past the cutoff, not held (a `NOT
(...)` over the held subjects' identifiers passed as parameters, and over
held tables), and, to anonymize, still holding a value to remove; and the
descendants each action reaches. It reads and writes nothing (see `purge`).

A row is held when it belongs to a held subject (its own identity columns or
through its parents) or, when rows are deleted, when one of its descendants
is held.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from connectors.base import ConnectorError, HeldScope, PurgeSpec
from connectors.kinds.sql.config import IDENTIFIER, StoreMap, TableMap
from connectors.kinds.sql.dialects import Dialect
from connectors.kinds.sql.query import SubjectQuery

ACTIONS = ("delete", "anonymize", "redact_pii")
CHILD_STRATEGIES = {
    "delete": (),
    "anonymize": ("null", "mask"),
    "redact_pii": ("redact_pii",),
}


@dataclass(frozen=True)
class Column:
    """A column a purge rewrites, and how."""

    name: str
    strategy: str  # null | mask | redact_pii
    mask: str = ""


class PurgePlan:
    """The statements' conditions for one purge of one table of one store."""

    def __init__(
        self,
        *,
        store: StoreMap,
        dialect: Dialect,
        spec: PurgeSpec,
        held: HeldScope,
        store_name: str,
    ) -> None:
        self.store = store
        self.dialect = dialect
        self.spec = spec
        self.held = held
        spec_check(store, spec, store_name=store_name)
        self.table = store.table(spec.table)
        self.columns = self.columns_for(self.table, spec.fields)
        identity = held.identity if not held.identity.is_empty() else None
        # Two queries: their WHERE clauses are cached by table name, and the
        # "own rows only" form of a table differs from the full one.
        self._subjects = SubjectQuery(dialect, store, identity) if identity else None
        self._own = SubjectQuery(dialect, store, identity) if identity else None
        self._held_cache: dict[tuple[str, bool], str] = {}
        self._held_params: dict[tuple[str, bool], list[Any]] = {}

    def q(self, name: str) -> str:
        return self.dialect.quote(name)

    def columns_for(self, table: TableMap, names: Sequence[str]) -> list[Column]:
        columns = []
        for name in names:
            if self.spec.action == "redact_pii":
                columns.append(Column(name, "redact_pii"))
                continue
            rule = table.rule(name)
            if rule is not None and rule.strategy == "mask":
                columns.append(Column(name, "mask", rule.mask))
            else:
                columns.append(Column(name, "null"))
        return columns

    def child_columns(self, table: TableMap) -> list[Column]:
        wanted = CHILD_STRATEGIES[self.spec.action]
        return [
            Column(rule.column, rule.strategy, rule.mask)
            for rule in table.rules
            if rule.strategy in wanted
        ]

    def children(self, table: TableMap) -> list[TableMap]:
        return [
            child
            for child in self.store.tables
            if child.parent is not None and child.parent.table == table.table
        ]

    def age_sql(self) -> tuple[str, list[Any]]:
        """`age_column < cutoff`, comparable on every database."""
        column = f"{self.q(self.table.table)}.{self.q(self.spec.age_column)}"
        return self.dialect.older_than(column, self.spec.cutoff)

    def keys_sql(self, keys: list[Any]) -> tuple[str, list[Any]]:
        column = f"{self.q(self.table.table)}.{self.q(self.table.key)}"
        return self.dialect.key_in(column, keys)

    def pending_sql(self, table: TableMap, columns: list[Column]) -> str:
        """Anonymize: only rows that still hold a value to remove."""
        q = self.q
        parts = []
        for column in columns:
            name = f"{q(table.table)}.{q(column.name)}"
            if column.strategy == "mask":
                mask = self.dialect.literal(column.mask)
                parts.append(f"({name} IS NOT NULL AND {name} <> {mask})")
            else:
                parts.append(f"{name} IS NOT NULL")
        return "(" + " OR ".join(parts) + ")" if parts else "1 = 1"

    def set_sql(self, columns: list[Column]) -> str:
        sets = []
        for column in columns:
            if column.strategy == "mask":
                sets.append(
                    f"{self.q(column.name)} = {self.dialect.literal(column.mask)}"
                )
            else:
                sets.append(f"{self.q(column.name)} = NULL")
        return ", ".join(sets)

    def held_sql(self, table: TableMap, *, deleting: bool) -> tuple[str, list[Any]]:
        """SQL true for a row of `table` under a hold ("" when none can be).

        A row is held when its table is held, when it belongs to a held
        subject (own identity columns, or a held parent up the chain) and,
        when rows are deleted, when it has a held descendant: deleting the
        parent would take the held child with it."""
        key = (table.table, deleting)
        if key not in self._held_cache:
            sql, params = self._build_held(table, deleting=deleting, own_only=False)
            self._held_cache[key] = sql
            self._held_params[key] = params
        return self._held_cache[key], list(self._held_params[key])

    def _build_held(
        self, table: TableMap, *, deleting: bool, own_only: bool
    ) -> tuple[str, list[Any]]:
        if self.held.holds_table(table.table):
            return "1 = 1", []
        parts: list[str] = []
        params: list[Any] = []
        query = self._own if own_only else self._subjects
        if query is not None:
            target = replace(table, parent=None) if own_only else table
            where, where_params = query.where(target)
            if where != "1 = 0":
                parts.append(f"COALESCE(({where}), FALSE)")
                params += where_params
        if deleting:
            q = self.q
            for child in self.children(table):
                assert child.parent is not None
                inner, inner_params = self._build_held(
                    child, deleting=True, own_only=True
                )
                if not inner:
                    continue
                parts.append(
                    f"EXISTS (SELECT 1 FROM {q(child.table)} WHERE "
                    f"{q(child.table)}.{q(child.parent.column)} = "
                    f"{q(table.table)}.{q(child.parent.references)} AND ({inner}))"
                )
                params += inner_params
        if not parts:
            return "", []
        return " OR ".join(parts), params

    def not_held(self, table: TableMap, *, deleting: bool) -> tuple[str, list[Any]]:
        held, params = self.held_sql(table, deleting=deleting)
        return (f"NOT ({held})", params) if held else ("1 = 1", [])

    def candidates(self) -> tuple[str, list[Any]]:
        """Rows of the policy's table this purge may change: past the
        cutoff, not held (and, to anonymize, still holding a value)."""
        deleting = self.spec.action == "delete"
        age, params = self.age_sql()
        not_held, held_params = self.not_held(self.table, deleting=deleting)
        parts = [age, not_held]
        params += held_params
        if self.spec.action == "anonymize":
            parts.append(self.pending_sql(self.table, self.columns))
        return " AND ".join(parts), params

    def range_sql(self, after_key: Any, upper_key: Any) -> tuple[str, list[Any]]:
        column = f"{self.q(self.table.table)}.{self.q(self.table.key)}"
        p = self.dialect.param
        if after_key is None:
            return f"{column} <= {p}", [upper_key]
        return f"{column} > {p} AND {column} <= {p}", [after_key, upper_key]

    def descendants(
        self,
        table: TableMap,
        rows_sql: str,
        rows_params: list[Any],
    ) -> Iterator[tuple[TableMap, str, list[Any]]]:
        """(descendant, SQL selecting its rows under `rows_sql`, params),
        children before grandchildren. Anonymize and redact reach children
        only when the policy says so; deleting always does."""
        if self.spec.action != "delete" and not self.spec.children:
            return
        q = self.q
        for child in self.children(table):
            assert child.parent is not None
            child_rows = (
                f"{q(child.table)}.{q(child.parent.column)} IN (SELECT "
                f"{q(table.table)}.{q(child.parent.references)} FROM "
                f"{q(table.table)} WHERE {rows_sql})"
            )
            yield child, child_rows, list(rows_params)
            # Grandchildren follow the child rows this purge changes.
            deeper_sql, deeper_params = child_rows, list(rows_params)
            if self.spec.action != "delete":
                not_held, held_params = self.not_held(child, deleting=False)
                deeper_sql = f"{child_rows} AND {not_held}"
                deeper_params += held_params
            yield from self.descendants(child, deeper_sql, deeper_params)

    def descendant_changing(self, table: TableMap, rows_sql: str) -> str | None:
        """The rows of a descendant this purge changes (None: it changes none).

        The caller adds the held parameters for anonymize/redact."""
        if self.spec.action == "delete":
            return rows_sql
        columns = self.child_columns(table)
        if not columns or self.held.holds_table(table.table):
            return None
        held, _ = self.held_sql(table, deleting=False)
        parts = [rows_sql]
        if held:
            parts.append(f"NOT ({held})")
        if self.spec.action == "anonymize":
            parts.append(self.pending_sql(table, columns))
        return " AND ".join(parts)

    def descendant_params(self, table: TableMap, rows_params: list[Any]) -> list[Any]:
        if self.spec.action == "delete":
            return rows_params
        _, held_params = self.held_sql(table, deleting=False)
        return rows_params + held_params

    def batch_rows(self, keys: list[Any]) -> tuple[str, list[Any]]:
        """The batch's rows of the policy's table, every condition re-checked."""
        keys_sql, keys_params = self.keys_sql(keys)
        where, params = self.candidates()
        return f"{keys_sql} AND {where}", keys_params + params

    def update_by_key(
        self, table: TableMap, columns: list[Column]
    ) -> tuple[str, list[Any]]:
        """UPDATE one row by key, re-checking the conditions that selected it;
        returns the SQL and the parameters that follow the key."""
        q, p = self.q, self.dialect.param
        sets = ", ".join(f"{q(c.name)} = {p}" for c in columns)
        if table.table == self.table.table:
            where, params = self.candidates()
        else:
            where, params = self.not_held(table, deleting=False)
        sql = (
            f"UPDATE {q(table.table)} SET {sets} WHERE "
            f"{q(table.table)}.{q(table.key)} = {p} AND {where}"
        )
        return sql, params


def spec_check(store: StoreMap, spec: PurgeSpec, *, store_name: str) -> None:
    """Refuse (permanently) a spec this store cannot run."""
    if spec.action not in ACTIONS:
        raise ConnectorError(
            f"unknown purge action {spec.action!r}; one of {', '.join(ACTIONS)}",
            permanent=True,
        )
    names = [spec.table, spec.age_column, *spec.fields]
    if any(not IDENTIFIER.fullmatch(name or "") for name in names):
        raise ConnectorError(
            "table and column names must be plain SQL names", permanent=True
        )
    if spec.table not in {t.table for t in store.tables}:
        raise ConnectorError(
            f"table {spec.table} is not in the map of {store_name}", permanent=True
        )
    if spec.action != "delete" and not spec.fields:
        raise ConnectorError(
            f"{spec.action} needs the columns to change", permanent=True
        )
    if not 1 <= spec.batch_size <= 100_000:
        raise ConnectorError("batch size must be 1-100000", permanent=True)
