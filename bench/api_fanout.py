"""Benchmark: access and erasure fan-out through the public API (issue 12).

fanout.py measures from inside (requests created before the clock, verified
by service calls). This one measures from where a CRM integrator stands:

1. Databases (PostgreSQL, `BENCH_PG_URL`): `privacydesk_bench_api`,
   Privacy Desk's own, dropped, created and migrated at every run; the
   helpdesk store template fanout.py builds (`pd_bench_store_tpl_<n>`, built
   once with COPY, shared with fanout.py) copied fresh into
   `pd_bench_store_api`. One enabled sql connector `helpdesk`: the issue's
   redaction map first, then the null plan (as in fanout.py).
2. Processes, all on 127.0.0.1: the server (`privacydesk.web`: granian,
   2 workers, a free port) and one `celery worker --pool prefork
   --concurrency 2`, both with `DATABASE_CONN_MAX_AGE=60` and Redis database
   13 (`BENCH_API_REDIS_URL`; broker and cache; flushed at the start).
3. An API client (scopes requests:read, requests:write and requests:verify:
   `"verified": true` on create needs the last) POSTs already-verified
   requests to `/api/v1/requests/`, each for a different customer, from 8
   client threads (one connection per call, as a CRM's job would open).
   When every POST of a batch has been answered, each thread polls the
   URL of each of its requests (`GET /api/v1/requests/<id>/`) every 0.1 s
   until it is terminal. Waiting for
   the last POST before polling keeps the submission window free of polls,
   so the web CPU in it is the intake's alone.
4. Measures:
   - 1 access request at a time, POST -> terminal as the client saw it
     (median of 10, each started on an idle worker), and server side,
     received -> closed, from the request's own `received_at`/`closed_at`;
   - 50 erasures (redaction map), 50 access and 50 erasures (null plan):
     first POST -> all terminal (the poll that saw the last one), and first
     POST -> all work done: every request's evidence pack written (an
     EvidencePack row for each) and the broker empty (no message queued in
     any priority list, none delivered and unacked: with acks_late that
     covers tasks reserved, held for a countdown or running), both true for
     0.3 s on end; `celery inspect` then confirms no active, reserved or
     scheduled task (outside the clock);
   - submitting the 50: first POST -> last POST answered;
   - CPU per batch from /proc (as fanout.py): the server's processes ("web"),
     the worker's ("worker"), the PostgreSQL backends of the two databases
     ("db") and this process ("bench": the client threads), for submission,
     first POST -> all terminal, and all terminal -> all work done.
   Before and after it prints the machine-speed figure (fanout.py's fixed
   Python workload) and the load average.

The peer cannot be run here: its figures are constants quoted from issue
12's table and labelled as such. The targets are the issue's.

    .venv/bin/python bench/api_fanout.py [--quick] [--rebuild] [--keep]

`--quick` uses the 2,000-customer store. This is a benchmark, not a test:
it prints figures, targets and PASS/MISS, and exits 0 unless the run itself
failed. Everything it starts is stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import (  # first: puts the project on the path
    CONCURRENCY,
    ROOT,
    SEED,
    CpuMeter,
    Figure,
    Worker,
    backend_pids,
    bench_django_setup,
    broker_busy,
    connector_use_plan,
    copy_template,
    ensure_store_template,
    fresh_app_database,
    load_average,
    machine_speed,
    median,
    report,
    store_dsn,
    wait_idle,
)

from privacydesk.web import web_command  # after _common: the project on the path

REDIS_URL = os.environ.get("BENCH_API_REDIS_URL", "redis://127.0.0.1:6379/13")
# Override to keep apart from another checkout running this bench.
APP_DB = os.environ.get("BENCH_API_DB", "privacydesk_bench_api")
STORE_DB = os.environ.get("BENCH_API_STORE_DB", "pd_bench_store_api")
THREADS = 8
POLL_SECONDS = 0.1
SETTLE_SECONDS = 0.3
TERMINAL = {"completed", "partially_completed", "failed", "rejected", "cancelled"}

# Quoted from issue 12's table (the leading open-source peer, run through its
# own API on this machine class; it cannot be run here). Its work is all done
# when its requests are terminal, so one figure serves both lines.
PEER = {
    "access_1": "peer 0.26 s (issue 12)",
    "access_1_server": "peer 0.24 s (issue 12)",
    "access_50": "peer 8.5-9.2 s (issue 12)",
    "erase_50": "peer 16.5-17.6 s (issue 12, null plan)",
    "submit_50": "peer 1.6-1.8 s for one POST of 50 (issue 12)",
    "cpu_access": "peer 0.28-0.31 s per access (issue 12)",
}
# Issue 12's targets.
TARGET = {
    "access_1_server": 0.025,
    "access_50": 0.8,
    "erase_50_null": 1.6,
    "erase_50_redact": 2.5,
    "access_50_done": 1.5,
    "erase_50_done": 2.5,
    "after_close": 2.0,
    "intake_ms": 5.0,
}


# --- processes ------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        return [
            int(child)
            for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


class Web:
    """The product's server (privacydesk.web: granian, 2 workers), on a free
    loopback port, in its own session."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            web_command(host="127.0.0.1", port=self.port, workers=2),
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, client: Client, timeout: float = 60) -> None:
        """Both workers booted and answering an authenticated call."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break
            if len(self.pids()) == 3:
                with contextlib.suppress(OSError, http.client.HTTPException):
                    if client.call("GET", "/api/v1/requests/")[0] == 200:
                        return
            time.sleep(0.2)
        raise RuntimeError(f"the server did not start:\n{self.log.read_text()[-3000:]}")

    def pids(self) -> list[int]:
        if self.process is None or self.process.poll() is not None:
            return []
        return [self.process.pid, *_children(self.process.pid)]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Client:
    """The API client: one connection per call, JSON in and out."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(
                method,
                path,
                body=json.dumps(body) if body is not None else None,
                headers=self.headers,
            )
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, (json.loads(data) if data else {})


