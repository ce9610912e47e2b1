"""One action's pass over a store: counting and streaming the subject's rows,
gathering what identifies them, erasing table by table, and verifying.

A `StorePass` holds the action's connection and the subject's query; the
connector opens both (one transaction for a write) and hands tables over in
the right order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.base import ErasureReceipt, Exemption, Identity, Outcome
from connectors.kinds.sql.config import FieldRule, StoreMap, TableMap
from connectors.kinds.sql.dialects import Dialect
from connectors.kinds.sql.query import SubjectQuery
from connectors.kinds.sql.values import (
    HASH_SHAPE,
    PSEUDONYM_SHAPE,
    apply_rule,
    still_holds,
)
from connectors.learned_identifiers import field_kind, known_with, learned_value
from connectors.redaction import KnownIdentifiers

KNOWN_VALUES_LIMIT = 1000  # distinct stored identifiers read per table
KNOWN_KINDS = ("emails", "phones", "customer_ids", "names")
_KIND_OF_IDENTITY = {
    "email": "emails",
    "phone": "phones",
    "customer_id": "customer_ids",
}


class StorePass:
    """The subject's rows in one store, over one connection."""

    def __init__(
        self, dialect: Dialect, store: StoreMap, connection: Any, query: SubjectQuery
    ) -> None:
        self.dialect = dialect
        self.store = store
        self.connection = connection
        self.query = query

    def count(self, table: TableMap) -> int:
        where, params = self.query.where(table)
        sql = f"SELECT COUNT(*) FROM {self.dialect.quote(table.table)} WHERE {where}"
        return int(self.dialect.scalar(self.connection, sql, params) or 0)

    def rows(
        self,
        table: TableMap,
        columns: list[str],
        *,
        alone: bool = False,
    ) -> Iterator[tuple[list[str], list[tuple[Any, ...]]]]:
        """The subject's rows of `table` in key order, batch by batch; the key
        comes first, then `columns` (or every column when `columns` is empty).
        `alone`: no other statement runs until the last batch is read."""
        q = self.dialect.quote
        where, params = self.query.where(table)
        selected = (
            ", ".join(q(c) for c in columns) if columns else f"{q(table.table)}.*"
        )
        sql = f"SELECT {q(table.key)}, {selected} FROM {q(table.table)} WHERE ({where})"
        yield from self.dialect.stream(
            self.connection,
            sql,
            params,
            key_index=0,
            key_column=table.key,
            batch=self.store.batch_size,
            alone=alone,
        )

    def known(self, identity: Identity) -> KnownIdentifiers:
        """The subject's identifiers plus what the store holds for them, for
        redaction: her identity columns (a phone as the store wrote it), the
        name column, and every identity-like column the map erases or keeps
        (`phone` nulled on a map that finds her by e-mail, `first_name`...)."""
        if not any(
            rule.strategy == "redact_pii"
            for table in self.store.tables
            for rule in table.rules
        ):
            return KnownIdentifiers()  # nothing will be redacted or searched
        found: dict[str, set[str]] = {kind: set() for kind in KNOWN_KINDS}
        q = self.dialect.quote
        for table in self.store.tables:
            wanted = identity_like_columns(table)
            if not wanted:
                continue
            where, params = self.query.where(table)
            sql = (
                f"SELECT DISTINCT {', '.join(q(c) for _, c in wanted)} "
                f"FROM {q(table.table)} WHERE {where} LIMIT {KNOWN_VALUES_LIMIT}"
            )
            with self.dialect.converting(f"reading identifiers in table {table.table}"):
                rows = self.dialect.fetch(self.connection, sql, params)
            for row in rows:
                for (kind, _), value in zip(wanted, row, strict=True):
                    value = learned_value(kind, value)
                    if value is None:
                        continue
                    if HASH_SHAPE.fullmatch(value) or PSEUDONYM_SHAPE.fullmatch(value):
                        continue
                    found[kind].add(value)
        return known_with(identity, found)

    def erase_table(
        self,
        table: TableMap,
        known: KnownIdentifiers,
        outcome: Outcome,
    ) -> None:
        q = self.dialect.quote
        name = table.table
        if table.row_strategy == "delete":
            where, params = self.query.where(table)
            deleted = self.dialect.execute(
                self.connection, f"DELETE FROM {q(name)} WHERE {where}", params
            )
            outcome.add(name, found=deleted, changed=deleted)
            return
        if table.row_strategy == "keep":
            count = self.count(table)
            outcome.add(name, found=count)
            outcome.exemptions += exemptions(table, count)
            return
        active = [r for r in table.rules if r.strategy != "keep"]
        if all(r.strategy in ("null", "mask") for r in active):
            found = self.count(table)
            changed = self._blank_columns(table, active)
        else:
            found, changed = self._rewrite_rows(table, active, known)
        outcome.add(name, found=found, changed=changed)
        outcome.exemptions += exemptions(table, found)

    def _blank_columns(
        self,
        table: TableMap,
        rules: list[FieldRule],
    ) -> int:
        """null and mask need no Python: one UPDATE, only of rows not yet done."""
        if not rules:
            return 0
        q, p = self.dialect.quote, self.dialect.param
        sets: list[str] = []
        pending: list[str] = []
        set_params: list[Any] = []
        pending_params: list[Any] = []
        for rule in rules:
            column = q(rule.column)
            if rule.strategy == "null":
                sets.append(f"{column} = NULL")
                pending.append(f"{column} IS NOT NULL")
            else:
                sets.append(f"{column} = {p}")
                set_params.append(rule.mask)
                pending.append(f"({column} IS NOT NULL AND {column} <> {p})")
                pending_params.append(rule.mask)
        where, params = self.query.where(table)
        sql = (
            f"UPDATE {q(table.table)} SET {', '.join(sets)} "
            f"WHERE ({where}) AND ({' OR '.join(pending)})"
        )
        return self.dialect.execute(
            self.connection, sql, set_params + params + pending_params
        )

    def _rewrite_rows(
        self,
        table: TableMap,
        rules: list[FieldRule],
        known: KnownIdentifiers,
    ) -> tuple[int, int]:
        """hash, pseudonymize and redact_pii run in Python, batch by batch."""
        q, p = self.dialect.quote, self.dialect.param
        kinds = [table.identity_kind(rule.column) for rule in rules]
        update = (
            f"UPDATE {q(table.table)} SET "
            + ", ".join(f"{q(rule.column)} = {p}" for rule in rules)
            + f" WHERE {q(table.key)} = {p}"
        )
        found = changed = 0
        columns = [rule.column for rule in rules]
        for _, rows in self.rows(table, columns):
            updates: list[list[Any]] = []
            for row in rows:
                found += 1
                old = list(row[1:])
                new = [
                    apply_rule(rule, value, kind, known)
                    for rule, value, kind in zip(rules, old, kinds, strict=True)
                ]
                if new != old:
                    updates.append([*new, row[0]])
            self.dialect.execute_many(self.connection, update, updates)
            changed += len(updates)
        return found, changed

    def verify_table(
        self,
        table: TableMap,
        known: KnownIdentifiers,
        outcome: Outcome,
    ) -> None:
        name = table.table
        if table.row_strategy == "delete":
            outcome.add(name, found=self.count(table))
            return
        if table.row_strategy == "keep":
            outcome.add(name)
            outcome.exemptions += exemptions(table, self.count(table))
            return
        active = [r for r in table.rules if r.strategy != "keep"]
        seen = remaining = 0
        if active:
            columns = [rule.column for rule in active]
            for _, rows in self.rows(table, columns):
                for row in rows:
                    seen += 1
                    if any(
                        still_holds(rule, value, known)
                        for rule, value in zip(active, row[1:], strict=True)
                    ):
                        remaining += 1
        elif table.rules:
            seen = self.count(table)
        outcome.add(name, found=remaining)
        outcome.exemptions += exemptions(table, seen)


