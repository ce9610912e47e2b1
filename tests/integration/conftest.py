"""A real Celery worker process against the test PostgreSQL database and Redis.

The worker runs `privacydesk.settings` (not the eager test settings) with the
test database's name and its own Redis database number, so parallel test
workers never share a queue. A module's tests share one worker process (it
takes seconds to start); after each test it is settled as its warm shutdown
would leave things: queued and countdown messages dropped, running tasks
finished.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from bench._common import broker_busy
from privacydesk.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def _redis_db() -> int:
    # gw0 -> 1, gw1 -> 2, ...; 0 is left to people running the service.
    # TEST_REDIS_DB_BASE moves the range, so two suites can share one Redis.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    base = int(os.environ.get("TEST_REDIS_DB_BASE", "1"))
    return base + int(worker.removeprefix("gw") or 0)


class WorkerProcess:
    """Start, stop and kill one `celery worker` process."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, concurrency: int = 2) -> None:
        # the log is appended to: only what this start writes counts
        before = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "privacydesk",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self.log_path.open("rb") as written:
                written.seek(before)
                if b"ready." in written.read():
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(
            f"worker did not start:\n{self.log_path.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL the whole process group, as an out-of-memory killer would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _use_broker(url: str) -> None:
    """Point this process's Celery app at `url` and stop running tasks eagerly."""
    from kombu import pools

    pools.reset()  # kombu keeps producer pools per connection, process-wide
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False


def _broker_url() -> str:
    # The Redis server the suite was given (REDIS_URL), else the local one.
    server = (os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0").rsplit("/", 1)
    return f"{server[0]}/{_redis_db()}"


class SharedWorker:
    """The worker process one test module's tests share, started by the
    first that asks for it (a worker starting takes seconds: every app, the
    redaction engines and the PDF library are loaded before the fork)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.mail_dir = folder / "mail"
        self.process: WorkerProcess | None = None
        self.pid = 0  # of the process the running test was given

    @property
    def running(self) -> bool:
        process = self.process and self.process.process
        return bool(process and process.poll() is None)

    def get(self, db: dict[str, Any], broker_url: str) -> WorkerProcess:
        if self.process is None:
            self.mail_dir.mkdir(exist_ok=True)
            self.process = WorkerProcess(
                _worker_env(db, broker_url, self.mail_dir, self.folder / "var"),
                self.folder / "worker.log",
            )
        if not self.running:
            self.process.start()
        assert self.process.process is not None
        self.pid = self.process.process.pid
        return self.process

    def settle(self, broker_url: str) -> None:
        """Leave the worker as a fresh one would be for the next test, as
        its warm shutdown did: what the test left queued or held for a
        countdown is dropped, what is running finishes. A worker the test
        restarted (or that is still busy after 20 s) is stopped instead,
        with the broker flushed, and the next test starts a new one."""
        import redis

        broker = redis.Redis.from_url(broker_url)
        deadline = time.monotonic() + 20
        quiet = 0
        while self._same_process() and time.monotonic() < deadline:
            for key in broker.scan_iter(match="celery*"):
                if broker.type(key) == b"list":
                    broker.delete(key)
            _drop_held_for_later(broker)
            if broker_busy(broker_url) == (0, 0):
                quiet += 1
                if quiet == 2:  # twice, 50 ms apart: nothing came in between
                    return
            else:
                quiet = 0
            time.sleep(0.05)
        self.stop()
        broker.flushdb()

    def _same_process(self) -> bool:
        process = self.process and self.process.process
        return self.running and process is not None and process.pid == self.pid

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def _drop_held_for_later(broker: Any) -> None:
    """Revoke the messages the worker holds for a countdown not yet due
    (a retry, an evidence pack yielding), and forget them in the broker."""
    later = time.time() + 1
    held: dict[bytes, str] = {}
    for tag, raw in broker.hgetall("unacked").items():
        headers = json.loads(raw)[0].get("headers", {})
        eta = headers.get("eta")
        if eta and datetime.fromisoformat(eta).timestamp() > later:
            held[tag] = headers["id"]
    if held:
        celery_app.control.revoke(list(held.values()))
        broker.hdel("unacked", *held)
        broker.zrem("unacked_index", *held)


@pytest.fixture(scope="module")
def shared_worker(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SharedWorker]:
    shared = SharedWorker(tmp_path_factory.mktemp("worker"))
    yield shared
    shared.stop()


@pytest.fixture
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    import redis

    url = _broker_url()
    if "worker" not in request.fixturenames:
        # no worker for this test: the module's (if any) must not take
        # what the test enqueues
        request.getfixturevalue("shared_worker").stop()
    if "worker" not in request.fixturenames or not _worker_alive(request):
        redis.Redis.from_url(url).flushdb()
    eager = celery_app.conf.task_always_eager
    _use_broker(url)
    yield url
    _use_broker(settings.CELERY_BROKER_URL)
    celery_app.conf.task_always_eager = eager


def _worker_alive(request: pytest.FixtureRequest) -> bool:
    return bool(request.getfixturevalue("shared_worker").running)


@pytest.fixture
def mail_dir(shared_worker: SharedWorker) -> Path:
    """Where the module's worker writes e-mail; empty when the test starts."""
    shared_worker.mail_dir.mkdir(exist_ok=True)
    for path in shared_worker.mail_dir.iterdir():
        path.unlink()
    return shared_worker.mail_dir


def _worker_env(
    db: dict[str, Any], broker_url: str, mail_dir: Path, var_dir: Path
) -> dict[str, str]:
    user = db.get("USER") or ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "privacydesk.settings",
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{db['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PRIVACYDESK_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # shared with the test process
        # persistent connections, as .env.example sets for production
        "DATABASE_CONN_MAX_AGE": "60",
        # fast retries, few attempts: tests wait for them
        "TASK_MAX_ATTEMPTS": "3",
        "TASK_RETRY_BASE_SECONDS": "1",
        "TASK_RETRY_MAX_SECONDS": "2",
    }


@pytest.fixture
def worker(
    transactional_db, broker_url: str, mail_dir: Path, shared_worker: SharedWorker
) -> Iterator[WorkerProcess]:
    """The module's worker, running (started again if a test stopped or
    killed it), on this test's database and broker; settled after the test
    so the next one starts as on a fresh worker."""
    process = shared_worker.get(connection.settings_dict, broker_url)
    yield process
    shared_worker.settle(broker_url)


_MESSAGE_END = b"\n" + b"-" * 79 + b"\n"


def mail_sent(mail_dir: Path) -> list[str]:
    """The e-mails the worker has finished writing, one string each.

    Django's file backend ends each message with a line of 79 dashes (a
    file read before that holds a message still being written) and names
    a file by the second and its backend object's id: two pool processes
    forked alike can write to one file in the same second."""
    messages: list[str] = []
    for path in sorted(mail_dir.glob("*.log")):
        finished = path.read_bytes().split(_MESSAGE_END)[:-1]
        messages += [message.decode() for message in finished]
    return messages


def wait_for(condition, *, timeout: float = 30, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `condition()` until it returns something truthy (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