def api_client_token() -> str:
    from accounts.actors import actor_system
    from audit.accounts import api_client_create

    _, token = api_client_create(
        actor=actor_system("bench"),
        name="bench-api-fanout",
        scopes=["requests:read", "requests:write", "requests:verify"],
    )
    return token


# --- a batch ----------------------------------------------------------------------


def _when(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else 0.0


@dataclass
class Tracked:
    """One request as the client sees it (client clock: time.time())."""

    customer: int
    email: str
    posted: float = 0.0  # just before its POST
    answered: float = 0.0  # its POST's answer read
    public_id: str = ""
    terminal: float = 0.0  # the poll that saw it terminal
    status: str = ""
    reason: str = ""
    received_at: float = 0.0  # server side, from the request's own fields
    closed_at: float = 0.0
    polls: int = 0


@dataclass
class Batch:
    kind: str
    items: list[Tracked]
    submit: CpuMeter
    to_terminal: CpuMeter
    after: CpuMeter
    submitted: float = 0.0  # the last POST answered
    done: float = 0.0  # all work done (first moment seen)
    pack_last: float = 0.0  # the last evidence pack's row, server side
    inspect: str = ""
    one_post: bool = False  # all in one POST to the batch endpoint

    @property
    def first_post(self) -> float:
        return min(item.posted for item in self.items)

    @property
    def all_terminal(self) -> float:
        return max(item.terminal for item in self.items)

    @property
    def last_closed(self) -> float:
        return max(item.closed_at for item in self.items)

    @property
    def polls(self) -> int:
        return sum(item.polls for item in self.items)


def _meter(web: Web, worker: Worker) -> CpuMeter:
    return CpuMeter(
        {
            "web": web.pids,
            "worker": worker.pids,
            "db": lambda: backend_pids([APP_DB, STORE_DB]),
        }
    )


def _body(kind: str, item: Tracked) -> dict[str, Any]:
    return {
        "kind": kind,
        "regime": "gdpr",
        "identity": {"email": item.email},
        "verified": True,
    }


def _answered(item: Tracked, body: dict[str, Any]) -> None:
    item.public_id = body["id"]
    item.received_at = _when(body["received_at"])


def post_all_at_once(client: Client, batch: Batch) -> None:
    """The whole batch in one `POST /api/v1/requests/batch/` (the submission
    window is that one call)."""
    items = batch.items
    posted = time.time()
    code, body = client.call(
        "POST",
        "/api/v1/requests/batch/",
        {"requests": [_body(batch.kind, i) for i in items]},
    )
    answered = time.time()
    batch.submitted = answered
    batch.submit.__exit__(None, None, None)
    if code != 201:
        raise RuntimeError(f"batch POST answered {code}: {body}")
    for item, row in zip(items, body, strict=True):  # answered in the order sent
        item.posted, item.answered = posted, answered
        _answered(item, row)


def run_batch(
    client: Client,
    web: Web,
    worker: Worker,
    kind: str,
    customers: list[int],
    timeout: float = 600,
    one_post: bool = False,
) -> Batch:
    """POST the requests from up to 8 threads (`one_post`: all in one POST to
    the batch endpoint), then poll each one's URL every 0.1 s until
    terminal; then wait for all the work they queued."""
    from connectors.demo.content import customer

    items = [Tracked(cid, customer(cid, seed=SEED).email) for cid in customers]
    batch = Batch(kind, items, *(_meter(web, worker) for _ in range(3)))
    batch.one_post = one_post
    threads = min(THREADS, len(items))
    pending = list(reversed(items))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def submitted() -> None:  # the barrier's action: the last POST answered
        batch.submitted = time.time()
        batch.submit.__exit__(None, None, None)

    barrier = threading.Barrier(threads, action=submitted)
    deadline = time.monotonic() + timeout

    def work(share: list[Tracked]) -> None:
        mine: list[Tracked] = list(share)  # one_post: already posted
        try:
            while not one_post:
                with lock:
                    if not pending:
                        break
                    item = pending.pop()
                item.posted = time.time()
                code, body = client.call("POST", "/api/v1/requests/", _body(kind, item))
                item.answered = time.time()
                if code != 201:
                    raise RuntimeError(f"POST answered {code}: {body}")
                _answered(item, body)
                mine.append(item)
            if not one_post:
                barrier.wait()
            while mine:
                started = time.monotonic()
                for item in list(mine):
                    code, body = client.call(
                        "GET", f"/api/v1/requests/{item.public_id}/"
                    )
                    item.polls += 1
                    if code != 200:
                        raise RuntimeError(f"GET answered {code}: {body}")
                    if body["status"] in TERMINAL:
                        item.terminal = time.time()
                        item.status = body["status"]
                        item.reason = body.get("status_reason") or ""
                        item.closed_at = _when(body["closed_at"])
                        mine.remove(item)
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(mine)} requests open after {timeout} s")
                time.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - started)))
        except threading.BrokenBarrierError:
            return
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    batch.submit.__enter__()
    batch.to_terminal.__enter__()
    shares: list[list[Tracked]] = [[] for _ in range(threads)]
    if one_post:
        post_all_at_once(client, batch)
        shares = [items[index::threads] for index in range(threads)]
    workers = [
        threading.Thread(target=work, args=(share,), daemon=True) for share in shares
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    batch.to_terminal.__exit__(None, None, None)
    if errors:
        raise RuntimeError(f"{kind} batch failed: {errors[0]!r}") from errors[0]
    bad = [item for item in items if item.status != "completed"]
    if bad:
        raise RuntimeError(
            f"{kind}: {len(bad)} of {len(items)} not completed: "
            f"{[(b.status, b.reason) for b in bad[:3]]}"
        )
    with batch.after:
        batch.done, batch.pack_last = wait_all_done(items, deadline)
    batch.inspect = inspect_idle()
    return batch


def wait_all_done(items: list[Tracked], deadline: float) -> tuple[float, float]:
    """The first moment (client clock) at which every request has its
    evidence pack and the broker is empty, once that has held for
    SETTLE_SECONDS; and the time of the last pack's row (server clock)."""
    from django.db.models import Max

    from evidence.models import EvidencePack

    ids = [item.public_id for item in items]
    since: float | None = None
    while time.monotonic() < deadline:
        now = time.time()
        packs = EvidencePack.objects.filter(request__public_id__in=ids, internal=False)
        # The broker first: it is cheap, and busy until near the end.
        idle = broker_busy(REDIS_URL) == (0, 0)
        if idle and packs.values("request").distinct().count() == len(ids):
            since = since or now
            if now - since >= SETTLE_SECONDS:
                last = packs.aggregate(last=Max("created_at"))["last"]
                return since, last.timestamp()
        else:
            since = None
        time.sleep(0.05)
    raise RuntimeError("the work queued by the batch was not done in time")


def inspect_idle() -> str:
    """Ask the worker itself (celery inspect) what it holds: after "all work
    done" every list should be empty."""
    from privacydesk.celery import app

    inspect = app.control.inspect(timeout=1.0)
    counts, answered = {}, False
    for name in ("active", "reserved", "scheduled"):
        replies = getattr(inspect, name)() or {}
        answered = answered or bool(replies)
        counts[name] = sum(len(tasks) for tasks in replies.values())
    if not answered:
        return "celery inspect: no reply"
    return "celery inspect: " + ", ".join(f"{v} {k}" for k, v in counts.items())


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def batch_figures(
    batch: Batch, label: str, terminal_target: float | None
) -> list[Figure]:
    n = len(batch.items)
    first = batch.first_post
    done_target = TARGET[
        "access_50_done" if batch.kind == "access" else "erase_50_done"
    ]
    peer = PEER["access_50" if batch.kind == "access" else "erase_50"]
    total_cpu = batch.to_terminal.total + batch.after.total
    intake_ms = batch.submit.used.get("web", 0.0) / n * 1000
    server_span = batch.last_closed - min(item.received_at for item in batch.items)
    return [
        Figure(
            f"{label}: first POST -> all terminal",
            batch.all_terminal - first,
            "s",
            terminal_target,
            f"{peer}; server side first received -> last closed "
            f"{server_span:.3f} s; {batch.polls} polls; {batch.to_terminal.note()}",
            inclusive=True,
        ),
        Figure(
            f"{label}: first POST -> all work done",
            batch.done - first,
            "s",
            done_target,
            f"{peer}; {n} evidence packs (last row {batch.pack_last - first:.3f} s "
            f"after the first POST), broker empty for {SETTLE_SECONDS} s; "
            f"{batch.inspect}",
            inclusive=True,
        ),
        Figure(
            f"{label}: last close -> all work done",
            batch.done - batch.last_closed,
            "s",
            TARGET["after_close"],
            f"cpu after the last terminal poll: {batch.after.note()}",
            inclusive=True,
        ),
        Figure(
            f"{label}: submitting the {n}",
            batch.submitted - first,
            "s",
            None,
            f"{PEER['submit_50']}; ours "
            + (
                f"one POST of {n} to /batch/; "
                if batch.one_post
                else f"{n} POSTs from {THREADS} threads; "
            )
            + batch.submit.note(),
        ),
        Figure(
            f"{label}: web cpu per created request",
            intake_ms,
            "ms",
            TARGET["intake_ms"],
            "the server's CPU from the first POST to the last POST answered "
            "(no polls in that window) / requests",
            inclusive=True,
        ),
        Figure(
            f"{label}: cpu per request, to terminal",
            batch.to_terminal.total / n,
            "s",
            None,
            (PEER["cpu_access"] + "; ") if batch.kind == "access" else "",
        ),
        Figure(
            f"{label}: cpu per request, all work",
            total_cpu / n,
            "s",
            None,
            (PEER["cpu_access"] + "; ")
            * (batch.kind == "access")
            + f"background after the last terminal poll {batch.after.total / n:.3f}"
            " s per request",
        ),
    ]


# --- main -------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 customers")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the store")
    parser.add_argument("--repeat", type=int, default=10, help="single requests")
    parser.add_argument("--batch", type=int, default=50, help="requests at once")
    parser.add_argument("--keep", action="store_true", help="keep the logs")
    args = parser.parse_args()
    customers = 2_000 if args.quick else 20_000
    big_messages = 10_000 if args.quick else 100_000

    env, var_dir = bench_django_setup(
        app_db=APP_DB,
        redis_url=REDIS_URL,
        var_prefix="pd-bench-api-",
        REDIS_URL=REDIS_URL,
        ALLOWED_HOSTS="127.0.0.1",
    )
    template = ensure_store_template(customers, big_messages, args.rebuild)
    copy_template(template, STORE_DB)
    fresh_app_database(APP_DB, env)
    connector_use_plan("redact", store_dsn(STORE_DB))
    token = api_client_token()

    worker = Worker(env, var_dir / "worker.log")
    web = Web(env, var_dir / "web.log")
    client = Client(web.port, token)
    ids = iter(range(1, customers + 1))  # every request a different customer

    def take(count: int) -> list[int]:
        return [next(ids) for _ in range(count)]

    def batch(kind: str, count: int, one_post: bool = False) -> Batch:
        wait_idle(REDIS_URL)
        return run_batch(client, web, worker, kind, take(count), one_post=one_post)

    n, size = args.repeat, args.batch
    figures: list[Figure] = []
    print(f"load average before: {load_average()}; machine speed: {machine_speed()}")
    # Ctrl-C or SIGTERM: stop what we started (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        worker.start()
        web.start()
        web.wait_ready(client)
        print(
            f"store: {customers:,} customers; web: granian 2 workers on "
            f"127.0.0.1:{web.port}; worker: 1 x celery prefork --concurrency "
            f"{CONCURRENCY}; logs in {var_dir}"
        )
        # -- redaction map -------------------------------------------------------
        batch("access", 4)  # warm-up, not measured: both web and pool processes
        batch("erasure", 4)
        erase_redact = batch("erasure", size)

        # -- null plan -----------------------------------------------------------
        connector_use_plan("null", store_dsn(STORE_DB))
        batch("erasure", 4)  # warm-up with the new config
        singles = [batch("access", 1) for _ in range(n)]
        access = batch("access", size)
        batch("access", 4, one_post=True)  # warm-up of the batch endpoint
        access_one_post = batch("access", size, one_post=True)
        erase_null = batch("erasure", size)
    finally:
        web.stop()
        worker.stop()
    print(f"load average after: {load_average()}; machine speed: {machine_speed()}")

    client_side = [b.items[0].terminal - b.items[0].posted for b in singles]
    server_side = [b.items[0].closed_at - b.items[0].received_at for b in singles]
    single_cpu = sum(b.to_terminal.total for b in singles) / n
    single_parts = ", ".join(
        f"{part} {sum(b.to_terminal.used.get(part, 0.0) for b in singles) / n:.3f}"
        for part in ("web", "worker", "db", "bench")
    )
    figures += [
        Figure(
            f"1 access, POST -> terminal (median of {n})",
            median(client_side),
            "s",
            None,
            f"{PEER['access_1']}; min {min(client_side):.3f} / max "
            f"{max(client_side):.3f} s; polled every {POLL_SECONDS} s; "
            f"cpu {single_cpu:.3f} s per request to terminal ({single_parts}; "
            "the pack queued at the close starts before the poll sees it)",
        ),
        Figure(
            "1 access, server received -> closed",
            median(server_side),
            "s",
            TARGET["access_1_server"],
            f"{PEER['access_1_server']}; median of {n}; min "
            f"{_ms(min(server_side))} / max {_ms(max(server_side))}",
            inclusive=True,
        ),
    ]
    figures += batch_figures(access, f"null: {size} access", TARGET["access_50"])
    figures += batch_figures(
        access_one_post, f"null: {size} access, one POST", TARGET["access_50"]
    )
    figures += batch_figures(
        erase_null, f"null: {size} erasures", TARGET["erase_50_null"]
    )
    figures += batch_figures(
        erase_redact, f"redact: {size} erasures", TARGET["erase_50_redact"]
    )
    report(figures, "api_fanout")
    if not args.keep:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
