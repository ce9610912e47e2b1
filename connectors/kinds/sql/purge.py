"""Retention purges of an SQL store: rows past their age, batch by batch.

A purge names one table of the connector's map, the column that ages a row,
a cutoff and an action:

- `delete`: the rows go, and with them their children (messages of an
  expired ticket), deepest first, in the same short transaction;
- `anonymize`: the named columns become NULL (or the map's mask value for a
  column the map masks); children get their own null/mask columns too;
- `redact_pii`: the named text columns are rewritten by `redact_pii`;
  children get their own redact_pii columns too.

How it runs, and why:

- Keyset batches by the table's key, bounded by the highest key present
  when the run began, so rows written during a run are never chased and a
  run can resume from the last key it finished (`after_key`).
- Each batch first reads its keys (and texts) outside any write
  transaction, then writes in one short transaction that re-checks every
  condition, so locks are held only for the write of one batch
  (`purge_session`).
- Legal holds are part of every statement, never filtered afterwards in
  Python (`purge_plan` writes the conditions).
- A dry run counts with the same conditions and writes nothing
  (`purge_counts`).

Counts per table: see connectors.purges.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from connectors.base import (
    BatchResult,
    ConnectorError,
    HeldScope,
    PurgeSpec,
    StorePurge,
    TableCounts,
)
from connectors.kinds.sql.config import StoreMap
from connectors.kinds.sql.dialects import Dialect
from connectors.kinds.sql.purge_counts import changes_count, held_count
from connectors.kinds.sql.purge_plan import PurgePlan
from connectors.kinds.sql.purge_session import PurgeSession
from connectors.kinds.sql.values import json_safe
from connectors.redaction import redact


class SqlPurge(StorePurge):
    """One purge of one table of one store (one connection, one short
    transaction per batch)."""

    def __init__(
        self,
        *,
        store: StoreMap,
        dialect: Dialect,
        spec: PurgeSpec,
        held: HeldScope,
        store_name: str,
        password: str,
    ) -> None:
        self.plan = PurgePlan(
            store=store, dialect=dialect, spec=spec, held=held, store_name=store_name
        )
        self.dialect = dialect
        self.spec = spec
        self.held = held
        self.table = self.plan.table
        self.columns = self.plan.columns
        self.session = PurgeSession(
            dialect,
            password=password,
            connect_timeout=store.connect_timeout,
            lock_timeout_ms=spec.lock_timeout_ms,
        )

    def close(self) -> None:
        self.session.close()

    def check(self) -> None:
        """Fail with a clear, permanent error when a named column is missing."""
        with self.session.step(f"reading table {self.table.table}"):
            present = set(
                self.dialect.columns(self.session.connection, self.table.table)
            )
        wanted = {self.table.key, self.spec.age_column, *self.spec.fields}
        missing = sorted(wanted - present)
        if missing:
            raise ConnectorError(
                f"table {self.table.table} has no column {', '.join(missing)}",
                permanent=True,
            )
        if self.table.key in self.spec.fields:
            raise ConnectorError(
                f"the key column {self.table.key} cannot be changed", permanent=True
            )

    def upper_key(self) -> Any:
        """The highest key now present: the run ends there, so rows added
        while it runs are left for the next run."""
        q = self.plan.q
        with self.session.step(f"reading table {self.table.table}"):
            upper = self.session.scalar(
                f"SELECT MAX({q(self.table.key)}) FROM {q(self.table.table)}", []
            )
        return json_safe(upper)

    def count(self, *, upper_key: Any) -> dict[str, TableCounts]:
        """The dry run: what a real run up to `upper_key` would change, per
        table, with the same conditions; nothing is written."""
        counts: dict[str, TableCounts] = {}
        if upper_key is None:
            return counts
        table_held = self.held.holds_table(self.table.table)
        if self.spec.action == "redact_pii" and not table_held:
            # Whether a text changes is known only by redacting it.
            for batch in self.batches(after_key=None, upper_key=upper_key, write=False):
                _merge(counts, batch.counts)
        elif not table_held:
            changes_count(self.plan, self.session, counts, upper_key)
        for table, skipped in self.held_counts(upper_key=upper_key).items():
            entry = counts.setdefault(table, TableCounts())
            entry.skipped_held += skipped
            entry.examined += skipped
        return counts

    def held_counts(self, *, upper_key: Any) -> dict[str, int]:
        """Rows past the cutoff left alone because of a hold, per table."""
        return held_count(self.plan, self.session, upper_key)

    def batches(
        self, *, after_key: Any, upper_key: Any, write: bool = True
    ) -> Iterator[BatchResult]:
        """Run (or, with write=False, simulate) the purge after `after_key`
        up to `upper_key`, one batch at a time."""
        if upper_key is None or self.held.holds_table(self.table.table):
            return
        q = self.plan.q
        where, params = self.plan.candidates()
        selected = [self.table.key]
        identity_columns: list[str] = []
        if self.spec.action == "redact_pii":
            selected += [c.name for c in self.columns]
            identity_columns = [i.column for i in self.table.identity]
            if self.table.name_column:
                identity_columns.append(self.table.name_column)
            selected += identity_columns
        columns_sql = ", ".join(f"{q(self.table.table)}.{q(c)}" for c in selected)
        last = after_key
        while True:
            started = time.monotonic()
            bounded, bound_params = self.plan.range_sql(last, upper_key)
            with self.session.step(f"reading table {self.table.table}"):
                rows = self.session.read(
                    f"SELECT {columns_sql} FROM {q(self.table.table)} "
                    f"WHERE {where} AND {bounded} ORDER BY "
                    f"{q(self.table.table)}.{q(self.table.key)} "
                    f"LIMIT {int(self.spec.batch_size)}",
                    params + bound_params,
                )
            if not rows:
                return
            keys = [row[0] for row in rows]
            counts: dict[str, TableCounts] = {}
            if self.spec.action == "delete":
                transaction_ms = self._delete(keys, counts, write=write)
            elif self.spec.action == "anonymize":
                transaction_ms = self._anonymize(keys, counts, write=write)
            else:
                transaction_ms = self._redact(
                    rows, len(identity_columns), counts, write=write
                )
            yield BatchResult(
                last_key=json_safe(keys[-1]),
                counts=counts,
                transaction_ms=transaction_ms,
                batch_ms=int((time.monotonic() - started) * 1000),
            )
            if len(rows) < self.spec.batch_size:
                return
            last = keys[-1]

    def _delete(
        self, keys: list[Any], counts: dict[str, TableCounts], *, write: bool
    ) -> int:
        q = self.plan.q
        rows_sql, rows_params = self.plan.batch_rows(keys)
        descendants = list(self.plan.descendants(self.table, rows_sql, rows_params))
        if not write:
            counts[self.table.table] = TableCounts(len(keys), len(keys))
            return 0
        started = time.monotonic()
        with self.session.transaction(f"deleting in table {self.table.table}") as conn:
            # Deepest first: grandchildren, children, then the rows themselves.
            for table, child_sql, child_params in reversed(descendants):
                deleted = self.dialect.execute(
                    conn,
                    f"DELETE FROM {q(table.table)} WHERE {child_sql}",
                    child_params,
                )
                counts.setdefault(table.table, TableCounts()).add(
                    TableCounts(deleted, deleted)
                )
            deleted = self.dialect.execute(
                conn, f"DELETE FROM {q(self.table.table)} WHERE {rows_sql}", rows_params
            )
        counts[self.table.table] = TableCounts(len(keys), deleted)
        return int((time.monotonic() - started) * 1000)

    def _anonymize(
        self, keys: list[Any], counts: dict[str, TableCounts], *, write: bool
    ) -> int:
        q = self.plan.q
        rows_sql, rows_params = self.plan.batch_rows(keys)
        # Children follow the batch's rows (the pending test is the parent's
        # own, so it is left out when selecting their children).
        keys_sql, keys_params = self.plan.keys_sql(keys)
        age, age_params = self.plan.age_sql()
        not_held, held_params = self.plan.not_held(self.table, deleting=False)
        parents_sql = f"{keys_sql} AND {age} AND {not_held}"
        parents_params = keys_params + age_params + held_params
        counts[self.table.table] = TableCounts(len(keys), len(keys))
        if not write:
            return 0
        started = time.monotonic()
        with self.session.transaction(
            f"anonymizing in table {self.table.table}"
        ) as conn:
            for table, child_sql, child_params in reversed(
                list(self.plan.descendants(self.table, parents_sql, parents_params))
            ):
                changing = self.plan.descendant_changing(table, child_sql)
                if changing is None:
                    continue
                sets = self.plan.set_sql(self.plan.child_columns(table))
                changed = self.dialect.execute(
                    conn,
                    f"UPDATE {q(table.table)} SET {sets} WHERE {changing}",
                    self.plan.descendant_params(table, child_params),
                )
                counts.setdefault(table.table, TableCounts()).add(
                    TableCounts(changed, changed)
                )
            changed = self.dialect.execute(
                conn,
                f"UPDATE {q(self.table.table)} SET {self.plan.set_sql(self.columns)} "
                f"WHERE {rows_sql}",
                rows_params,
            )
        counts[self.table.table] = TableCounts(len(keys), changed)
        return int((time.monotonic() - started) * 1000)

    def _redact(
        self,
        rows: list[tuple[Any, ...]],
        identity_count: int,
        counts: dict[str, TableCounts],
        *,
        write: bool,
    ) -> int:
        """Redact in Python (outside the transaction), then write the changed
        texts in one short transaction that re-checks every condition."""
        q = self.plan.q
        keys = [row[0] for row in rows]
        width = len(self.columns)
        main_updates: list[list[Any]] = []
        for row in rows:
            texts = list(row[1 : 1 + width])
            known = _known_values(row[1 + width : 1 + width + identity_count])
            new = [_redacted(text, known) for text in texts]
            if new != texts:
                main_updates.append([*new, row[0]])
        counts[self.table.table] = TableCounts(len(rows), len(main_updates))
        keys_sql, keys_params = self.plan.keys_sql(keys)
        age, age_params = self.plan.age_sql()
        not_held, held_params = self.plan.not_held(self.table, deleting=False)
        parents_sql = f"{keys_sql} AND {age} AND {not_held}"
        parents_params = keys_params + age_params + held_params
        # (UPDATE statement, rows of values): children first, then the table.
        statements: list[tuple[str, list[list[Any]]]] = []
        for table, child_sql, child_params in self.plan.descendants(
            self.table, parents_sql, parents_params
        ):
            changing = self.plan.descendant_changing(table, child_sql)
            if changing is None:
                continue
            columns = self.plan.child_columns(table)
            known_columns = [i.column for i in table.identity]
            if table.name_column:
                known_columns.append(table.name_column)
            selected = [table.key, *(c.name for c in columns), *known_columns]
            with self.session.step(f"reading table {table.table}"):
                child_rows = self.session.read(
                    f"SELECT {', '.join(f'{q(table.table)}.{q(c)}' for c in selected)}"
                    f" FROM {q(table.table)} WHERE {changing}",
                    self.plan.descendant_params(table, child_params),
                )
            changed_rows = []
            for child in child_rows:
                texts = list(child[1 : 1 + len(columns)])
                known = _known_values(child[1 + len(columns) :])
                new = [_redacted(text, known) for text in texts]
                if new != texts:
                    changed_rows.append([*new, child[0]])
            counts.setdefault(table.table, TableCounts()).add(
                TableCounts(len(child_rows), len(changed_rows))
            )
            if changed_rows:
                sql, recheck = self.plan.update_by_key(table, columns)
                statements.append((sql, [v + recheck for v in changed_rows]))
        if main_updates:
            sql, recheck = self.plan.update_by_key(self.table, self.columns)
            statements.append((sql, [v + recheck for v in main_updates]))
        if not write or not statements:
            return 0
        started = time.monotonic()
        with self.session.transaction(f"redacting in table {self.table.table}") as conn:
            for sql, values in statements:
                self.dialect.execute_many(conn, sql, values)
        return int((time.monotonic() - started) * 1000)


def _known_values(values: Sequence[Any]) -> tuple[str, ...]:
    """The row's own identifiers (and name), to redact where they appear."""
    found = []
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            found.append(value.strip())
    return tuple(sorted(set(found)))


def _redacted(value: Any, known: tuple[str, ...]) -> Any:
    if not isinstance(value, str) or not value:
        return value
    return redact(value, known=known)[0]


def _merge(into: dict[str, TableCounts], counts: dict[str, TableCounts]) -> None:
    for table, entry in counts.items():
        into.setdefault(table, TableCounts()).add(entry)
