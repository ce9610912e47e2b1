"""Our `opendsr` connector kind (the controller) against our OpenDSR door
(the processor), each a real Privacy Desk: the processor is a separate
`manage.py runserver` process with its own SQLite database and a support
store of its own; the controller is this test's database behind
live_server, where the processor's callbacks arrive.

The controller files an erasure; its connector reads the processor's
discovery, forwards the request, verifies the signed receipt; the processor
erases its customer, calls back signed; the controller's task and request
complete, and the processor's own store no longer holds the customer.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from accounts.actors import actor_system
from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize, customer
from connectors.demo.stores import build_sqlite
from connectors.kinds.opendsr import subject_request_id_for
from connectors.models import Connector
from dsr.choices import RequestStatus, TaskStatus
from dsr.models import Request, RequestTask
from dsr.services.requests import request_create
from tests.disclosure import DISCLOSURE

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@dataclass
class Processor:
    url: str
    token: str
    store: Path
    log: Path

    def get(self, path: str) -> Any:
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def processor(tmp_path: Path) -> Iterator[Processor]:
    port = _free_port()
    var = tmp_path / "processor"
    var.mkdir()
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="privacydesk.settings",
        PRIVACYDESK_VAR_DIR=str(var),
        SITE_URL=f"http://127.0.0.1:{port}",
        # no worker in this test: the processor works each request at once
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    _manage(env, "migrate", "--noinput")
    out = _manage(
        env,
        "create_api_client",
        "controller",
        "--scopes",
        "opendsr:submit,connectors:write",
    )
    token = out.strip().splitlines()[-1]
    store = var / "helpdesk.sqlite3"
    build_sqlite(store, StoreSize(customers=3, tickets_per_customer=2))
    log = tmp_path / "processor.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                f"127.0.0.1:{port}",
                "--noreload",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    processor = Processor(f"http://127.0.0.1:{port}", token, store, log)
    try:
        _wait_up(processor, server)
        _post(
            processor,
            "/api/v1/connectors/",
            {
                "name": "helpdesk",
                "kind": "sql",
                "config": {"dsn": f"sqlite:///{store}", "tables": SQL_CONNECTOR_TABLES},
                "data_categories": ["contact"],
                "disclosure": DISCLOSURE,
            },
        )
        yield processor
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def _wait_up(processor: Processor, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(processor.log.read_text()[-3000:])
        try:
            with urllib.request.urlopen(processor.url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the processor did not start:\n" + processor.log.read_text()[-3000:])


def _post(processor: Processor, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        processor.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {processor.token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _holds(store: Path, email: str) -> int:
    with sqlite3.connect(store) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM customers WHERE email = ?", (email,)
        ).fetchone()
    return int(count)


def test_an_erasure_forwarded_over_opendsr_completes_on_both_sides(
    processor: Processor, live_server: Any, settings: Any
) -> None:
    # given the controller's connector pointed at the processor
    settings.SITE_URL = live_server.url  # where the processor calls back
    Connector.objects.create(
        name="partner-processor",
        kind="opendsr",
        config={
            "base_url": f"{processor.url}/opendsr/v1",
            "processor_domain": "127.0.0.1",
            "timeout_seconds": 60,
        },
        secrets={"token": processor.token},
        data_categories=["contact"],
        disclosure=DISCLOSURE,
    )
    email = customer(2).email
    assert _holds(processor.store, email) == 1

    # when the controller takes an erasure in (work runs at commit, eagerly)
    request = request_create(
        actor=actor_system("tests"),
        kind="erasure",
        regime="gdpr",
        channel="api",
        identity={"email": email},
        verified=True,
    )

    # then the processor erased its customer and told us so, signed
    task = RequestTask.objects.get(request=request, action="erase")
    assert task.status == TaskStatus.SUCCEEDED, (task.status, task.last_error)
    # completed by the processor's callback (a poll waits for its date)
    assert task.status_note == "partner-processor reports completed"
    verify = RequestTask.objects.filter(request=request, action="verify_erasure")
    assert [t.status for t in verify] in ([], [TaskStatus.SUCCEEDED])
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert _holds(processor.store, email) == 0
    theirs = processor.get(
        f"/opendsr/v1/requests/{subject_request_id_for(str(task.public_id))}"
    )
    assert theirs["request_status"] == "completed"
    assert Request.objects.count() == 1  # nothing came back to us as a request
