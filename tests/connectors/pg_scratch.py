"""A PostgreSQL database of a test's own on the test server, for a store a
connector reads (a CRM, a helpdesk): made fresh, dropped at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


def _postgres_server() -> dict[str, Any] | None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"]:
        return None
    return {
        "host": database.get("HOST") or "localhost",
        "port": int(database.get("PORT") or 5432),
        "user": database.get("USER") or "postgres",
        "password": database.get("PASSWORD") or "",
    }


@contextmanager
def scratch_database(prefix: str, worker_id: str) -> Iterator[tuple[str, str]]:
    """(dsn without the password, password) of a new database named after
    `prefix`, the xdist worker and the process; skipped off PostgreSQL."""
    server = _postgres_server()
    if server is None:
        pytest.skip("the test database is not PostgreSQL")
    import psycopg
    from psycopg import sql

    name = f"{prefix}_{worker_id}_{os.getpid()}"
    admin = psycopg.connect(
        dbname="postgres",
        host=server["host"],
        port=server["port"],
        user=server["user"],
        password=server["password"] or None,
        autocommit=True,
    )
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = f"postgresql://{server['user']}@{server['host']}:{server['port']}/{name}"
    try:
        yield dsn, server["password"]
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        admin.close()
