"""Benchmark: the consent check against a trivial endpoint on the same server.

What it does, in one run:

1. Creates (once per size) a PostgreSQL database, migrates it, and fills it
   with N subjects (`--subjects`, default 100,000; one e-mail each,
   encrypted, with its blind index) and 5 N consent events over the five
   seeded purposes, plus the derived state table (bench/_consent_data.py:
   seeded, by COPY; 100,000 subjects in `privacydesk_bench`, about a minute;
   1,000,000 subjects / 5,000,000 events in `privacydesk_bench_1000000`).
   Later runs reuse the data (`--regenerate` builds it again).
2. Starts the server (privacydesk.web: granian, 2 workers, 127.0.0.1, a free
   port) on that database with Redis database 12 as the cache
   (`BENCH_REDIS_URL`; flushed at the start: it is the bench's own), and a
   fresh API client holding consent:check.
3. Drives with `wrk` (Debian: `apt-get install wrk`) over loopback, in
   alternating slices of equal length so that changes in the machine's load
   hit every workload alike:
   - `GET /api/v1/consent/ping/`: the trivial endpoint, same token and scope;
   - (a) `POST /api/v1/consent/check/` for any of the N subjects and any
     purpose at random, the identity in the body: nearly every answer is a
     cache miss served from PostgreSQL (the worst case);
   - (b) the same for 1,000 subjects of the set that are "in conversation"
     (each asked once before the run, as a conversation's first turn does):
     answers come from Redis, which is what an agent asking on every turn
     sees.
   It prints requests/s, p50 and p99 latency of each, the share of checks
   that missed the cache, the CPU each request cost in each process (web,
   db, redis, wrk: this holds under load), the ratios with PASS/MISS, and
   the load average and machine speed before and after the slices.

Targets (issue 12): check throughput >= 0.8 x the trivial endpoint's and p99
< 15 ms, both for (a) and (b), at 100,000 and at 1,000,000 subjects.

    .venv/bin/python bench/consent_check.py [--subjects 1000000] [--seconds 20]

Four connections (`--connections`) keep both workers busy (one request
queued behind each); more only lengthen the queue, and with it every latency.

This is a benchmark, not a test: it prints figures and exits 0 unless the
run itself failed (`--strict` also fails on missed targets).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import admin, cpu_seconds, dsn, load_average, machine_speed
from _consent_data import (
    PURPOSE_WEIGHTS,
    SEED,
    data_present,
    database_name,
    ensure_database,
    generate,
    subject_emails,
)

from privacydesk.web import web_command  # after _common: the project on the path

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
RATIO_TARGET = 0.8  # check throughput / the trivial endpoint's, at least
P99_TARGET_MS = 15.0  # check p99, below


def app_environment(database: str, var_dir: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "privacydesk.settings",
        "DATABASE_URL": dsn(database),
        # Persistent connections: a new PostgreSQL connection per request
        # would measure connection set-up, not the service.
        "DATABASE_CONN_MAX_AGE": "600",
        "REDIS_URL": REDIS_URL,
        "PRIVACYDESK_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
    }


# --- the server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict[str, str], port: int, log: Path) -> Any:
    """The product's server (privacydesk.web: granian, 2 workers of one
    thread each, as `make run` starts it), its output in `log`."""
    command = web_command(host="127.0.0.1", port=port, workers=2)
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out
        )


def wait_ready(base: str, token: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"{base}/api/v1/consent/ping/", headers={"Authorization": f"Bearer {token}"}
    )
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError("the server did not answer in time")


# --- load -------------------------------------------------------------------------

# Latency quantiles each wrk run reports, so runs can be merged afterwards.
QUANTILES = [q / 2 for q in range(1, 200)] + [99.6, 99.7, 99.8, 99.9]
LUA_COMMON = (
    "QUANTILES = {"
    + ", ".join(str(q) for q in QUANTILES)
    + "}\n"
    + """
local token = os.getenv("BENCH_TOKEN")

