"""PostgreSQL store connections kept open between actions in one process."""

from __future__ import annotations

import os

import pytest

from connectors.base import ConnectorError
from connectors.kinds.sql.dialects import Postgres, Sqlite, dialect_for


def _session(dialect: Postgres, password: str, *, write: bool):  # type: ignore[no-untyped-def]
    return dialect.session(password=password, timeout=5, write=write, doing="test")


def test_the_next_action_reuses_a_committed_connection(postgres_store_dsn) -> None:
    dsn, password = postgres_store_dsn
    dialect = Postgres(dsn)
    # given a read-only action that ran to its end
    with _session(dialect, password, write=False) as first:
        backend = first.info.backend_pid
        assert first.read_only is True
    # when a write action follows in the same process
    with _session(Postgres(dsn), password, write=True) as second:
        # then it runs on the same server session, with the defaults of a
        # write (no read-only snapshot carried over)
        assert second.info.backend_pid == backend
        assert second.read_only is None
        assert second.isolation_level is None


def test_a_failed_action_closes_its_connection(postgres_store_dsn) -> None:
    dsn, password = postgres_store_dsn
    dialect = Postgres(dsn)
    used: list = []  # type: ignore[type-arg]

    def failing_action() -> None:
        with _session(dialect, password, write=True) as connection:
            used.append(connection)
            connection.execute("SELECT * FROM no_such_table")

    with pytest.raises(ConnectorError):
        failing_action()
    assert used[0].closed
    with _session(dialect, password, write=False) as fresh:
        assert fresh is not used[0]


def test_a_reader_that_stops_early_does_not_hand_its_transaction_on(
    postgres_store_dsn,
) -> None:
    dsn, password = postgres_store_dsn
    dialect = Postgres(dsn)

    def rows():  # type: ignore[no-untyped-def]
        with _session(dialect, password, write=False) as connection:
            yield connection
            yield connection

    reader = rows()
    abandoned = next(reader)
    reader.close()  # GeneratorExit inside the session
    assert abandoned.closed


def test_a_forked_child_opens_its_own_connection(postgres_store_dsn) -> None:
    dsn, password = postgres_store_dsn
    dialect = Postgres(dsn)
    with _session(dialect, password, write=False) as parent:
        backend = parent.info.backend_pid
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            with _session(dialect, password, write=False) as own:
                os.write(write, str(own.info.backend_pid).encode())
        finally:
            os._exit(0)
    os.close(write)
    child_backend = int(os.read(read, 32).decode() or 0)
    os.waitpid(child, 0)
    assert child_backend
    assert child_backend != backend
    # and the parent's kept connection still works
    with _session(dialect, password, write=False) as again:
        assert again.info.backend_pid == backend
        assert again.execute("SELECT 1").fetchone() == (1,)


def test_sqlite_connections_are_not_kept(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "store.db"
    sqlite3.connect(path).close()
    dialect = Sqlite(f"sqlite:///{path}")
    with dialect.session(password="", timeout=5, write=False, doing="t") as first:
        pass
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")  # closed


def _notes_store(dsn: str, password: str):  # type: ignore[no-untyped-def]
    """A one-table store, and a function that changes its schema."""
    import psycopg

    def admin(sql: str) -> None:
        with psycopg.connect(dsn, password=password or None, autocommit=True) as c:
            c.execute(sql)

    admin("DROP TABLE IF EXISTS notes")  # the store outlives one test
    admin("CREATE TABLE notes (id int PRIMARY KEY, body varchar(20))")
    admin("INSERT INTO notes VALUES (1, 'hello')")
    return admin


def _reader(dialect: Postgres, password: str):  # type: ignore[no-untyped-def]
    def read() -> list:  # type: ignore[type-arg]
        with _session(dialect, password, write=False) as connection:
            return dialect.fetch(
                connection, "SELECT body FROM notes WHERE id = %s", [1]
            )

    return read


def test_a_schema_change_under_a_prepared_query_costs_one_retry(
    postgres_store_dsn,
) -> None:
    dsn, password = postgres_store_dsn
    admin = _notes_store(dsn, password)
    read = _reader(Postgres(dsn), password)
    # given a kept connection that has prepared the query (its second use)
    assert read() == [("hello",)]
    assert read() == [("hello",)]
    # when the store changes the type the query returns
    admin("ALTER TABLE notes ALTER COLUMN body TYPE text")
    # then the next action fails, saying that a retry can help
    with pytest.raises(ConnectorError, match="FeatureNotSupported") as failed:
        read()
    assert not failed.value.permanent
    # and the retry, on a fresh connection, reads the table again
    assert read() == [("hello",)]


def test_a_store_can_say_no_to_prepared_statements(postgres_store_dsn) -> None:
    dsn, password = postgres_store_dsn
    admin = _notes_store(dsn, password)
    # given a map with "prepared_statements": false
    dialect = dialect_for(dsn, prepared_statements=False)
    read = _reader(dialect, password)
    assert read() == [("hello",)]
    with _session(dialect, password, write=False) as connection:
        kept = connection.info.backend_pid
    # when the schema changes under the kept connection
    admin("ALTER TABLE notes ALTER COLUMN body TYPE text")
    # then nothing was prepared, so the same connection reads on
    assert read() == [("hello",)]
    with _session(dialect, password, write=False) as connection:
        assert connection.info.backend_pid == kept
