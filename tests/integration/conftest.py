"""A real Celery worker process against the test PostgreSQL database and Redis.

The worker runs `privacydesk.settings` (not the eager test settings) with the
test database's name and its own Redis database number, so parallel test
workers never share a queue.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

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
            if "ready." in self.log_path.read_text(errors="replace"):
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


@pytest.fixture
def broker_url() -> Iterator[str]:
    import redis

    # The Redis server the suite was given (REDIS_URL), else the local one.
    server = (os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0").rsplit("/", 1)
    url = f"{server[0]}/{_redis_db()}"
    redis.Redis.from_url(url).flushdb()
    eager = celery_app.conf.task_always_eager
    _use_broker(url)
    yield url
    _use_broker(settings.CELERY_BROKER_URL)
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def worker(
    transactional_db, broker_url: str, mail_dir: Path, tmp_path: Path
) -> Iterator[WorkerProcess]:
    db = connection.settings_dict
    user = db.get("USER") or ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "privacydesk.settings",
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{db['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PRIVACYDESK_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # shared with the test process
        # persistent connections, as .env.example sets for production
        "DATABASE_CONN_MAX_AGE": "60",
        # fast retries, few attempts: tests wait for them
        "TASK_MAX_ATTEMPTS": "3",
        "TASK_RETRY_BASE_SECONDS": "1",
        "TASK_RETRY_MAX_SECONDS": "2",
    }
    process = WorkerProcess(env, tmp_path / "worker.log")
    process.start()
    yield process
    process.stop()


def wait_for(condition, *, timeout: float = 30, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `condition()` until it returns something truthy (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
