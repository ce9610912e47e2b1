"""Stores for the discovery tests: the demo helpdesk and the supportdesk,
each in a real SQLite file and in a real PostgreSQL database created for
the session on the test database's server (its public schema rebuilt for
every test)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.demo.content import StoreSize, customer
from connectors.demo.stores import build_postgres, build_sqlite
from tests.connectors.pg_scratch import scratch_database
from tests.connectors.supportdesk import SUBJECT_EMAIL, Supportdesk

DEMO_SIZE = StoreSize(customers=6)


@dataclass
class Target:
    """A built store: its DSN (no password), password, and how to read it."""

    shape: str  # helpdesk | supportdesk
    backend: str  # sqlite | postgresql
    dsn: str
    password: str = ""

    @property
    def dsn_with_password(self) -> str:
        if not self.password:
            return self.dsn
        scheme, rest = self.dsn.split("://", 1)
        user, host = rest.split("@", 1)
        return f"{scheme}://{user}:{self.password}@{host}"

    @property
    def subject_email(self) -> str:
        return customer(1).email if self.shape == "helpdesk" else SUBJECT_EMAIL

    def supportdesk(self) -> Supportdesk:
        return Supportdesk(self.backend, self.dsn, self.password)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return Supportdesk(self.backend, self.dsn, self.password).rows(sql)

    def execute(self, sql: str) -> None:
        Supportdesk(self.backend, self.dsn, self.password).execute(sql)


@pytest.fixture(scope="session")
def discovery_pg(worker_id: str) -> Iterator[tuple[str, str]]:
    """A PostgreSQL database of its own for discovery's stores."""
    with scratch_database("pd_test_discovery", worker_id) as database:
        yield database


def _fresh_schema(dsn: str, password: str) -> None:
    import psycopg

    with psycopg.connect(dsn, password=password or None, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def build_target(
    request: pytest.FixtureRequest, tmp_path: Path, shape: str, backend: str
) -> Target:
    if backend == "sqlite":
        path = tmp_path / f"{shape}.sqlite3"
        dsn, password = f"sqlite:///{path}", ""
        if shape == "supportdesk":
            sqlite3.connect(path).close()
    else:
        dsn, password = request.getfixturevalue("discovery_pg")
        _fresh_schema(dsn, password)
    target = Target(shape, backend, dsn, password)
    if shape == "helpdesk":
        if backend == "sqlite":
            build_sqlite(path, DEMO_SIZE)
        else:
            build_postgres(_with_password(dsn, password), DEMO_SIZE)
    else:
        target.supportdesk().build()
    return target


def _with_password(dsn: str, password: str) -> str:
    return Target("", "", dsn, password).dsn_with_password


@pytest.fixture(
    params=[
        ("helpdesk", "sqlite"),
        ("helpdesk", "postgresql"),
        ("supportdesk", "sqlite"),
        ("supportdesk", "postgresql"),
    ],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def discovery_store(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    shape, backend = request.param
    return build_target(request, tmp_path, shape, backend)
