"""A policy's schedule fires under a real `celery beat` and a real worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from connectors.demo.content import StoreSize
from connectors.demo.stores import build_sqlite
from retention.choices import RunStatus
from retention.models import PurgeRun, RetentionPolicy
from tests.integration.conftest import ROOT, WorkerProcess, wait_for
from tests.retention.conftest import Helpdesk, make_connector, make_policy

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'",
        reason="beat and the worker share the test database",
    ),
]


class BeatProcess:
    """One `celery beat` process on django-celery-beat's DatabaseScheduler."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "privacydesk",
                "beat",
                "--loglevel",
                "INFO",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--max-interval",
                "1",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "beat: Starting" in self.log_path.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"beat did not start:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def beat(worker: WorkerProcess, tmp_path: Path) -> Iterator[BeatProcess]:
    process = BeatProcess(worker.env, tmp_path / "beat.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def store(tmp_path: Path) -> Helpdesk:
    path = tmp_path / "helpdesk.db"
    build_sqlite(path, StoreSize(customers=30, tickets_per_customer=2))
    return Helpdesk("sqlite", f"sqlite:///{path}")


def test_a_policy_runs_on_its_schedule_under_beat(
    transactional_db: Any, store: Helpdesk, request: pytest.FixtureRequest
) -> None:
    # given a policy whose real runs an officer confirmed once (until then
    # beat only dry-runs it), and whose schedule staff set to every two seconds
    policy = make_policy(make_connector(store), batch_size=10)
    RetentionPolicy.objects.filter(pk=policy.pk).update(
        real_runs_confirmed_at=timezone.now(), real_runs_confirmed_by="user:1"
    )
    every_two, _ = IntervalSchedule.objects.get_or_create(
        every=2, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.filter(pk=policy.periodic_task_id).update(
        interval=every_two, crontab=None
    )
    tickets = store.value("SELECT COUNT(*) FROM tickets")

    # when beat and a worker run
    request.getfixturevalue("beat")

    # then a run appears, started by beat, and it purged the store
    run = wait_for(
        lambda: PurgeRun.objects.filter(
            policy=policy, status=RunStatus.SUCCEEDED
        ).first(),
        timeout=60,
        what="a purge run started by beat",
    )
    assert run.triggered_by == "system:beat"
    assert not run.dry_run
    deleted = run.tables["tickets"]["changed"]
    assert deleted > 0
    assert store.value("SELECT COUNT(*) FROM tickets") == tickets - deleted