function done(summary, latency, requests)
  local points = {}
  for _, q in ipairs(QUANTILES) do
    points[#points + 1] = string.format("%d", latency:percentile(q))
  end
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"quantiles_us":[%s],' ..
    '"status_errors":%d,"socket_errors":%d}\\n',
    summary.requests, summary.duration, table.concat(points, ","),
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
"""
)

LUA_PING = (
    LUA_COMMON
    + """
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Accept"] = "application/json"
end
"""
)

# The checks' subjects and purposes are drawn by this process for each slice
# (with the slice's seed); wrk reads only those and builds each request with
# a few concatenations: reading the whole subject list and calling
# wrk.format per request cost wrk more CPU than the ping costs the server's
# Redis, and wrk shares the two cores with the server.
PREBUILT_REQUESTS = 20_000  # more than a slice sends: none is asked twice
LUA_CHECK = (
    LUA_COMMON
    + """
local checks = {}
local next_check = 0
local head

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Accept"] = "application/json"
  wrk.headers["Content-Type"] = "application/json"
  -- the request line and headers, without the blank line that ends them
  head = wrk.format(nil, nil, nil, nil):sub(1, -3)
  for line in io.lines(os.getenv("BENCH_CHECKS")) do checks[#checks + 1] = line end
end

function request()
  next_check = next_check % #checks + 1
  local email, purpose = checks[next_check]:match("^(.-)\\t(.*)$")
  local body = '{"identity":{"email":"' .. email .. '"},"purpose":"'
    .. purpose .. '"}'
  return head .. "Content-Length: " .. #body .. "\\r\\n\\r\\n" .. body
end
"""
)


def write_checks(path: Path, emails: list[str], seed: int) -> Path:
    """The (e-mail, purpose) pairs of one slice, one per line."""
    rng = random.Random(seed)
    purposes = list(PURPOSE_WEIGHTS)
    path.write_text(
        "".join(
            f"{rng.choice(emails)}\t{rng.choice(purposes)}\n"
            for _ in range(PREBUILT_REQUESTS)
        )
    )
    return path


@dataclass
class Run:
    """One wrk run: its request count, duration and latency quantiles (us)."""

    requests: int
    seconds: float
    quantiles_us: list[int]
    errors: int

    def share_below(self, value: float) -> float:
        """Estimated fraction of this run's requests at or below `value` us."""
        points = list(zip(QUANTILES, self.quantiles_us, strict=True))
        if value < points[0][1]:
            return 0.0
        for (q0, v0), (q1, v1) in itertools.pairwise(points):
            if v0 <= value < v1:
                return (q0 + (q1 - q0) * (value - v0) / (v1 - v0)) / 100
        return 1.0 if value >= points[-1][1] else points[-1][0] / 100


@dataclass
class Result:
    """Several runs of one endpoint, merged."""

    name: str
    runs: list[Run]

    @property
    def requests(self) -> int:
        return sum(run.requests for run in self.runs)

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        return sum(run.errors for run in self.runs)

    def quantile_ms(self, q: float) -> float:
        """The merged q-th percentile: the request-weighted mixture of the runs."""
        total = self.requests
        candidates = sorted({v for run in self.runs for v in run.quantiles_us})
        for value in candidates:
            below = sum(run.requests * run.share_below(value) for run in self.runs)
            if below / total >= q / 100:
                return value / 1000
        return candidates[-1] / 1000


def run_wrk(
    name: str,
    url: str,
    script: str,
    seconds: int,
    connections: int,
    env: dict[str, str],
    workdir: Path,
) -> Run:
    path = workdir / f"{name}.lua"
    path.write_text(script)
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "5s",
        "--script",
        str(path),
        url,
    ]
    output = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=True
    ).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    return Run(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        quantiles_us=figures["quantiles_us"],
        errors=figures["status_errors"] + figures["socket_errors"],
    )


# --- CPU per request ----------------------------------------------------------------


class Meter:
    """CPU seconds each part of the served request used during wrk runs:
    web (the server's workers), db (the bench database's PostgreSQL backends),
    redis (the server's own INFO figure) and wrk (the load generator, a
    child of this process). Other work on the machine does not count, so the
    figure per request holds under load; the ratio of two workloads' totals
    is what their throughput ratio would be on idle cores."""

    PARTS = ("web", "db", "redis", "wrk")

    def __init__(self, server_pid: int, database: str, cache: Any) -> None:
        self.server_pid, self.database, self.cache = server_pid, database, cache
        self.used = dict.fromkeys(self.PARTS, 0.0)

    def _workers(self) -> list[int]:
        path = Path(f"/proc/{self.server_pid}/task/{self.server_pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def _backends(self) -> list[int]:
        """The sessions' backends only: an autovacuum worker that starts
        during a slice would count all its CPU in it."""
        rows = admin(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s "
            "AND backend_type = 'client backend'",
            [self.database],
        )
        return [row[0] for row in rows]

    def _snapshot(self) -> dict[str, dict[int, float]]:
        info = self.cache.info("cpu")
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "web": {pid: cpu_seconds(pid) for pid in self._workers()},
            "db": {pid: cpu_seconds(pid) for pid in self._backends()},
            "redis": {0: info["used_cpu_user"] + info["used_cpu_sys"]},
            "wrk": {0: children.ru_utime + children.ru_stime},
        }

    def measure(self, work: Any) -> Any:
        before = self._snapshot()
        result = work()
        after = self._snapshot()
        for part in self.PARTS:
            self.used[part] += sum(
                max(0.0, cpu - before[part].get(pid, 0.0))
                for pid, cpu in after[part].items()
            )
        return result

    def per_request_us(self, requests: int) -> dict[str, float]:
        figures = {part: 1e6 * used / requests for part, used in self.used.items()}
        figures["total"] = sum(figures.values())
        return figures


