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
  Known identifiers are the subject's, what the store still holds for them,
  and what the erasure's receipt says it knew (the name the store held
  before the erasure blanked it): any instance, given the receipt, checks
  as much as the one that erased.
- rectify, restrict, object: `found` = the subject's rows holding the field,
  `changed` = rows updated.
- consent withdrawal (`withdrawal`): `changed` = rows set or deleted.
- retention purges: `purge` (and `purge_plan`, `purge_session`, `purge_counts`).

Erasure runs in one transaction per store: children before parents, so rows
are deleted or detached before the rows they belong to change or go.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property, lru_cache
from typing import Any

from connectors.base import (
    AccessRecord,
    ConfigError,
    ConnectorError,
    ConnectorKind,
    Deferred,
    ErasureReceipt,
    HealthReport,
    HealthWarning,
    HeldScope,
    Identity,
    Location,
    Outcome,
    PurgeSpec,
    WithdrawalJob,
)
from connectors.choices import Action
from connectors.data_points import data_point_normalise
from connectors.kinds.sql import describe, validation
from connectors.kinds.sql.config import IDENTIFIER, StoreMap
from connectors.kinds.sql.data_points import data_points_match
from connectors.kinds.sql.dialects import Dialect, dialect_for
from connectors.kinds.sql.erasure import (
    StorePass,
    known_as_receipt,
    known_from_receipt,
)
from connectors.kinds.sql.indexes import identity_index_warnings
from connectors.kinds.sql.purge import SqlPurge
from connectors.kinds.sql.query import SubjectQuery
from connectors.kinds.sql.rectification import rectify_table
from connectors.kinds.sql.schema import config_schema
from connectors.kinds.sql.values import json_rows
from connectors.kinds.sql.withdrawal import action_clean, withdrawal_statement
from privacydesk.errors import ValidationFailed

BASE_ACTIONS = frozenset(
    {Action.ACCESS, Action.RECTIFY, Action.ERASE, Action.VERIFY_ERASURE}
)
# With a flag column in the map, restriction and objection too.
ALL_ACTIONS = BASE_ACTIONS | {Action.RESTRICT, Action.OBJECT}


@lru_cache(maxsize=32)
def _parsed(config_json: str) -> StoreMap:
    """A map, parsed and checked once per process: every task and every
    request's planning reads it, and it is the same few maps over and over
    (a StoreMap is immutable, so one can serve them all)."""
    return validation.parse(json.loads(config_json))


