"""The WHERE clause that finds one subject's rows in each table."""

from __future__ import annotations

from typing import Any

from connectors.base import Identity
from connectors.kinds.sql.config import FieldRule, IdentityColumn, StoreMap, TableMap
from connectors.kinds.sql.dialects import Dialect
from connectors.kinds.sql.values import hashed, pseudonym
from privacydesk.crypto import normalise_identifier

PIN_LIMIT = 500  # identity-table keys worth carrying as literals


class SubjectQuery:
    """Builds, per table, the WHERE clause that finds one subject's rows:
    identity columns compared in SQL, children through parent subqueries, so
    no child key list is ever loaded into Python.

    Identity columns are compared case- and format-insensitively, which no
    ordinary index serves; `pin` runs that scan once per identity table and
    carries the few keys it finds (a customer is usually one row) into every
    later query, which then walks the key and foreign-key indexes."""

    def __init__(self, dialect: Dialect, store: StoreMap, identity: Identity) -> None:
        self.dialect = dialect
        self.store = store
        self.identity = identity
        self._cache: dict[str, tuple[str, list[Any]]] = {}
        self._pinned: set[str] = set()

    def pin(self, connection: Any) -> None:
        """Resolve each identity table's match to its keys, parents first."""
        q = self.dialect.quote
        tables = sorted(
            (t for t in self.store.tables if t.identity), key=self.store.depth
        )
        for table in tables:
            where, params = self.where(table)
            if where == "1 = 0":
                continue
            rows = self.dialect.fetch(
                connection,
                f"SELECT {q(table.key)} FROM {q(table.table)} WHERE {where} "
                f"LIMIT {PIN_LIMIT + 1}",
                params,
            )
            if len(rows) > PIN_LIMIT:
                continue
            keys = [row[0] for row in rows]
            self._cache = {
                name: clause
                for name, clause in self._cache.items()
                if name in self._pinned
            }
            self._pinned.add(table.table)
            self._cache[table.table] = (
                (self._in(q(table.key), keys), keys) if keys else ("1 = 0", [])
            )

    def where(self, table: TableMap) -> tuple[str, list[Any]]:
        if table.table not in self._cache:
            self._cache[table.table] = self._build(table)
        sql, params = self._cache[table.table]
        return sql, list(params)

    def _in(self, expression: str, values: list[Any]) -> str:
        return f"{expression} IN ({self.dialect.params(len(values))})"

    def _build(self, table: TableMap) -> tuple[str, list[Any]]:
        q = self.dialect.quote
        parts: list[str] = []
        params: list[Any] = []
        for column in table.identity:
            values = [v for v in self.identity.values(column.kind, column.system) if v]
            if not values:
                continue
            keyed = sorted(_keyed_forms(table.rule(column.column), column.kind, values))
            if column.exact:
                # As written, in the forms a store keeping one form would use.
                plain = sorted(set(_exact_forms(column.kind, values)) | set(keyed))
            elif column.kind == "email":
                plain = sorted({v.strip().lower() for v in values} | set(keyed))
                parts.append(self._in(match_expression(self.dialect, column), plain))
                params += plain
                continue
            elif column.kind == "phone":
                digits = sorted({normalise_identifier("phone", v) for v in values})
                parts.append(self._in(match_expression(self.dialect, column), digits))
                params += digits
                plain = keyed
            else:
                plain = sorted({v.strip() for v in values} | set(keyed))
            if plain:
                parts.append(self._in(q(column.column), plain))
                params += plain
        if table.parent is not None:
            parent = self.store.table(table.parent.table)
            parent_sql, parent_params = self.where(parent)
            parts.append(
                f"{q(table.parent.column)} IN (SELECT {q(table.parent.references)} "
                f"FROM {q(parent.table)} WHERE {parent_sql})"
            )
            params += parent_params
        if not parts:
            return "1 = 0", []
        return " OR ".join(f"({part})" for part in parts), params


def match_expression(dialect: Dialect, column: IdentityColumn) -> str:
    """The SQL an identity column is compared through: `lower(email)`, a
    phone's digits, or the column itself (customer ids, `exact` columns).
    Only an index on this very expression serves the match."""
    quoted = dialect.quote(column.column)
    if column.exact or column.kind not in ("email", "phone"):
        return quoted
    if column.kind == "email":
        return f"lower({quoted})"
    return dialect.phone_digits(quoted)


def _exact_forms(kind: str, values: list[str]) -> set[str]:
    stripped = {v.strip() for v in values}
    if kind == "email":
        return stripped | {v.lower() for v in stripped}
    if kind == "phone":
        return stripped | {normalise_identifier("phone", v) for v in values}
    return stripped


def _keyed_forms(rule: FieldRule | None, kind: str, values: list[str]) -> set[str]:
    if rule is None or rule.strategy not in ("hash", "pseudonymize"):
        return set()
    form = hashed if rule.strategy == "hash" else pseudonym
    return {form(normalise_identifier(kind, value)) for value in values}