# --- main -------------------------------------------------------------------------


@dataclass
class Workload:
    """One endpoint under load: what wrk runs, and what it found."""

    label: str
    url: str
    script: str
    emails: list[str] | None = None
    result: Result | None = None
    misses: int = 0
    meter: Meter | None = None


def answer_keys(client: Any) -> int:
    return sum(1 for _ in client.scan_iter(match="*consent:answer:*", count=10_000))


def warm_active_set(emails: list[str]) -> None:
    """Ask every purpose of every active subject once, in this process: the
    same cache the server reads (a conversation's first turn does the same)."""
    from accounts.actors import actor_system
    from consent.selectors import consent_check

    actor = actor_system("bench")
    for email in emails:
        for purpose in PURPOSE_WEIGHTS:
            consent_check(actor=actor, identity={"email": email}, purpose=purpose)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--subjects",
        type=int,
        default=100_000,
        help="subjects in the data set (5 events each); each size has its own "
        "database, built once",
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--rounds", type=int, default=4, help="slices per endpoint, alternating"
    )
    parser.add_argument(
        "--active",
        type=int,
        default=1000,
        help="subjects in the warm workload (conversations in progress); 0: skip",
    )
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 on a missed target"
    )
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2

    database = database_name(args.subjects)
    work = Path(tempfile.mkdtemp(prefix="pd-bench-"))
    env = app_environment(database, work / "var")
    os.environ.update(env)
    ensure_database(database)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    emails = subject_emails(args.subjects)
    if args.regenerate or not data_present(database, args.subjects):
        generate(database, args.subjects, emails)
    else:
        print(f"reusing {args.subjects:,} subjects and their events in {database}")
    active = random.Random(SEED + 1).sample(emails, args.active)

    import redis
    from django.db import connections

    from accounts.actors import actor_system
    from audit.accounts import api_client_create
    from consent.models import ConsentEvent, ConsentState

    cache_db = redis.Redis.from_url(REDIS_URL)
    cache_db.flushdb()
    _, token = api_client_create(
        actor=actor_system("bench"),
        name=f"bench-{uuid.uuid4().hex[:8]}",
        scopes=["consent:check"],
    )
    counts = (ConsentEvent.objects.count(), ConsentState.objects.count())

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ping = Workload(
        "GET  /api/v1/consent/ping/", f"{base}/api/v1/consent/ping/", LUA_PING
    )
    uniform = Workload(
        "POST /api/v1/consent/check/  (a)",
        f"{base}/api/v1/consent/check/",
        LUA_CHECK,
        emails,
    )
    warm = Workload(
        "POST /api/v1/consent/check/  (b)",
        f"{base}/api/v1/consent/check/",
        LUA_CHECK,
        active,
    )
    workloads = [ping, uniform] + ([warm] if args.active else [])
    server = start_server(env, port, work / "web.log")
    try:
        try:
            wait_ready(base, token)
        except RuntimeError:
            log = (work / "web.log").read_text(errors="replace").splitlines()
            print("\n".join(log[-30:]), file=sys.stderr)
            raise

        def run(workload: Workload, seconds: int, connections_: int, seed: int) -> Run:
            load_env = {"BENCH_TOKEN": token}
            if workload.emails is not None:
                checks = work / "checks.txt"
                write_checks(checks, workload.emails, SEED * 100 + seed)
                load_env["BENCH_CHECKS"] = str(checks)
            return run_wrk(
                "load",
                workload.url,
                workload.script,
                seconds,
                connections_,
                load_env,
                work,
            )

        # Warm the server's processes (imports, connections), then start from
        # an empty cache; the warm workload's subjects are then asked once.
        run(ping, 2, 4, 0)
        run(uniform, 2, 4, 0)
        cache_db.flushdb()
        if args.active:
            warm_active_set(active)
        connections.close_all()
        # Alternate short slices (ping, (a), (b), ping, ...) so that any
        # drift in the machine's load affects every workload alike.
        slice_seconds = max(1, args.seconds // args.rounds)
        before = (load_average(), machine_speed())
        for workload in workloads:
            workload.result = Result(workload.label, [])
            workload.meter = Meter(server.pid, database, cache_db)
        for round_number in range(1, args.rounds + 1):
            for workload in workloads:
                keys = answer_keys(cache_db) if workload is not ping else 0
                assert workload.result is not None
                assert workload.meter is not None
                workload.result.runs.append(
                    workload.meter.measure(
                        lambda w=workload, n=round_number: run(
                            w, slice_seconds, args.connections, n
                        )
                    )
                )
                if workload is not ping:
                    workload.misses += answer_keys(cache_db) - keys
        after = (load_average(), machine_speed())
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\ndata: {args.subjects:,} subjects, {counts[0]:,} events, "
        f"{counts[1]:,} states (PostgreSQL, {database}); cache: Redis"
    )
    print(
        "server: granian (privacydesk.web), 2 workers on loopback; load: wrk, "
        f"1 thread, {args.connections} connections, {args.seconds} s per workload "
        f"in {args.rounds} alternating slices; {os.cpu_count()} CPUs shared by all"
    )
    # The run's own processes count in it too.
    print(f"before the slices: load average {before[0]}; machine speed {before[1]}")
    print(f"after the slices:  load average {after[0]}; machine speed {after[1]}")
    return report(workloads, args)


