"""The web server as `make run` and the container start it (privacydesk.web:
granian), serving the test database: the site and the API answer, an API
client's connection stays open between calls, a worker that dies is
replaced, and SIGTERM stops every process."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from accounts.actors import actor_system
from audit.accounts import api_client_create
from consent.seed import seed_purposes
from privacydesk.web import web_command
from tests.integration.conftest import ROOT, _broker_url, _worker_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path):
        self.process, self.port, self.log = process, port, log

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def workers(self) -> list[int]:
        pid = self.process.pid
        path = Path(f"/proc/{pid}/task/{pid}/children")
        try:
            return [int(child) for child in path.read_text().split()]
        except OSError:
            return []

    def healthy(self) -> bool:
        try:
            conn = self.connection()
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            document = json.loads(response.read())
        except (OSError, ValueError):
            return False
        return response.status == 200 and document["status"] == "ok"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    import redis

    port = _free_port()
    log = tmp_path / "web.log"
    env = _worker_env(
        connection.settings_dict, "memory://", tmp_path / "mail", tmp_path / "var"
    )
    env["REDIS_URL"] = _broker_url()  # this test worker's own Redis database
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    # one file where `make run`'s collectstatic puts them (all take 15 s)
    css = ROOT / "static" / "css" / "dashboard.css"
    collected = tmp_path / "var" / "static" / "css"
    collected.mkdir(parents=True)
    (collected / css.name).write_bytes(css.read_bytes())
    with log.open("ab") as out:
        process = subprocess.Popen(
            web_command(host="127.0.0.1", port=port, workers=2),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Server(process, port, log)
    try:
        try:
            wait_for(running.healthy, timeout=60, what="/healthz")
        except AssertionError as error:
            log_text = log.read_text()
            raise AssertionError(f"{error}; the server said:\n{log_text}") from error
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone in all but name
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def test_api_calls_share_one_kept_alive_connection(server: Server) -> None:
    seed_purposes()
    _, token = api_client_create(
        actor=actor_system("test"), name="web-server", scopes=["consent:check"]
    )
    auth = {"Authorization": f"Bearer {token}"}
    conn = server.connection()
    conn.request("GET", "/api/v1/consent/ping/", headers=auth)
    first = conn.getresponse()
    assert first.status == 200
    first.read()
    assert not first.will_close
    opened = conn.sock
    body = json.dumps(
        {"identity": {"email": "kept@example.com"}, "purpose": "marketing_email"}
    )
    conn.request(
        "POST",
        "/api/v1/consent/check/",
        body=body,
        headers={**auth, "Content-Type": "application/json"},
    )
    second = conn.getresponse()
    answer = json.loads(second.read())
    assert second.status == 200, answer
    assert answer["purpose"] == "marketing_email"
    assert answer["allowed"] is False  # nothing on record for this address
    assert conn.sock is opened  # the same connection, not a new one


def test_the_site_and_its_static_files_are_served(server: Server) -> None:
    conn = server.connection()
    conn.request("GET", "/dashboard/")
    page = conn.getresponse()
    page.read()
    assert page.status == 302  # to the sign-in page
    conn.request("GET", page.headers["Location"])
    sign_in = conn.getresponse()
    assert sign_in.status == 200
    assert b"<form" in sign_in.read()
    conn.request("GET", "/static/css/dashboard.css")  # WhiteNoise's file response
    static = conn.getresponse()
    assert static.status == 200
    css = ROOT / "static" / "css" / "dashboard.css"
    assert static.read() == css.read_bytes()


def test_a_dead_worker_is_replaced(server: Server) -> None:
    before = server.workers()
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    wait_for(
        lambda: len(server.workers()) == 2 and before[0] not in server.workers(),
        timeout=30,
        what="a new worker",
    )
    wait_for(server.healthy, timeout=30, what="answers after the respawn")


def test_sigterm_stops_every_process(server: Server) -> None:
    workers = server.workers()
    assert len(workers) == 2
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)  # to the main process, as the launcher
    assert server.process.wait(timeout=20) == 0
    assert time.monotonic() - started < 15
    wait_for(
        lambda: not any(_pid_alive(pid) for pid in workers),
        timeout=10,
        what="the workers to exit",
    )