class SqlConnector(ConnectorKind):
    """A helpdesk, CRM or AI-log database described by a map of tables."""

    kind = "sql"
    label = "SQL database"
    actions = ALL_ACTIONS
    secret_fields = ("password",)
    verifies_in_process = True
    purges = True
    withdraws_consent = True
    lists_conversations = True
    matches_data_points = True

    @classmethod
    def erasure_described(cls, config: Mapping[str, Any], location: str) -> str:
        return describe.erasure_described(config, location)

    @classmethod
    def rectification_targets(
        cls, config: Mapping[str, Any], fields: Collection[str]
    ) -> dict[str, list[str]] | None:
        return describe.rectification_targets(config, fields)

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return config_schema()

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        return validation.validate(config)

    @classmethod
    def name_clean(cls, value: Any, *, field: str) -> str:
        if not isinstance(value, str) or not IDENTIFIER.fullmatch(value.strip()):
            raise ValidationFailed(
                "must be a plain SQL name (letters, digits, underscore)", field=field
            )
        return value.strip()

    @classmethod
    def withdrawal_action_clean(
        cls, action: Any, *, config: Mapping[str, Any], field: str = "action"
    ) -> dict[str, Any]:
        try:
            store: StoreMap | None = validation.parse(dict(config))
            problem: ConfigError | None = None
        except ConfigError as error:
            store, problem = None, error
        cleaned = action_clean(action, store=store, field=field)
        if problem is not None:
            raise ValidationFailed(
                f"the connector's config is invalid ({problem.field}: "
                f"{problem.message})",
                field=f"{field}.{cleaned.operation}.table",
            ) from problem
        return dict(action)

    @cached_property
    def store(self) -> StoreMap:
        try:
            return _parsed(json.dumps(self.config, sort_keys=True))
        except ConfigError as error:
            raise ConnectorError(
                f"{self.name}: invalid config at {error.field}: {error.message}",
                permanent=True,
            ) from None

    def configured_actions(self) -> frozenset[str]:
        """Restriction and objection only where the map names a flag column."""
        try:
            tables = self.store.tables
        except ConnectorError:
            return BASE_ACTIONS
        extra: set[str] = set()
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
    def health(self) -> HealthReport:
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
            warnings: list[HealthWarning] = []
            if self.dialect.checks_indexes:
                with self.dialect.converting("reading the store's indexes"):
                    warnings = identity_index_warnings(
                        self.dialect, connection, self.store
                    )
        status = (
            f"ok: {len(self.store.tables)} tables checked on "
            f"{self.dialect.target.describe()}"
        )
        if not self.dialect.checks_indexes:
            status += "; identity indexes not checked on this database"
        elif warnings:
            status += f"; {len(warnings)} identity column(s) without a usable index"
        return HealthReport(status, tuple(warnings))

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

    def conversation_ids(self, identity: Identity) -> list[str]:
        """The keys of the subject's rows in the map's `conversations` table."""
        name = self.store.conversations
        if not name:
            raise ConnectorError(
                f"{self.name} names no conversations table (config.conversations)",
                permanent=True,
            )
        if identity.is_empty():
            return []
        table = self.store.table(name)
        ids: list[str] = []
        with self._session(write=False, doing="conversation ids") as connection:
            store_pass = self._pass(connection, identity)
            with self.dialect.converting(f"reading keys of table {name}"):
                for _, rows in store_pass.rows(table, [table.key], alone=True):
                    ids.extend(key for key, _ in json_rows(rows))
        return ids

    def access(self, identity: Identity) -> Iterator[AccessRecord]:
        if identity.is_empty():
            return
        with self._session(write=False, doing="access") as connection:
            store_pass = self._pass(connection, identity)
            for table in self.store.tables:
                location, category = table.table, table.category
                with self.dialect.converting(f"access to table {table.table}"):
                    for columns, rows in store_pass.rows(table, [], alone=True):
                        names = columns[1:]
                        for key, values in json_rows(rows):
                            yield AccessRecord(
                                location,
                                key,
                                dict(zip(names, values, strict=True)),
                                category,
                            )

    def erase(self, identity: Identity) -> ErasureReceipt:
        receipt = ErasureReceipt(kind=self.kind)
        if identity.is_empty():
            receipt.note = "no identifiers to match"
            return receipt
        with self._session(write=True, doing="erase") as connection:
            store_pass = self._pass(connection, identity)
            known = store_pass.known(identity)
            for table in self.store.children_first():
                with self.dialect.converting(f"erase in table {table.table}"):
                    store_pass.erase_table(table, known, receipt)
        # What it knew (the name, the phone as the store wrote it), which the
        # store no longer holds afterwards: the check looks for those too.
        receipt.known = known_as_receipt(known)
        return receipt

    def verify_erased(
        self, identity: Identity, receipt: ErasureReceipt | None = None
    ) -> Outcome:
        outcome = Outcome()
        if identity.is_empty():
            outcome.note = "no identifiers to match"
            return outcome
        with self._session(write=False, doing="verify erasure") as connection:
            store_pass = self._pass(connection, identity)
            known = store_pass.known(identity)
            if receipt is not None:
                known = known_from_receipt(receipt).including(known)
            for table in self.store.tables:
                with self.dialect.converting(f"verify erasure in table {table.table}"):
                    store_pass.verify_table(table, known, outcome)
        return outcome

    def match_data_points(
        self, identity: Identity, points: Mapping[str, str]
    ) -> dict[str, bool]:
        wanted = {kind: data_point_normalise(kind, v) for kind, v in points.items()}
        wanted = {kind: value for kind, value in wanted.items() if value}
        if identity.is_empty() or not wanted:
            return {}
        with self._session(write=False, doing="data point matching") as connection:
            store_pass = self._pass(connection, identity)
            return data_points_match(store_pass, self.store.tables, wanted)

    def rectify(self, identity: Identity, changes: Mapping[str, str]) -> Outcome:
        outcome = Outcome()
        if identity.is_empty() or not changes:
            outcome.note = "nothing to correct" if not changes else "no identifiers"
            return outcome
        applied: set[str] = set()
        with self._session(write=True, doing="rectify") as connection:
            store_pass = self._pass(connection, identity)
            for table in self.store.children_first():
                with self.dialect.converting(f"rectify in table {table.table}"):
                    done = rectify_table(
                        dialect=self.dialect,
                        connection=connection,
                        store_pass=store_pass,
                        table=table,
                        changes=changes,
                    )
                if done is not None:
                    found, changed, written = done
                    outcome.add(table.table, found=found, changed=changed)
                    applied.update(written)
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

    # -- retention ---------------------------------------------------------------
    def locations(self) -> tuple[Location, ...]:
        return tuple(
            Location(name=table.table, key=table.key, category=table.category)
            for table in self.store.tables
        )

    def purge(self, spec: PurgeSpec, held: HeldScope) -> SqlPurge:
        """A retention purge of one table of the map, batch by batch."""
        return SqlPurge(
            store=self.store,
            dialect=self.dialect,
            spec=spec,
            held=held,
            store_name=self.name,
            password=str(self.secrets.get("password") or ""),
        )

    # -- consent -------------------------------------------------------------------
    def withdraw_consent(self, job: WithdrawalJob) -> Outcome | Deferred:
        """Set a flag on, or delete, the subject's rows of one table."""
        try:
            action = action_clean(job.instructions, store=self.store)
        except ValidationFailed as error:
            raise ConnectorError(
                f"invalid action ({error.field}: {error.message})", permanent=True
            ) from error
        table = self.store.table(action.table)
        statement = withdrawal_statement(
            self.dialect, self.store, table, action, job.identity
        )
        if statement is None:
            return Outcome()  # none of the subject's identifiers reaches it
        sql, values = statement
        doing = f"withdrawal in table {table.table}"
        with self._session(write=True, doing=doing) as connection:
            # The session turns driver errors into ConnectorErrors that say
            # whether a retry can help, without the password.
            return Outcome(changed=self.dialect.execute(connection, sql, values))
