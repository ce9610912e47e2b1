"""Hot statements run as statements prepared once per connection.

On PostgreSQL a small query's parsing and planning cost more than running
it, and Django's cursors bind client-side and never prepare; around one
small statement psycopg's cursor machinery also costs the worker more than
the blocking call into libpq does. So the hottest statements (the consent
check's miss, the masking gateway's turn) are prepared once per connection
and run through psycopg's libpq layer. Django still checks the transaction
and translates errors (an IntegrityError is Django's). Django's own cursor
runs them elsewhere: on other databases, when queries are being logged
(DEBUG, query-counting tests), and with DATABASE_PREPARED_STATEMENTS off (a
pooler in transaction mode cannot keep prepared statements).

Parameters are sent as text (`str(value)`; None is NULL). Rows come back
typed on both paths, by the connection's loaders (Django's cursor is
typed as well; SQLite's types may differ: booleans as 0/1, timestamps
naive or as text).
"""

from __future__ import annotations

import itertools
import re
import threading
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import pq
from psycopg.adapt import Transformer

# The statements prepared on this thread's PostgreSQL connection.
_statements = threading.local()
_statement_numbers = itertools.count()


def prepared_rows(sql: str, params: list[Any], *, name: str) -> list[tuple[Any, ...]]:
    """The rows of `sql` (`%s` placeholders); `name` prefixes the prepared
    statement's name (`<name>_<n>`)."""
    return _run(sql, params, name, rows=True)


def prepared_execute(sql: str, params: list[Any], *, name: str) -> None:
    """Run `sql`, a statement returning no rows (an INSERT)."""
    _run(sql, params, name, rows=False)


def _run(
    sql: str, params: list[Any], name: str, *, rows: bool
) -> list[tuple[Any, ...]]:
    db = connections[DEFAULT_DB_ALIAS]  # one lookup, not one per attribute
    if (
        db.vendor == "postgresql"
        and settings.DATABASE_PREPARED_STATEMENTS
        and not db.queries_logged
    ):
        db.ensure_connection()
        db.validate_no_broken_transaction()
        expected = pq.ExecStatus.TUPLES_OK if rows else pq.ExecStatus.COMMAND_OK
        with db.wrap_database_errors:
            result = _exec(db.connection.pgconn, sql, params, name, expected)
        if not result.ntuples:
            return []
        # Typed by the connection's loaders (Django's among them), in C: a
        # long conversation's masking turn reads hundreds of cells.
        loader = Transformer(db.connection)
        loader.set_pgresult(result)
        return loader.load_rows(0, result.ntuples, tuple)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if rows else []


def _exec(
    pgconn: Any, sql: str, params: list[Any], name: str, expected: pq.ExecStatus
) -> Any:
    if getattr(_statements, "pgconn", None) is not pgconn:  # new, or reconnected
        _statements.pgconn, _statements.names = pgconn, {}
    values = [None if value is None else str(value).encode() for value in params]
    result = pgconn.exec_prepared(_statement(pgconn, sql, name), values)
    if result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000":
        # Gone from the server (a pooler's reset, DEALLOCATE): prepare it
        # again, at once outside a transaction, else on the next call.
        _statements.names.clear()
        if pgconn.transaction_status == pq.TransactionStatus.IDLE:
            result = pgconn.exec_prepared(_statement(pgconn, sql, name), values)
    _check_result(result, expected)
    return result


def _statement(pgconn: Any, sql: str, prefix: str) -> bytes:
    name = _statements.names.get(sql)
    if name is None:
        name = f"{prefix}_{next(_statement_numbers)}".encode()
        numbered = iter(range(1, sql.count("%s") + 1))
        text = re.sub("%s", lambda _: f"${next(numbered)}", sql)
        _check_result(pgconn.prepare(name, text.encode()), pq.ExecStatus.COMMAND_OK)
        _statements.names[sql] = name
    return name


def _check_result(result: Any, expected: pq.ExecStatus) -> None:
    if result.status != expected:
        raise psycopg.errors.error_from_result(result)
