"""Which identity columns of a store no index serves, and the CREATE INDEX
that would (part of the sql kind's health check).

An identity column is matched through an expression (`query.match_expression`):
`lower(email)` for e-mails, a phone's digits, the column itself for customer
ids and `exact` columns. Only an index on that same expression turns the
match into a lookup; without one every request scans the whole table. That
works, only slowly, so it is a warning, never an error.
"""

from __future__ import annotations

from typing import Any

from connectors.base import HealthWarning
from connectors.kinds.sql.config import IdentityColumn, StoreMap
from connectors.kinds.sql.dialects import Dialect
from connectors.kinds.sql.query import match_expression

MAX_INDEX_NAME = 63  # PostgreSQL's limit; SQLite has none


def identity_index_warnings(
    dialect: Dialect, connection: Any, store: StoreMap
) -> list[HealthWarning]:
    """A warning per identity column whose match no index serves, each
    naming `table.column` and giving the statement to run."""
    warnings: list[HealthWarning] = []
    for table in store.tables:
        for column in table.identity:
            expression = match_expression(dialect, column)
            rule = table.rule(column.column)
            keyed_too = rule is not None and rule.strategy in ("hash", "pseudonymize")
            if keyed_too and column.kind == "phone" and not column.exact:
                # A phone erased to its keyed form is also matched as written.
                keyed = dialect.quote(column.column)
                if not dialect.match_served(connection, table.table, keyed):
                    warnings.append(
                        _missing(dialect, table.table, column, keyed, "idx")
                    )
            if dialect.match_served(connection, table.table, expression):
                continue
            where = f"{table.table}.{column.column}"
            exact_served = dialect.match_served(
                connection, table.table, dialect.quote(column.column)
            )
            if not column.exact and dialect.compares_without_case(
                connection, table.table, column.column
            ):
                warnings.append(_declare_exact(where, column, indexed=exact_served))
                continue
            warnings.append(
                _missing(dialect, table.table, column, expression, _suffix(column))
            )
    return warnings


def _missing(
    dialect: Dialect, table: str, column: IdentityColumn, expression: str, suffix: str
) -> HealthWarning:
    name = f"{table}_{column.column}_{suffix}"[:MAX_INDEX_NAME]
    return HealthWarning(
        message=f"{table}.{column.column}: no index serves the {column.kind} "
        f"match {expression}; each request scans the whole table",
        fix=dialect.index_statement(table, name, expression),
    )


def _declare_exact(
    where: str, column: IdentityColumn, *, indexed: bool
) -> HealthWarning:
    index = "its own index" if indexed else "an index on the column"
    return HealthWarning(
        message=f"{where} is citext, which compares without case: matched through "
        f"lower() it scans the whole table; declared exact it uses {index}",
        fix=f'"identity": {{"{column.kind}": {{"column": "{column.column}", '
        '"exact": true}}',
    )


def _suffix(column: IdentityColumn) -> str:
    if not column.exact and column.kind in ("email", "phone"):
        return "lower" if column.kind == "email" else "digits"
    return "idx"
