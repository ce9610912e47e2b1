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
  condition, so locks are held only for the write of one batch.
- Legal holds are part of every statement (a `NOT (...)` over the held
  subjects' identifiers passed as parameters, and over held tables), never
  filtered afterwards in Python. A row is held when it belongs to a held
  subject (its own identity columns or through its parents) or, when rows
  are deleted, when one of its descendants is held.
- A dry run counts with the same conditions and writes nothing.

Counts per table (`TableCounts`): `examined` = rows past the cutoff the run
looked at, held ones included; `changed` = rows deleted or whose values
changed; `skipped_held` = rows past the cutoff left alone because of a hold.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors.base import ConnectorError, Identity
from connectors.kinds.sql.config import IDENTIFIER, TableMap
from connectors.kinds.sql.query import SubjectQuery
from connectors.redaction import redact

if TYPE_CHECKING:
    from connectors.kinds.sql.connector import SqlConnector

ACTIONS = ("delete", "anonymize", "redact_pii")
CHILD_STRATEGIES = {
    "delete": (),
    "anonymize": ("null", "mask"),
    "redact_pii": ("redact_pii",),
}


@dataclass(frozen=True)
class PurgeSpec:
    """What one policy asks of one table."""

    table: str
    age_column: str
    cutoff: datetime
    action: str
    fields: tuple[str, ...] = ()
    children: bool = True  # anonymize/redact: apply to child rows as well
    batch_size: int = 5000
    lock_timeout_ms: int = 5000


@dataclass(frozen=True)
class HeldScope:
    """What a purge must leave alone: the held subjects' identifiers (in
    memory only) and whole tables under a hold."""

    identity: Identity = field(default_factory=Identity)
    tables: frozenset[str] = frozenset()
    everything: bool = False  # a hold on the whole store

    def holds_table(self, name: str) -> bool:
        return self.everything or name in self.tables


@dataclass
class TableCounts:
    examined: int = 0
    changed: int = 0
    skipped_held: int = 0

    def add(self, other: TableCounts) -> None:
        self.examined += other.examined
        self.changed += other.changed
        self.skipped_held += other.skipped_held

    def as_dict(self) -> dict[str, int]:
        return {
            "examined": self.examined,
            "changed": self.changed,
            "skipped_held": self.skipped_held,
        }


@dataclass(frozen=True)
class BatchResult:
    """One finished batch: the key to resume after, and what it did."""

    last_key: Any
    counts: dict[str, TableCounts]
    transaction_ms: int  # the write transaction alone (how long locks were held)
    batch_ms: int  # reading the keys and texts, redacting, and writing


@dataclass(frozen=True)
class Column:
    """A column a purge rewrites, and how."""

    name: str
    strategy: str  # null | mask | redact_pii
    mask: str = ""


class SqlPurge:
    """One purge of one table of one store; use as a context manager (it
    holds one connection, with one short transaction per batch)."""

    def __init__(self, connector: SqlConnector, spec: PurgeSpec, held: HeldScope):
        self.connector = connector
        self.store = connector.store
        self.dialect = connector.dialect
        self.spec = spec
        self.held = held
        self._check_spec()
        self.table = self.store.table(spec.table)
        self.columns = self._columns(self.table, spec.fields)
        identity = held.identity if not held.identity.is_empty() else None
        self._subjects = (
            SubjectQuery(self.dialect, self.store, identity) if identity else None
        )
        self._own = (
            SubjectQuery(self.dialect, self.store, identity) if identity else None
        )
        self._held_cache: dict[tuple[str, bool], str] = {}
        self._held_params: dict[tuple[str, bool], list[Any]] = {}
        self._connection: Any = None
        self._kind = self.dialect.target.scheme
        if self._kind in ("postgresql", "postgres"):
            self._kind = "postgresql"
        elif self._kind != "sqlite":
            self._kind = "mysql"

    # -- lifecycle -----------------------------------------------------------------
    def __enter__(self) -> SqlPurge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            with suppress(Exception):
                self._connection.close()
            self._connection = None

    @property
    def connection(self) -> Any:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def _connect(self) -> Any:
        password = str(self.connector.secrets.get("password") or "")
        doing = f"connecting to {self.dialect.target.describe()}"
        try:
            connection = self.dialect.connect(
                password=password,
                timeout=self.store.connect_timeout,
                read_only=False,
            )
        except Exception as error:
            raise self._converted(error, doing) from None
        timeout = max(int(self.spec.lock_timeout_ms), 1)
        with self._step("preparing the purge session"):
            if self._kind == "postgresql":
                connection.autocommit = True
                connection.execute(f"SET lock_timeout = {timeout}")
                connection.execute("SET TIME ZONE 'UTC'")
            elif self._kind == "sqlite":
                connection.execute(f"PRAGMA busy_timeout = {timeout}")
            else:
                connection.autocommit(True)
                cursor = connection.cursor()
                cursor.execute(
                    "SET SESSION innodb_lock_wait_timeout = "
                    f"{max(1, -(-timeout // 1000))}"
                )
                cursor.execute("SET time_zone = '+00:00'")
                cursor.close()
        return connection

    # -- checks --------------------------------------------------------------------
    def _check_spec(self) -> None:
        spec = self.spec
        if spec.action not in ACTIONS:
            raise ConnectorError(
                f"unknown purge action {spec.action!r}; one of {', '.join(ACTIONS)}",
                permanent=True,
            )
        names = [spec.table, spec.age_column, *spec.fields]
        bad = [name for name in names if not IDENTIFIER.fullmatch(name or "")]
        if bad:
            raise ConnectorError(
                "table and column names must be plain SQL names", permanent=True
            )
        if spec.table not in {t.table for t in self.store.tables}:
            raise ConnectorError(
                f"table {spec.table} is not in the map of {self.connector.name}",
                permanent=True,
            )
        if spec.action != "delete" and not spec.fields:
            raise ConnectorError(
                f"{spec.action} needs the columns to change", permanent=True
            )
        if not 1 <= spec.batch_size <= 100_000:
            raise ConnectorError("batch size must be 1-100000", permanent=True)

    def check_columns(self) -> None:
        """Fail with a clear, permanent error when a named column is missing."""
        with self._step(f"reading table {self.table.table}"):
            present = set(self.dialect.columns(self.connection, self.table.table))
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

    # -- SQL pieces ----------------------------------------------------------------
    def _q(self, name: str) -> str:
        return self.dialect.quote(name)

    def _literal(self, text: str) -> str:
        """A mask value from the map as an SQL string literal."""
        literal = "'" + text.replace("'", "''") + "'"
        # psycopg and PyMySQL read % as the start of a placeholder.
        return literal if self._kind == "sqlite" else literal.replace("%", "%%")

    def _columns(self, table: TableMap, names: Sequence[str]) -> list[Column]:
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

    def _child_columns(self, table: TableMap) -> list[Column]:
        wanted = CHILD_STRATEGIES[self.spec.action]
        return [
            Column(rule.column, rule.strategy, rule.mask)
            for rule in table.rules
            if rule.strategy in wanted
        ]

    def _children(self, table: TableMap) -> list[TableMap]:
        return [
            child
            for child in self.store.tables
            if child.parent is not None and child.parent.table == table.table
        ]

    def _age_sql(self) -> tuple[str, list[Any]]:
        """`age_column < cutoff`, comparable on every database."""
        column = f"{self._q(self.table.table)}.{self._q(self.spec.age_column)}"
        cutoff = self.spec.cutoff.astimezone(UTC)
        p = self.dialect.param
        if self._kind == "sqlite":
            # SQLite keeps timestamps as text in more than one shape
            # ("2025-03-01 09:00:00", "2025-03-01T09:00:00+00:00");
            # datetime() brings both to UTC "YYYY-MM-DD HH:MM:SS".
            return f"datetime({column}) < {p}", [cutoff.strftime("%Y-%m-%d %H:%M:%S")]
        if self._kind == "mysql":
            return f"{column} < {p}", [cutoff.replace(tzinfo=None)]
        return f"{column} < {p}", [cutoff]

    def _pending_sql(self, table: TableMap, columns: list[Column]) -> str:
        """Anonymize: only rows that still hold a value to remove."""
        q = self._q
        parts = []
        for column in columns:
            name = f"{q(table.table)}.{q(column.name)}"
            if column.strategy == "mask":
                mask = self._literal(column.mask)
                parts.append(f"({name} IS NOT NULL AND {name} <> {mask})")
            else:
                parts.append(f"{name} IS NOT NULL")
        return "(" + " OR ".join(parts) + ")" if parts else "1 = 1"

    def _set_sql(self, columns: list[Column]) -> str:
        sets = []
        for column in columns:
            if column.strategy == "mask":
                sets.append(f"{self._q(column.name)} = {self._literal(column.mask)}")
            else:
                sets.append(f"{self._q(column.name)} = NULL")
        return ", ".join(sets)

    def _held(self, table: TableMap, *, deleting: bool) -> tuple[str, list[Any]]:
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
            q = self._q
            for child in self._children(table):
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

    def _not_held(self, table: TableMap, *, deleting: bool) -> tuple[str, list[Any]]:
        held, params = self._held(table, deleting=deleting)
        return (f"NOT ({held})", params) if held else ("1 = 1", [])

    def _keys_sql(self, keys: list[Any]) -> tuple[str, list[Any]]:
        column = f"{self._q(self.table.table)}.{self._q(self.table.key)}"
        if self._kind == "postgresql":
            return f"{column} = ANY({self.dialect.param})", [list(keys)]
        return f"{column} IN ({self.dialect.params(len(keys))})", list(keys)

    def _candidates(self) -> tuple[str, list[Any]]:
        """Rows of the policy's table this purge may change: past the
        cutoff, not held (and, to anonymize, still holding a value)."""
        deleting = self.spec.action == "delete"
        age, params = self._age_sql()
        not_held, held_params = self._not_held(self.table, deleting=deleting)
        parts = [age, not_held]
        params += held_params
        if self.spec.action == "anonymize":
            parts.append(self._pending_sql(self.table, self.columns))
        return " AND ".join(parts), params

    def _range_sql(self, after_key: Any, upper_key: Any) -> tuple[str, list[Any]]:
        column = f"{self._q(self.table.table)}.{self._q(self.table.key)}"
        p = self.dialect.param
        if after_key is None:
            return f"{column} <= {p}", [upper_key]
        return f"{column} > {p} AND {column} <= {p}", [after_key, upper_key]

    # -- plumbing ------------------------------------------------------------------
    def _converted(self, error: Exception, doing: str) -> Exception:
        converted = self.dialect.error(error, doing)
        password = str(self.connector.secrets.get("password") or "")
        if (
            isinstance(converted, ConnectorError)
            and password
            and password in converted.message
        ):
            return ConnectorError(
                converted.message.replace(password, "***"),
                permanent=converted.permanent,
            )
        return converted

    @contextmanager
    def _step(self, doing: str) -> Iterator[None]:
        try:
            yield
        except ConnectorError:
            raise
        except Exception as error:
            converted = self._converted(error, doing)
            if converted is error:
                raise
            raise converted from None

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[Any]:
        """One short write transaction."""
        connection = self.connection
        with self._step(doing):
            if self._kind == "postgresql":
                with connection.transaction():
                    yield connection
                return
            if self._kind == "sqlite":
                connection.execute("BEGIN IMMEDIATE")
            else:
                connection.begin()
            try:
                yield connection
            except BaseException:
                with suppress(Exception):
                    connection.rollback()
                raise
            connection.commit()

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, list(params))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def _scalar(self, sql: str, params: Sequence[Any]) -> Any:
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """A read outside any write transaction (PostgreSQL reads run in
        autocommit, SQLite and MySQL read without BEGIN)."""
        return self._rows(sql, params)

    # -- what the service asks -------------------------------------------------------
    def upper_key(self) -> Any:
        """The highest key now present: the run ends there, so rows added
        while it runs are left for the next run."""
        q = self._q
        with self._step(f"reading table {self.table.table}"):
            return self._scalar(
                f"SELECT MAX({q(self.table.key)}) FROM {q(self.table.table)}", []
            )

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
            self._count_changes(counts, upper_key)
        for table, skipped in self.held_counts(upper_key=upper_key).items():
            entry = counts.setdefault(table, TableCounts())
            entry.skipped_held += skipped
            entry.examined += skipped
        return counts

    def _count_changes(self, counts: dict[str, TableCounts], upper_key: Any) -> None:
        q = self._q
        where, params = self._candidates()
        bounded, bound_params = self._range_sql(None, upper_key)
        rows = f"{where} AND {bounded}"
        rows_params = params + bound_params
        with self._step(f"counting rows in table {self.table.table}"):
            total = int(
                self._scalar(
                    f"SELECT COUNT(*) FROM {q(self.table.table)} WHERE {rows}",
                    rows_params,
                )
                or 0
            )
        counts.setdefault(self.table.table, TableCounts()).add(
            TableCounts(examined=total, changed=total)
        )
        for table, rows_sql, rows_sql_params in self._descendants(
            self.table, rows, rows_params
        ):
            changing = self._descendant_changing(table, rows_sql)
            if changing is None:
                continue
            with self._step(f"counting rows in table {table.table}"):
                found = int(
                    self._scalar(
                        f"SELECT COUNT(*) FROM {q(table.table)} WHERE {changing}",
                        self._descendant_params(table, rows_sql_params),
                    )
                    or 0
                )
            counts.setdefault(table.table, TableCounts()).add(
                TableCounts(examined=found, changed=found)
            )

    def held_counts(self, *, upper_key: Any) -> dict[str, int]:
        """Rows past the cutoff left alone because of a hold, per table."""
        if upper_key is None:
            return {}
        q = self._q
        deleting = self.spec.action == "delete"
        age, params = self._age_sql()
        bounded, bound_params = self._range_sql(None, upper_key)
        held, held_params = self._held(self.table, deleting=deleting)
        result: dict[str, int] = {}
        if held:
            extra = ""
            if self.spec.action == "anonymize":
                extra = " AND " + self._pending_sql(self.table, self.columns)
            with self._step(f"counting held rows in table {self.table.table}"):
                result[self.table.table] = int(
                    self._scalar(
                        f"SELECT COUNT(*) FROM {q(self.table.table)} WHERE {age} "
                        f"AND {bounded} AND ({held}){extra}",
                        params + bound_params + held_params,
                    )
                    or 0
                )
        if deleting or not self.spec.children:
            # Deleting: a held descendant holds its ancestors, counted above.
            return result
        where, where_params = self._candidates()
        rows = f"{where} AND {bounded}"
        for table, rows_sql, rows_params in self._descendants(
            self.table, rows, where_params + bound_params
        ):
            if not self._child_columns(table):
                continue
            child_held, child_params = self._held(table, deleting=False)
            if not child_held:
                continue
            with self._step(f"counting held rows in table {table.table}"):
                result[table.table] = int(
                    self._scalar(
                        f"SELECT COUNT(*) FROM {q(table.table)} WHERE {rows_sql} "
                        f"AND ({child_held})",
                        rows_params + child_params,
                    )
                    or 0
                )
        return result

    def _descendants(
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
        q = self._q
        for child in self._children(table):
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
                not_held, held_params = self._not_held(child, deleting=False)
                deeper_sql = f"{child_rows} AND {not_held}"
                deeper_params += held_params
            yield from self._descendants(child, deeper_sql, deeper_params)

    def _descendant_changing(self, table: TableMap, rows_sql: str) -> str | None:
        """The rows of a descendant this purge changes (None: it changes none).

        The caller adds the held parameters for anonymize/redact."""
        if self.spec.action == "delete":
            return rows_sql
        columns = self._child_columns(table)
        if not columns or self.held.holds_table(table.table):
            return None
        held, _ = self._held(table, deleting=False)
        parts = [rows_sql]
        if held:
            parts.append(f"NOT ({held})")
        if self.spec.action == "anonymize":
            parts.append(self._pending_sql(table, columns))
        return " AND ".join(parts)

    def _descendant_params(self, table: TableMap, rows_params: list[Any]) -> list[Any]:
        if self.spec.action == "delete":
            return rows_params
        _, held_params = self._held(table, deleting=False)
        return rows_params + held_params

    # -- the batches -----------------------------------------------------------------
    def batches(
        self, *, after_key: Any, upper_key: Any, write: bool = True
    ) -> Iterator[BatchResult]:
        """Run (or, with write=False, simulate) the purge after `after_key`
        up to `upper_key`, one batch at a time."""
        if upper_key is None or self.held.holds_table(self.table.table):
            return
        q = self._q
        where, params = self._candidates()
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
            bounded, bound_params = self._range_sql(last, upper_key)
            with self._step(f"reading table {self.table.table}"):
                rows = self._read(
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
                last_key=keys[-1],
                counts=counts,
                transaction_ms=transaction_ms,
                batch_ms=int((time.monotonic() - started) * 1000),
            )
            if len(rows) < self.spec.batch_size:
                return
            last = keys[-1]

    def _batch_rows(self, keys: list[Any]) -> tuple[str, list[Any]]:
        """The batch's rows of the policy's table, every condition re-checked."""
        keys_sql, keys_params = self._keys_sql(keys)
        where, params = self._candidates()
        return f"{keys_sql} AND {where}", keys_params + params

    def _delete(
        self, keys: list[Any], counts: dict[str, TableCounts], *, write: bool
    ) -> int:
        q = self._q
        rows_sql, rows_params = self._batch_rows(keys)
        descendants = list(self._descendants(self.table, rows_sql, rows_params))
        if not write:
            counts[self.table.table] = TableCounts(len(keys), len(keys))
            return 0
        started = time.monotonic()
        with self._transaction(f"deleting in table {self.table.table}") as conn:
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
        q = self._q
        rows_sql, rows_params = self._batch_rows(keys)
        # Children follow the batch's rows (the pending test is the parent's
        # own, so it is left out when selecting their children).
        keys_sql, keys_params = self._keys_sql(keys)
        age, age_params = self._age_sql()
        not_held, held_params = self._not_held(self.table, deleting=False)
        parents_sql = f"{keys_sql} AND {age} AND {not_held}"
        parents_params = keys_params + age_params + held_params
        counts[self.table.table] = TableCounts(len(keys), len(keys))
        if not write:
            return 0
        started = time.monotonic()
        with self._transaction(f"anonymizing in table {self.table.table}") as conn:
            for table, child_sql, child_params in reversed(
                list(self._descendants(self.table, parents_sql, parents_params))
            ):
                changing = self._descendant_changing(table, child_sql)
                if changing is None:
                    continue
                changed = self.dialect.execute(
                    conn,
                    f"UPDATE {q(table.table)} SET "
                    f"{self._set_sql(self._child_columns(table))} WHERE {changing}",
                    self._descendant_params(table, child_params),
                )
                counts.setdefault(table.table, TableCounts()).add(
                    TableCounts(changed, changed)
                )
            changed = self.dialect.execute(
                conn,
                f"UPDATE {q(self.table.table)} SET {self._set_sql(self.columns)} "
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
        q = self._q
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
        keys_sql, keys_params = self._keys_sql(keys)
        age, age_params = self._age_sql()
        not_held, held_params = self._not_held(self.table, deleting=False)
        parents_sql = f"{keys_sql} AND {age} AND {not_held}"
        parents_params = keys_params + age_params + held_params
        # (UPDATE statement, rows of values): children first, then the table.
        statements: list[tuple[str, list[list[Any]]]] = []
        for table, child_sql, child_params in self._descendants(
            self.table, parents_sql, parents_params
        ):
            changing = self._descendant_changing(table, child_sql)
            if changing is None:
                continue
            columns = self._child_columns(table)
            known_columns = [i.column for i in table.identity]
            if table.name_column:
                known_columns.append(table.name_column)
            selected = [table.key, *(c.name for c in columns), *known_columns]
            with self._step(f"reading table {table.table}"):
                child_rows = self._read(
                    f"SELECT {', '.join(f'{q(table.table)}.{q(c)}' for c in selected)}"
                    f" FROM {q(table.table)} WHERE {changing}",
                    self._descendant_params(table, child_params),
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
                sql, recheck = self._update_by_key(table, columns)
                statements.append((sql, [v + recheck for v in changed_rows]))
        if main_updates:
            sql, recheck = self._update_by_key(self.table, self.columns)
            statements.append((sql, [v + recheck for v in main_updates]))
        if not write or not statements:
            return 0
        started = time.monotonic()
        with self._transaction(f"redacting in table {self.table.table}") as conn:
            for sql, values in statements:
                self.dialect.execute_many(conn, sql, values)
        return int((time.monotonic() - started) * 1000)

    def _update_by_key(
        self, table: TableMap, columns: list[Column]
    ) -> tuple[str, list[Any]]:
        """UPDATE one row by key, re-checking the conditions that selected it;
        returns the SQL and the parameters that follow the key."""
        q, p = self._q, self.dialect.param
        sets = ", ".join(f"{q(c.name)} = {p}" for c in columns)
        if table.table == self.table.table:
            where, params = self._candidates()
        else:
            where, params = self._not_held(table, deleting=False)
        sql = (
            f"UPDATE {q(table.table)} SET {sets} WHERE "
            f"{q(table.table)}.{q(table.key)} = {p} AND {where}"
        )
        return sql, params


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


def purge_for(connector: SqlConnector, spec: PurgeSpec, held: HeldScope) -> SqlPurge:
    """The purge of `spec` on this connector's store (a context manager)."""
    return SqlPurge(connector, spec, held)
