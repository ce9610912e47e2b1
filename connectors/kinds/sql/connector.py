"""The `sql` connector kind: a declarative map over a PostgreSQL, SQLite or
MariaDB/MySQL support store (see `config` for the map's shape).

What the counts mean (every action is idempotent):

- access: `found` = rows exported, per table.
- erase: `found` = the subject's rows present in the table when the erase
  ran; `changed` = rows whose values actually changed or that were deleted.
  A second run leaves the store exactly as the first did and reports
  `changed` 0; its `found` no longer counts rows the first run deleted.
  Rows are still found after their identity column was hashed or
  pseudonymized: identity columns match the plaintext *or* its keyed form.
- verify_erasure: `found` = rows that still hold the subject's data outside
  exemptions (a deleted table's rows still present; a nulled, masked, hashed
  or pseudonymized column still in plaintext; a redacted text that still
  contains a known identifier). Kept columns and tables are exemptions.
- rectify, restrict, object: `found` = the subject's rows holding the field,
  `changed` = rows updated.

Erasure runs in one transaction per store: children before parents, so rows
are deleted or detached before the rows they belong to change or go.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property, lru_cache
from typing import Any, ClassVar

from connectors.base import (
    AccessRecord,
    ConfigError,
    ConnectorError,
    ConnectorKind,
    Identity,
    Outcome,
)
from connectors.choices import Action
from connectors.kinds.sql import config as sql_config
from connectors.kinds.sql.config import StoreMap
from connectors.kinds.sql.dialects import Dialect, dialect_for
from connectors.kinds.sql.erasure import StorePass
from connectors.kinds.sql.query import SubjectQuery
from connectors.kinds.sql.values import json_safe
from connectors.redaction import KnownIdentifiers

BASE_ACTIONS = frozenset(
    {Action.ACCESS, Action.RECTIFY, Action.ERASE, Action.VERIFY_ERASURE}
)
FLAG_ACTIONS = frozenset({Action.RESTRICT, Action.OBJECT})


@lru_cache(maxsize=32)
def _parsed(config_json: str) -> StoreMap:
    """A map, parsed and checked once per process: every task and every
    request's planning reads it, and it is the same few maps over and over
    (a StoreMap is immutable, so one can serve them all)."""
    return sql_config.parse(json.loads(config_json))


class SqlConnector(ConnectorKind):
    """A helpdesk, CRM or AI-log database described by a map of tables."""

    kind = "sql"
    label = "SQL database"
    # What the kind can do, read from the class (API, dashboard). An instance
    # offers restriction and objection only where its map names a flag
    # column, so `__init__` narrows `actions` to its own map.
    actions: ClassVar[frozenset[str]] = BASE_ACTIONS | FLAG_ACTIONS
    secret_fields = ("password",)
    verifies_in_process = True
    # What the last erasure through this instance knew of its subject (the
    # name, the phone as the store wrote it), which the store no longer
    # holds afterwards: the check right after it looks for those too.
    _erased: tuple[Identity, KnownIdentifiers] | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actions = self._map_actions()  # type: ignore[misc]

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        return sql_config.validate(config)

    @cached_property
    def store(self) -> StoreMap:
        try:
            return _parsed(json.dumps(self.config, sort_keys=True))
        except ConfigError as error:
            raise ConnectorError(
                f"{self.name}: invalid config at {error.field}: {error.message}",
                permanent=True,
            ) from None

    def _map_actions(self) -> frozenset[str]:
        """Restriction and objection only where the map names a flag column."""
        try:
            tables = self.store.tables
        except ConnectorError:
            return BASE_ACTIONS
        extra = set()
        if any(t.restrict_column for t in tables):
            extra.add(Action.RESTRICT)
        if any(t.objection_column for t in tables):
            extra.add(Action.OBJECT)
        return BASE_ACTIONS | extra

    @cached_property
    def dialect(self) -> Dialect:
        return dialect_for(
            self.store.dsn, prepared_statements=self.store.prepared_statements
        )

    # -- plumbing ------------------------------------------------------------
    @contextmanager
    def _session(self, *, write: bool, doing: str) -> Iterator[Any]:
        password = str(self.secrets.get("password") or "")
        try:
            with self.dialect.session(
                password=password,
                timeout=self.store.connect_timeout,
                write=write,
                doing=doing,
            ) as connection:
                yield connection
        except ConnectorError as error:
            message = error.message.replace(password, "***") if password else None
            if message is None or message == error.message:
                raise
            raise ConnectorError(message, permanent=error.permanent) from None

    def _pass(self, connection: Any, identity: Identity) -> StorePass:
        """The subject's rows over this connection, identity tables resolved."""
        query = SubjectQuery(self.dialect, self.store, identity)
        with self.dialect.converting("finding the subject"):
            query.pin(connection)
        return StorePass(self.dialect, self.store, connection, query)

    # -- actions ---------------------------------------------------------------
    def health(self) -> str:
        with self._session(write=False, doing="health check") as connection:
            for table in self.store.tables:
                try:
                    with self.dialect.converting(f"reading table {table.table}"):
                        columns = set(self.dialect.columns(connection, table.table))
                except ConnectorError as error:
                    if not error.permanent:
                        raise
                    raise ConnectorError(
                        f"table {table.table} is missing or unreadable "
                        f"({error.message})",
                        permanent=True,
                    ) from None
                missing = sorted(table.columns() - columns)
                if missing:
                    raise ConnectorError(
                        f"table {table.table} has no column {', '.join(missing)}",
                        permanent=True,
                    )
        return (
            f"ok: {len(self.store.tables)} tables checked on "
            f"{self.dialect.target.describe()}"
        )

    def discover(self, identity: Identity) -> dict[str, int]:
        counts: dict[str, int] = {}
        if identity.is_empty():
            return counts
        with self._session(write=False, doing="discover") as connection:
            store_pass = self._pass(connection, identity)
            for table in self.store.tables:
                with self.dialect.converting(f"counting rows in table {table.table}"):
                    count = store_pass.count(table)
                if count:
                    counts[table.table] = count
        return counts

    def access(self, identity: Identity) -> Iterator[AccessRecord]:
        if identity.is_empty():
            return
        with self._session(write=False, doing="access") as connection:
            store_pass = self._pass(connection, identity)
            for table in self.store.tables:
                with self.dialect.converting(f"access to table {table.table}"):
                    for columns, rows in store_pass.rows(table, []):
                        names = columns[1:]
                        for row in rows:
                            yield AccessRecord(
                                location=table.table,
                                key=str(row[0]),
                                data={
                                    name: json_safe(value)
                                    for name, value in zip(names, row[1:], strict=True)
                                },
                                category=table.category,
                            )

    def erase(self, identity: Identity) -> Outcome:
        outcome = Outcome()
        if identity.is_empty():
            outcome.note = "no identifiers to match"
            return outcome
        with self._session(write=True, doing="erase") as connection:
            store_pass = self._pass(connection, identity)
            known = store_pass.known(identity)
            for table in self.store.children_first():
                with self.dialect.converting(f"erase in table {table.table}"):
                    store_pass.erase_table(table, known, outcome)
        self._erased = (identity, known)
        return outcome

    def verify_erased(self, identity: Identity) -> Outcome:
        outcome = Outcome()
        if identity.is_empty():
            outcome.note = "no identifiers to match"
            return outcome
        with self._session(write=False, doing="verify erasure") as connection:
            store_pass = self._pass(connection, identity)
            known = store_pass.known(identity)
            if self._erased is not None and self._erased[0] == identity:
                known = self._erased[1].including(known)
            for table in self.store.tables:
                with self.dialect.converting(f"verify erasure in table {table.table}"):
                    store_pass.verify_table(table, known, outcome)
        return outcome

    def rectify(self, identity: Identity, changes: Mapping[str, str]) -> Outcome:
        outcome = Outcome()
        if identity.is_empty() or not changes:
            outcome.note = "nothing to correct" if not changes else "no identifiers"
            return outcome
        q, p = self.dialect.quote, self.dialect.param
        applied: set[str] = set()
        with self._session(write=True, doing="rectify") as connection:
            store_pass = self._pass(connection, identity)
            for table in self.store.children_first():
                with self.dialect.converting(f"rectify in table {table.table}"):
                    present = set(self.dialect.columns(connection, table.table))
                    mapping = {
                        field: column
                        for field, column in sql_config.rectify_map(
                            table, present
                        ).items()
                        if field in changes
                        and column in present
                        and sql_config.IDENTIFIER.fullmatch(column)
                    }
                    if not mapping:
                        continue
                    values = [changes[field] for field in mapping]
                    found = store_pass.count(table)
                    where, params = store_pass.query.where(table)
                    sets = ", ".join(f"{q(c)} = {p}" for c in mapping.values())
                    pending = " OR ".join(
                        f"({q(c)} IS NULL OR {q(c)} <> {p})" for c in mapping.values()
                    )
                    changed = self.dialect.execute(
                        connection,
                        f"UPDATE {q(table.table)} SET {sets} "
                        f"WHERE ({where}) AND ({pending})",
                        values + params + values,
                    )
                    outcome.add(table.table, found=found, changed=changed)
                    applied.update(mapping)
        missing = sorted(set(changes) - applied)
        if missing:
            outcome.note = f"no table holds: {', '.join(missing)}"
        return outcome

    def restrict(self, identity: Identity, *, restricted: bool) -> Outcome:
        return self._set_flag(identity, "restrict_column", restricted, "restrict")

    def object(self, identity: Identity) -> Outcome:
        return self._set_flag(identity, "objection_column", True, "object")

    def _set_flag(
        self, identity: Identity, attribute: str, value: bool, action: str
    ) -> Outcome:
        tables = [t for t in self.store.tables if getattr(t, attribute)]
        if not tables:
            raise ConnectorError(
                f"sql connector {self.name} has no {attribute} to {action} with",
                permanent=True,
            )
        outcome = Outcome()
        if identity.is_empty():
            outcome.note = "no identifiers to match"
            return outcome
        q, p = self.dialect.quote, self.dialect.param
        with self._session(write=True, doing=action) as connection:
            store_pass = self._pass(connection, identity)
            for table in tables:
                column = q(getattr(table, attribute))
                with self.dialect.converting(f"{action} in table {table.table}"):
                    found = store_pass.count(table)
                    where, params = store_pass.query.where(table)
                    changed = self.dialect.execute(
                        connection,
                        f"UPDATE {q(table.table)} SET {column} = {p} "
                        f"WHERE ({where}) AND ({column} IS NULL OR {column} <> {p})",
                        [value, *params, value],
                    )
                outcome.add(table.table, found=found, changed=changed)
        return outcome

    def purge(self, spec: Any, held: Any) -> Any:
        """A retention purge of one table (connectors.kinds.sql.purge): a
        context manager that runs it batch by batch, or counts it."""
        from connectors.kinds.sql.purge import purge_for

        return purge_for(self, spec, held)