def exemptions(table: TableMap, count: int) -> list[Exemption]:
    """What erasure keeps in this table on purpose, with its basis."""
    if not count:
        return []
    default_reason = "kept as configured"
    if table.row_strategy == "keep":
        return [
            Exemption(
                table.table, ("*",), table.basis, table.reason or default_reason, count
            )
        ]
    groups: dict[tuple[str, str], list[str]] = {}
    for rule in table.rules:
        if rule.strategy == "keep":
            basis = rule.basis or table.basis
            reason = rule.reason or table.reason or default_reason
            groups.setdefault((basis, reason), []).append(rule.column)
    return [
        Exemption(table.table, tuple(columns), basis, reason, count)
        for (basis, reason), columns in groups.items()
    ]


def identity_like_columns(table: TableMap) -> list[tuple[str, str]]:
    """(kind, column) of what identifies the subject in `table`: its identity
    columns, its name column, and the columns of its erase map whose names
    say they hold an identifier (the parent link and the key excepted)."""
    wanted = [(_KIND_OF_IDENTITY[c.kind], c.column) for c in table.identity]
    if table.name_column:
        wanted.append(("names", table.name_column))
    skip = {table.key, table.parent.column if table.parent else ""}
    skip.update(column for _, column in wanted)
    for rule in table.rules:
        kind = field_kind(rule.column)
        if kind and rule.column not in skip:
            wanted.append((kind, rule.column))
            skip.add(rule.column)
    return wanted


def known_as_receipt(known: KnownIdentifiers) -> dict[str, tuple[str, ...]]:
    """What an erasure knew, as its receipt carries it."""
    return {kind: getattr(known, kind) for kind in KNOWN_KINDS if getattr(known, kind)}


def known_from_receipt(receipt: ErasureReceipt) -> KnownIdentifiers:
    """What the erasure behind `receipt` knew of its subject."""
    return KnownIdentifiers(**{kind: receipt.knows(kind) for kind in KNOWN_KINDS})
