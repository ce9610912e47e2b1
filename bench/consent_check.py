"""Benchmark: the consent check against a trivial endpoint on the same server.

What it does, in one run:

1. Creates (once) the PostgreSQL database `privacydesk_bench`, migrates it,
   and fills it with 100,000 subjects (one e-mail each, encrypted, with its
   blind index) and 500,000 consent events over the five seeded purposes,
   plus the derived state table. Generation is seeded, so every run builds
   the same people and choices; it uses COPY and takes about a minute.
   Later runs reuse the data (`--regenerate` builds it again).
2. Starts gunicorn (2 workers, 127.0.0.1, a free port) on that database with
   Redis database 12 as the cache (flushed at the start: it is the bench's
   own), and a fresh API client holding the scope consent:check.
3. Drives with `wrk` (Debian: `apt-get install wrk`) over loopback, in
   alternating slices of equal length so that changes in the machine's load
   hit every workload alike:
   - `GET /api/v1/consent/ping/`: the trivial endpoint, same token and scope;
   - (a) `POST /api/v1/consent/check/` for any of the 100,000 subjects and
     any purpose at random, the identity in the body: nearly every answer is
     a cache miss served from PostgreSQL (the worst case);
   - (b) the same for 1,000 subjects of the set that are "in conversation"
     (each asked once before the run, as a conversation's first turn does):
     answers come from Redis, which is what an agent asking on every turn
     sees.
   It prints requests/s, p50 and p99 latency of each, the ratios, the
   share of checks that missed the cache, and the load average before and
   after the slices: other work on the two CPUs changes every figure, and
   not all alike (a miss waits on Redis and PostgreSQL in turn, a ping on
   Redis only).

Targets: check throughput >= 0.7 x the trivial endpoint's; check p99 < 25 ms.

    .venv/bin/python bench/consent_check.py [--seconds 20] [--connections 4]

Four connections keep both workers busy (one request queued behind each);
more only lengthen the queue, and with it every latency figure.

This is a benchmark, not a test: it prints figures and exits 0 unless the
run itself failed (`--strict` also fails on missed targets).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
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
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261128
SUBJECTS = 100_000
EVENTS_PER_SUBJECT = 5  # 500,000 events
BENCH_DB = "privacydesk_bench"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PURPOSE_WEIGHTS = {
    "ai_processing": 30,
    "ai_training": 25,
    "marketing_email": 20,
    "analytics": 15,
    "call_recording": 10,
}
FIRST_NAMES = (
    "ada grace alan linus margaret ken dennis barbara edsger donald frances "
    "katherine tim radia vint john mary sophie lucas emma noah olivia liam mia "
    "elena marco giulia luca sofia hugo chloe louis lea jan anna lena paul "
    "aisha omar fatima yusuf priya arjun ananya rohan mei wei hana kenji yuki "
    "sven ingrid lars astrid pablo lucia diego carmen ines tomas zofia piotr"
).split()
LAST_NAMES = (
    "lovelace hopper turing torvalds hamilton thompson ritchie liskov dijkstra "
    "knuth allen johnson berners-lee perlman cerf smith jones brown taylor "
    "wilson martin bernard dubois moreau laurent rossi russo ferrari esposito "
    "bianchi muller schmidt schneider fischer weber meyer wagner kowalski nowak "
    "garcia martinez lopez gonzalez perez sanchez patel sharma khan ali chen "
    "wang li zhang tanaka suzuki sato nielsen hansen andersen larsen silva"
).split()
DOMAINS = (
    ["gmail.com"] * 30
    + ["outlook.com"] * 12
    + ["yahoo.com"] * 8
    + ["icloud.com"] * 6
    + ["hotmail.co.uk", "gmx.de", "web.de", "orange.fr", "libero.it", "proton.me"] * 3
    + ["acme-logistics.com", "northwind.example", "contoso.com", "fabrikam.com"]
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/18.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
)


# --- data -----------------------------------------------------------------------


def subject_emails(rng: random.Random) -> list[str]:
    """Realistic, unique addresses; the same list for the same seed."""
    seen: set[str] = set()
    emails: list[str] = []
    while len(emails) < SUBJECTS:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        style = rng.random()
        if style < 0.45:
            local = f"{first}.{last}"
        elif style < 0.7:
            local = f"{first[0]}{last}"
        elif style < 0.85:
            local = f"{first}{rng.randint(1, 99)}"
        else:
            local = f"{first}.{last}{rng.randint(1950, 2008)}"
        email = f"{local}@{rng.choice(DOMAINS)}"
        if email in seen:
            email = f"{local}{rng.randint(100, 9999)}@{rng.choice(DOMAINS)}"
            if email in seen:
                continue
        seen.add(email)
        emails.append(email)
    return emails


def _dsn(database: str) -> str:
    return f"{PG_SERVER.rstrip('/')}/{database}"


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(_dsn("postgres"), autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{BENCH_DB}"')


def app_environment(var_dir: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "privacydesk.settings",
        "DATABASE_URL": _dsn(BENCH_DB),
        # Persistent connections: a new PostgreSQL connection per request
        # would measure connection set-up, not the service.
        "DATABASE_CONN_MAX_AGE": "600",
        "REDIS_URL": REDIS_URL,
        "PRIVACYDESK_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
    }


def data_present() -> bool:
    from consent.models import ConsentEvent
    from subjects.models import DataSubject

    return (
        DataSubject.objects.count() == SUBJECTS
        and ConsentEvent.objects.count() == SUBJECTS * EVENTS_PER_SUBJECT
    )


def generate(emails: list[str], rng: random.Random) -> None:
    """Write subjects, identifiers, events and states with COPY."""
    import psycopg
    from django.utils import timezone

    from consent.models import PolicyVersion, Purpose
    from consent.seed import seed_purposes
    from privacydesk import crypto

    seed_purposes()
    purposes = {p.slug: p for p in Purpose.objects.all()}
    versions = {
        v.purpose_id: v.pk
        for v in PolicyVersion.objects.order_by("purpose_id", "effective_at", "id")
    }
    slugs = list(PURPOSE_WEIGHTS)
    weights = list(PURPOSE_WEIGHTS.values())
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(days=365)

    def uid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    started = time.monotonic()
    with psycopg.connect(_dsn(BENCH_DB)) as connection, connection.cursor() as cur:
        cur.execute(
            "TRUNCATE consent_consentstate, consent_propagationattempt, "
            "consent_consentpropagation, consent_erasureassessment, "
            "consent_consentevent, dsr_historicalsubjectidentifier, "
            "dsr_subjectidentifier, dsr_datasubject RESTART IDENTITY CASCADE"
        )
        states: dict[tuple[int, int], tuple[Any, ...]] = {}
        with cur.copy(
            "COPY dsr_datasubject (id, public_id, created_at, updated_at) FROM STDIN"
        ) as copy:
            for subject_id in range(1, SUBJECTS + 1):
                copy.write_row((subject_id, uid(), start, start))
        with cur.copy(
            "COPY dsr_subjectidentifier (id, public_id, subject_id, kind, namespace, "
            "value, blind_index, created_at, updated_at) FROM STDIN"
        ) as copy:
            for subject_id, email in enumerate(emails, start=1):
                copy.write_row(
                    (
                        subject_id,
                        uid(),
                        subject_id,
                        "email",
                        "",
                        crypto.encrypt(email),
                        crypto.blind_index("email", email),
                        start,
                        start,
                    )
                )
        event_id = 0
        with cur.copy(
            "COPY consent_consentevent (id, public_id, subject_id, purpose_id, "
            "action, policy_version_id, channel, source_system, occurred_at, "
            "recorded_by, evidence, idempotency_scope, idempotency_key, created_at) "
            "FROM STDIN"
        ) as copy:
            for subject_id in range(1, SUBJECTS + 1):
                when = start + timedelta(minutes=rng.randint(0, 60 * 24 * 200))
                for _ in range(EVENTS_PER_SUBJECT):
                    event_id += 1
                    purpose = purposes[rng.choices(slugs, weights)[0]]
                    grant = rng.random() < 0.65
                    channel = rng.choice(
                        ("chat_widget", "chat_widget", "portal", "api")
                    )
                    if not grant and purpose.is_sale_or_sharing and rng.random() < 0.2:
                        channel = "gpc"
                    evidence = {
                        "gpc": channel == "gpc",
                        "user_agent": rng.choice(USER_AGENTS),
                        "ip_hash": crypto.keyed_hash(
                            f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                            purpose="consent-evidence-ip",
                        ),
                        "ip_source": "evidence",
                        "ui_element": f"{channel}-{purpose.slug}-toggle",
                    }
                    if channel == "chat_widget":
                        evidence["ai_disclosure_version"] = "v3"
                    version_id = versions[purpose.pk]
                    copy.write_row(
                        (
                            event_id,
                            uid(),
                            subject_id,
                            purpose.pk,
                            "grant" if grant else "withdraw",
                            version_id,
                            channel,
                            "zendesk" if channel == "api" else "",
                            when,
                            "system:bench",
                            json.dumps(evidence),
                            "",
                            None,
                            when,
                        )
                    )
                    states[(subject_id, purpose.pk)] = (
                        grant,
                        "granted" if grant else "withdrawn",
                        version_id,
                        when,
                        event_id,
                    )
                    when += timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        with cur.copy(
            "COPY consent_consentstate (subject_id, purpose_id, granted, state, "
            "policy_version_id, since, last_event_id, created_at, updated_at) "
            "FROM STDIN"
        ) as copy:
            for (subject_id, purpose_id), row in states.items():
                copy.write_row((subject_id, purpose_id, *row, row[3], row[3]))
        for table in (
            "dsr_datasubject",
            "dsr_subjectidentifier",
            "consent_consentevent",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    with psycopg.connect(_dsn(BENCH_DB), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    print(
        f"generated {SUBJECTS:,} subjects, {event_id:,} events and "
        f"{len(states):,} states in {time.monotonic() - started:.0f} s"
    )


# --- the server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict[str, str], port: int, log: Path, worker_class: str) -> Any:
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "privacydesk.wsgi:application",
        "--workers",
        "2",
        "--worker-class",
        worker_class,
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
    ]
    if worker_class == "gthread":
        command += ["--threads", "1", "--keep-alive", "30"]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})


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
    raise RuntimeError("gunicorn did not answer in time")


# --- load -------------------------------------------------------------------------

# Latency quantiles each wrk run reports, so runs can be merged afterwards.
QUANTILES = [q / 2 for q in range(1, 200)] + [99.6, 99.7, 99.8, 99.9]
LUA_COMMON = (
    "QUANTILES = {"
    + ", ".join(str(q) for q in QUANTILES)
    + "}\n"
    + """
