"""The declarative map of an SQL store and its parsed form (`validation`
checks and parses it, `schema` describes it as JSON Schema).

A map names tables; each is reached from the subject either through identity
columns (e-mail, phone, customer id) or through a parent table (tickets of the
customer, messages of those tickets). Each table says how erasure treats it:
delete the rows, keep them (with a legal basis), or a per-column strategy.

    {"dsn": "postgresql://host/db" | "sqlite:///file.db" | "mysql://user@host/db",
     "batch_size": 1000, "connect_timeout": 10,        # optional
     "prepared_statements": true,   # optional; false behind a pooler that
                                    # cannot keep them (PostgreSQL only)
     "conversations": "tickets",    # optional: a table of the map whose keys
                                    # are the subject's conversation ids (for
                                    # a vector store linking to this one)
     "tables": [{
       "table": "customers", "key": "id",              # key defaults to "id"
       "category": "contact",                          # defaults to the table
       "identity": {"email": "email", "phone": "phone",
                    "customer_id": {"column": "crm_id", "system": "crm"}},
                   # or {"column": "email", "exact": true}: matched as written
       "parent": {"table": "...", "column": "customer_id",
                  "references": "id"},                 # the parent's key
       "erase": "delete" | "keep" | {"column": STRATEGY, ...},
       "basis": "GDPR 17(3)(b)", "reason": "...",      # for a kept table
       "name_column": "name",          # the subject's name, fed to redaction
       "restrict_column": "restricted", "objection_column": "objected",
       "rectify": {"full_name": "name"},                # request field -> column
       "data_points": {"postal_code": "zip"}  # verification: kind -> column
     }]}

STRATEGY is "null", "mask", "hash", "pseudonymize", "redact_pii" or "keep",
or {"strategy": ..., "basis": ..., "reason": ..., "value": "***" (mask)}.
Identity columns need a strategy (keep them with a basis if they must stay);
a table whose parent is deleted must be deleted too or detached (its parent
column set to "null"). The password never goes in the DSN: it is the
connector's secret `password`.

Identity columns match case-insensitively (e-mail) or ignoring separators
(phone), which an ordinary index cannot serve; on a large table an index on
the same expression (e.g. `lower(email)`) turns that scan into a lookup, and
the health check names every identity column of a PostgreSQL store that has
none, with the CREATE INDEX to run. An identity declared `"exact": true` is
matched as written (`email IN (...)`) and uses the column's own index: for a
store that writes it in one case, or a citext column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
IDENTITY_KINDS = ("email", "phone", "customer_id")
FIELD_STRATEGIES = ("null", "mask", "hash", "pseudonymize", "redact_pii", "keep")
ROW_STRATEGIES = ("delete", "keep")
SCHEMES = ("postgresql", "postgres", "sqlite", "mysql", "mariadb")
TABLE_KEYS = {
    "table",
    "key",
    "category",
    "identity",
    "parent",
    "erase",
    "basis",
    "reason",
    "name_column",
    "restrict_column",
    "objection_column",
    "rectify",
    "data_points",
}
TOP_KEYS = {
    "dsn",
    "tables",
    "batch_size",
    "connect_timeout",
    "prepared_statements",
    "conversations",
}
DEFAULT_MASK = "***"


@dataclass(frozen=True)
class FieldRule:
    """How erasure treats one column."""

    column: str
    strategy: str
    basis: str = ""
    reason: str = ""
    mask: str = DEFAULT_MASK


@dataclass(frozen=True)
class IdentityColumn:
    """A column that holds one of the subject's identifiers."""

    kind: str  # email | phone | customer_id
    column: str
    system: str = ""  # customer ids: the system that issued them ("" = any)
    # Matched as written (`column IN (...)`), which the column's ordinary
    # index serves: the store writes this identifier in one form (e-mails in
    # lower case, phones as digits) or compares without case itself (citext,
    # a MariaDB *_ci collation). Otherwise e-mails match `lower(column)` and
    # phones their digits, which only an index on that expression serves.
    exact: bool = False


@dataclass(frozen=True)
class ParentLink:
    """This table's rows belong to rows of `table` through `column`."""

    table: str
    column: str
    references: str


@dataclass(frozen=True)
class TableMap:
    """One table of the map, parsed."""

    table: str
    key: str
    category: str
    identity: tuple[IdentityColumn, ...] = ()
    parent: ParentLink | None = None
    row_strategy: str = ""  # delete | keep | "" (per-column rules)
    rules: tuple[FieldRule, ...] = ()
    basis: str = ""
    reason: str = ""
    name_column: str = ""
    restrict_column: str = ""
    objection_column: str = ""
    rectify: tuple[tuple[str, str], ...] = ()
    # Data point kind (connectors.data_points) -> the column that holds it,
    # for verifying a requester (CCPA-REG §7062).
    data_points: tuple[tuple[str, str], ...] = ()

    def rule(self, column: str) -> FieldRule | None:
        return next((r for r in self.rules if r.column == column), None)

    def identity_kind(self, column: str) -> str:
        return next((i.kind for i in self.identity if i.column == column), "")

    def columns(self) -> set[str]:
        """Every column the map relies on (for the health check)."""
        names = {self.key, *(i.column for i in self.identity)}
        names.update(r.column for r in self.rules)
        names.update(c for _, c in self.rectify)
        names.update(c for _, c in self.data_points)
        if self.parent:
            names.add(self.parent.column)
        for extra in (self.name_column, self.restrict_column, self.objection_column):
            if extra:
                names.add(extra)
        return names


@dataclass(frozen=True)
class StoreMap:
    """The whole map of one store."""

    dsn: str
    tables: tuple[TableMap, ...]
    batch_size: int = 1000
    connect_timeout: int = 10
    prepared_statements: bool = True
    # The table whose rows are the subject's conversations (their keys are
    # what `conversation_ids` lists for a store linking to this one); "" none.
    conversations: str = ""
    _by_name: dict[str, TableMap] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({t.table: t for t in self.tables})

    def table(self, name: str) -> TableMap:
        return self._by_name[name]

    def depth(self, table: TableMap) -> int:
        depth = 0
        while table.parent is not None:
            table = self.table(table.parent.table)
            depth += 1
        return depth

    def children_first(self) -> list[TableMap]:
        """Tables ordered so that children come before their parents: rows are
        deleted or detached before the rows they belong to change or go."""
        order = sorted(
            enumerate(self.tables), key=lambda item: (-self.depth(item[1]), item[0])
        )
        return [table for _, table in order]


def rectify_map(table: TableMap, columns: set[str]) -> Mapping[str, str]:
    """Request field -> column for rectification in this table."""
    if table.rectify:
        return dict(table.rectify)
    locked = {
        table.key,
        table.parent.column if table.parent else "",
        table.restrict_column,
        table.objection_column,
    }
    return {name: name for name in columns if name not in locked}