def report(workloads: list[Workload], args: argparse.Namespace) -> int:
    ping = workloads[0]
    print(
        f"(a) any of the {args.subjects:,} subjects and 5 purposes at random: "
        "nearly every answer comes from PostgreSQL (cache miss)"
    )
    if args.active:
        print(
            f"(b) {args.active:,} subjects of the set in conversation (asked once "
            "before): answers come from Redis (an agent asking on every turn)"
        )
    print(
        f"\n{'endpoint':<34}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'misses':>8}"
        f"{'errors':>7}  CPU us/request: web   db redis  wrk total"
    )
    for workload in workloads:
        result, meter = workload.result, workload.meter
        assert result is not None
        assert meter is not None
        misses = (
            f"{workload.misses / result.requests:.0%}" if workload is not ping else ""
        )
        cpu = meter.per_request_us(result.requests)
        print(
            f"{workload.label:<34}{result.rate:>7.0f}{result.quantile_ms(50):>8.2f}"
            f"{result.quantile_ms(99):>8.2f}{misses:>8}{result.errors:>7}"
            f"{'':>17}{cpu['web']:>4.0f}{cpu['db']:>5.0f}{cpu['redis']:>6.0f}"
            f"{cpu['wrk']:>5.0f}{cpu['total']:>6.0f}"
        )
    assert ping.result is not None
    assert ping.meter is not None
    ping_cpu = ping.meter.per_request_us(ping.result.requests)["total"]
    verdicts: list[bool] = []
    print(f"\n{'figure':<44}{'value':>9}{'target':>10}  verdict  ratio to target")
    for workload in workloads[1:]:
        result, meter = workload.result, workload.meter
        assert result is not None
        assert meter is not None
        tag = workload.label.split()[-1]
        ratio, p99 = result.rate / ping.result.rate, result.quantile_ms(99)
        for name, value, target, met, of_target in (
            (
                f"{tag} throughput, check / trivial",
                f"{ratio:.2f}x",
                f">= {RATIO_TARGET}x",
                ratio >= RATIO_TARGET,
                ratio / RATIO_TARGET,
            ),
            (
                f"{tag} p99 latency",
                f"{p99:.2f} ms",
                f"< {P99_TARGET_MS:.0f} ms",
                p99 < P99_TARGET_MS,
                p99 / P99_TARGET_MS,
            ),
        ):
            verdicts.append(met)
            print(
                f"{name:<44}{value:>9}{target:>10}  {'PASS' if met else 'MISS':<7}"
                f"  {of_target:.2f}"
            )
        cpu = meter.per_request_us(result.requests)["total"]
        print(
            f"{tag + ' on idle cores (CPU/request, trivial / check)':<44}"
            f"{ping_cpu / cpu:>8.2f}x"
        )
    print(
        f"\nSUMMARY consent check at {args.subjects:,} subjects: "
        f"{sum(verdicts)}/{len(verdicts)} targets met"
    )
    if any(w.result and w.result.errors for w in workloads):
        print("errors were reported: the figures are not valid", file=sys.stderr)
        return 1
    return 1 if args.strict and not all(verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