local token = os.getenv("BENCH_TOKEN")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
end

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

LUA_CHECK = (
    LUA_COMMON
    + """
local emails = {}
local purposes = {"ai_processing", "ai_training", "marketing_email", "analytics",
                  "call_recording"}

function init(args)
  for line in io.lines(os.getenv("BENCH_EMAILS")) do emails[#emails + 1] = line end
  math.randomseed(tonumber(os.getenv("BENCH_SEED")) * 100 + (thread_number or 1))
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Accept"] = "application/json"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local email = emails[math.random(#emails)]
  local purpose = purposes[math.random(#purposes)]
  local body = '{"identity":{"email":"' .. email .. '"},"purpose":"' .. purpose .. '"}'
  return wrk.format(nil, nil, nil, body)
end
"""
)


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


# --- main -------------------------------------------------------------------------


@dataclass
class Workload:
    """One endpoint under load: what wrk runs, and what it found."""

    label: str
    url: str
    script: str
    emails: Path | None = None
    result: Result | None = None
    misses: int = 0


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)"


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 on a missed target"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="pd-bench-"))
    env = app_environment(work / "var")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    ensure_database()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    emails = subject_emails(rng)
    if args.regenerate or not data_present():
        generate(emails, rng)
    else:
        print(f"reusing {SUBJECTS:,} subjects and their events in {BENCH_DB}")
    active = random.Random(SEED + 1).sample(emails, args.active)
    (work / "emails.txt").write_text("\n".join(emails) + "\n")
    (work / "active.txt").write_text("\n".join(active) + "\n")

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
        work / "emails.txt",
    )
    warm = Workload(
        "POST /api/v1/consent/check/  (b)",
        f"{base}/api/v1/consent/check/",
        LUA_CHECK,
        work / "active.txt",
    )
    workloads = [ping, uniform] + ([warm] if args.active else [])
    server = start_server(env, port, work / "gunicorn.log", args.worker_class)
    try:
        try:
            wait_ready(base, token)
        except RuntimeError:
            log = (work / "gunicorn.log").read_text(errors="replace").splitlines()
            print("\n".join(log[-30:]), file=sys.stderr)
            raise

        def run(workload: Workload, seconds: int, connections_: int, seed: int) -> Run:
            load_env = {
                "BENCH_TOKEN": token,
                "BENCH_EMAILS": str(workload.emails or work / "emails.txt"),
                "BENCH_SEED": str(seed),
            }
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
        load_before = _load()
        for workload in workloads:
            workload.result = Result(workload.label, [])
        for round_number in range(1, args.rounds + 1):
            for workload in workloads:
                before = answer_keys(cache_db) if workload is not ping else 0
                assert workload.result is not None
                workload.result.runs.append(
                    run(workload, slice_seconds, args.connections, round_number)
                )
                if workload is not ping:
                    workload.misses += answer_keys(cache_db) - before
        load_after = _load()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\ndata: {SUBJECTS:,} subjects, {counts[0]:,} events, {counts[1]:,} states "
        "(PostgreSQL); cache: Redis"
    )
    print(
        f"server: gunicorn, 2 {args.worker_class} workers on loopback; load: wrk, "
        f"1 thread, {args.connections} connections, {args.seconds} s per workload "
        f"in {args.rounds} alternating slices; {os.cpu_count()} CPUs shared by all"
    )
    # The run's own processes count in it too.
    print(f"load average: {load_before} before the slices, {load_after} after")
    print(
        "(a) any of the 100,000 subjects and 5 purposes at random: nearly every "
        "answer comes from PostgreSQL"
    )
    if args.active:
        print(
            f"(b) {args.active:,} subjects of the set in conversation (asked once "
            "before): answers come from Redis"
        )
    header = f"{'endpoint':<36}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
    print(f"\n{header}{'misses':>10}{'errors':>8}")
    for workload in workloads:
        result = workload.result
        assert result is not None
        misses = (
            f"{workload.misses / result.requests:.0%}" if workload is not ping else ""
        )
        print(
            f"{workload.label:<36}{result.rate:>8.0f}{result.quantile_ms(50):>9.2f}"
            f"{result.quantile_ms(99):>9.2f}{misses:>10}{result.errors:>8}"
        )
    assert ping.result is not None
    missed = False
    print()
    for workload in workloads[1:]:
        result = workload.result
        assert result is not None
        ratio, p99 = result.rate / ping.result.rate, result.quantile_ms(99)
        ratio_ok, p99_ok = ratio >= 0.7, p99 < 25
        missed = missed or not (ratio_ok and p99_ok)
        print(
            f"{workload.label.split()[-1]} ratio check/trivial {ratio:.2f} (target "
            f">= 0.70: {'met' if ratio_ok else 'MISSED'}); p99 {p99:.2f} ms "
            f"(target < 25 ms: {'met' if p99_ok else 'MISSED'})"
        )
    if any(w.result and w.result.errors for w in workloads):
        print("errors were reported: the figures are not valid", file=sys.stderr)
        return 1
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
