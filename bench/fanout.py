"""Benchmark: fan-out of access and erasure requests to a large SQL store.

What it does, in one run:

1. Databases (PostgreSQL, `BENCH_PG_URL`):
   - `privacydesk_bench_fanout`, Privacy Desk's own, dropped, created and
     migrated (`manage.py migrate`) at every run;
   - `pd_bench_store_tpl_<customers>`: the helpdesk store of
     `connectors.demo` (customers, tickets, messages, ai_conversations; seeded,
     so every build is the same), 20,000 customers x 5 tickets x 4 messages
     (100,000 tickets, 400,000 messages), plus one customer with 100,000
     messages of their own (1,000 tickets x 100) for the memory figure. Built
     with COPY once and kept; later runs reuse it (`--rebuild` builds again);
   - `pd_bench_store` and `pd_bench_store_floor`: fresh copies of that
     template at every run (`CREATE DATABASE ... TEMPLATE`). The workers erase
     in the first; the hand-written floor runs on the second.
   The store gets the two expression indexes the sql kind's docs recommend for
   identity columns matched case-insensitively (`lower(email)`,
   `lower(customer_email)`); the floor uses the same indexes.
2. One Connector, `helpdesk` (kind sql), enabled alone. Its config is the
   issue's redaction map (connectors.demo.config.SQL_CONNECTOR_TABLES) in the first
   part and the "null plan" in the second (ticket subjects and message bodies
   set to NULL instead of redacted; customers and AI logs as before).
3. One real `celery worker --pool prefork --concurrency 2` (two processes
   doing work) against Redis database 14 (`BENCH_REDIS_URL`; flushed at the
   start: it is the bench's own), with `DATABASE_CONN_MAX_AGE=60` as
   .env.example sets for production.
4. Measures, each request for a different customer:
   (a) verified -> completed latency of one erasure and one access request,
       one after the other, median of 10 (after an unmeasured warm-up of two
       at once, so both pool processes have worked), each started on an idle
       worker;
   (b) 50 erasure requests verified at once (back to back, each in its own
       transaction, as 50 API calls would): total time from the start of
       verification to the last request closing;
   (c) the floor: the same 50 customers' rows changed by hand-written SQL in
       one session on the fresh copy, a plain regex standing in for PII
       detection; and the ratio (b)/(c);
   (d) (a) and (b) again with the null plan, plus 50 access requests at once;
   (e) peak worker RSS while the access request of the customer with 100,000
       messages runs: VmHWM of each worker process, reset just before
       (/proc/PID/clear_refs), and VmRSS sampled every 10 ms.
   Latencies are read from the request rows (`closed_at`) against the wall
   clock taken just before verification, so polling does not blur them.

Requests are created (received, unverified) before the clock starts; the
clock covers verification, planning, every connector task, erasure's
verification pass, the access package and the close. Closing a request also
queues work that is not part of it: the subject's notice and the evidence
pack (a PDF, at a lower priority). Before each measurement the bench waits
until the broker holds no message at all, and after a batch it prints how
long that queued work kept the worker busy.

The machine is shared, so beside each figure the bench prints the CPU time
the work itself used (the worker's processes, the PostgreSQL backends of the
bench's databases, and the bench process, which verifies the requests) and
what that means on two idle cores (total / 2: a lower bound), plus the load
average before and after. Figures taken while others load the machine are
slower than the same code on an idle one; the CPU time is not.

    .venv/bin/python bench/fanout.py [--quick] [--rebuild] [--repeat 10] [--keep]

`--quick` builds a 2,000-customer store (and 10,000 messages for the big
subject) for iterating. This is a benchmark, not a test: it prints figures,
targets and PASS/MISS, and exits 0 unless the run itself failed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
APP_DB = "privacydesk_bench_fanout"
STORE_DB = "pd_bench_store"
FLOOR_DB = "pd_bench_store_floor"
STORE_VERSION = 1  # bump when the template's contents change
SEED = 2026
CONCURRENCY = 2

# Peer figures (issue 3): the leading open-source peer on this dataset shape
# and machine class, erasing with a null plan.
PEER = {"access_1": 0.41, "access_50": 12.2, "erase_50": 22.8}

DISCLOSURE: dict[str, Any] = {
    "purposes": ["Customer support", "Order handling"],
    "recipients": ["Example Helpdesk SaaS Ltd (processor)"],
    "retention": "Tickets are kept 24 months after the last reply.",
    "source": "Provided by you when contacting support.",
    "automated_decision_making": {"not_applicable": "No automated decisions."},
    "transfers": {"not_applicable": "Data stays in the EU."},
}


def _dsn(database: str) -> str:
    return f"{PG_SERVER.rstrip('/')}/{database}"


def _store_dsn(database: str) -> str:
    # The connector's DSN must not hold a password (config validation).
    return _dsn(database).replace("postgres://", "postgresql://", 1)


# --- databases ----------------------------------------------------------------


def _admin(sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(_dsn("postgres"), autocommit=True) as admin:
        cursor = admin.execute(sql, list(params))
        return cursor.fetchall() if cursor.description else []


def _drop(database: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _template_name(size: int) -> str:
    return f"pd_bench_store_tpl_{size}"


def _template_ok(name: str, stamp: str) -> bool:
    rows = _admin(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname = %s",
        [name],
    )
    return bool(rows) and rows[0][0] == stamp


def ensure_store_template(customers: int, big_messages: int, rebuild: bool) -> str:
    """The pristine store, built once with COPY and kept as a template."""
    from connectors.demo.content import StoreSize
    from connectors.demo.stores import build_postgres

    name = _template_name(customers)
    # The store's rows and schema come from these two modules.
    demo_source = b"".join(
        (ROOT / "connectors" / "demo" / module).read_bytes()
        for module in ("content.py", "stores.py")
    )
    stamp = (
        f"v{STORE_VERSION} customers={customers} big={big_messages} seed={SEED} "
        f"demo={hashlib.sha256(demo_source).hexdigest()[:12]}"
    )
    if not rebuild and _template_ok(name, stamp):
        return name
    started = time.monotonic()
    _drop(name)
    _admin(f'CREATE DATABASE "{name}"')
    counts = build_postgres(
        _dsn(name),
        StoreSize(customers=customers, tickets_per_customer=5, messages_per_ticket=4),
        seed=SEED,
    )
    _add_big_subject(_dsn(name), customers + 1, big_messages)
    _add_indexes(_dsn(name))
    _admin(f"COMMENT ON DATABASE \"{name}\" IS '{stamp}'")
    print(
        f"built store template {name}: {counts['customers']:,} customers, "
        f"{counts['tickets']:,} tickets, {counts['messages']:,} messages "
        f"(+{big_messages:,} for customer {customers + 1}), "
        f"{counts['ai_conversations']:,} AI logs in "
        f"{time.monotonic() - started:.0f} s"
    )
    return name


def _add_big_subject(dsn: str, customer_id: int, messages: int) -> None:
    """One customer with `messages` messages (100 per ticket), same shapes."""
    import psycopg

    from connectors.demo.content import customer

    c = customer(customer_id, seed=SEED)
    tickets = max(1, messages // 100)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO customers (id, name, email, phone, crm_id, created_at) "
            "VALUES (%s, %s, %s, %s, %s, '2024-01-01T00:00:00Z')",
            [c.id, c.name, c.email, c.phone, c.crm_id],
        )
        first_ticket = conn.execute("SELECT max(id) + 1 FROM tickets").fetchone()[0]
        first_message = conn.execute("SELECT max(id) + 1 FROM messages").fetchone()[0]
        conn.execute(
            "INSERT INTO tickets (id, customer_id, subject, status, created_at) "
            "SELECT %s + n, %s, 'Order ORD-' || (100000 + n) || ': headphones', "
            "'solved', '2024-02-01T00:00:00Z'::timestamptz + n * interval '1 hour' "
            "FROM generate_series(0, %s - 1) AS n",
            [first_ticket, c.id, tickets],
        )
        conn.execute(
            "INSERT INTO messages (id, ticket_id, author, body, created_at) "
            "SELECT %s + n, %s + n / 100, "
            "CASE WHEN n %% 2 = 0 THEN 'customer' ELSE 'agent' END, "
            "CASE n %% 4 "
            " WHEN 0 THEN 'Hi, this is ' || %s || '. My order ORD-' || (200000 + n)"
            "   || ' for the desk lamp still hasn''t arrived.'"
            " WHEN 1 THEN 'Thanks, I''ve looked into ORD-' || (200000 + n)"
            "   || ' and escalated it to our warehouse.'"
            " WHEN 2 THEN 'Great, thank you. Please send updates to ' || %s || '.'"
            " ELSE 'We tried to call you on ' || %s || ' but couldn''t get through.'"
            " END, "
            "'2024-02-01T00:00:00Z'::timestamptz + n * interval '1 minute' "
            "FROM generate_series(0, %s - 1) AS n",
            [first_message, first_ticket, c.name, c.email, c.phone, messages],
        )
        conn.execute(
            "INSERT INTO ai_conversations (id, customer_email, transcript, model, "
            "created_at) VALUES (%s, %s, '[]', 'support-assistant-v2', "
            "'2024-03-01T00:00:00Z')",
            [customer_id * 10, c.email],
        )
        conn.commit()


def _add_indexes(dsn: str) -> None:
    """The expression indexes the sql kind's docs recommend for identity
    columns matched case-insensitively."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE INDEX customers_email_lower ON customers (lower(email))")
        conn.execute(
            "CREATE INDEX ai_conversations_email_lower "
            "ON ai_conversations (lower(customer_email))"
        )
        conn.execute("VACUUM ANALYZE")


def fresh_copies(template: str) -> None:
    for name in (STORE_DB, FLOOR_DB):
        _drop(name)
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def fresh_app_database(env: dict[str, str]) -> None:
    _drop(APP_DB)
    _admin(f'CREATE DATABASE "{APP_DB}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )


# --- the worker ---------------------------------------------------------------


class Worker:
    """One `celery worker` process (prefork), started in its own session."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "privacydesk",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(CONCURRENCY),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"worker did not start:\n{self.log.read_text()[-3000:]}")

    def pids(self) -> list[int]:
        """The main process and its pool children."""
        if self.process is None or self.process.poll() is not None:
            return []
        main = self.process.pid
        try:
            children = Path(f"/proc/{main}/task/{main}/children").read_text().split()
        except OSError:
            children = []
        return [main, *(int(pid) for pid in children)]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _proc_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pids() -> list[int]:
    """PostgreSQL backends serving the bench's databases (ours included)."""
    return [
        row[0]
        for row in _admin(
            "SELECT pid FROM pg_stat_activity WHERE datname IN (%s, %s)",
            [APP_DB, STORE_DB],
        )
    ]


class CpuMeter:
    """CPU seconds the work itself used: the worker's processes, the bench
    process (which verifies the requests) and the PostgreSQL backends serving
    the bench's databases. Other people's processes on the machine do not
    count, so this stays meaningful when the machine is busy: on two idle
    cores the same work needs at least total / 2 seconds."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.used: dict[str, float] = {}

    def _snapshot(self) -> dict[str, dict[int, float]]:
        times = os.times()
        return {
            "worker": {pid: _cpu_seconds(pid) for pid in self.worker.pids()},
            "db": {pid: _cpu_seconds(pid) for pid in _backend_pids()},
            "bench": {0: times.user + times.system},
        }

    def __enter__(self) -> CpuMeter:
        self.start = self._snapshot()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._snapshot()
        for part in end:  # accumulates over several `with` blocks
            self.used[part] = self.used.get(part, 0.0) + sum(
                max(0.0, cpu - self.start[part].get(pid, 0.0))
                for pid, cpu in end[part].items()
            )

    drained = 0.0  # after the last request closed, until the worker was idle

    @property
    def total(self) -> float:
        return sum(self.used.values())

    def note(self) -> str:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in self.used.items())
        return (
            f"cpu {self.total:.2f} s ({parts}) -> "
            f">= {self.total / 2:.2f} s on 2 idle cores"
        )


class RssSampler:
    """Samples VmRSS of the worker's processes every 10 ms in a thread."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.worker.pids():
                rss = _proc_kb(pid, "VmRSS")
                self.peak[pid] = max(self.peak.get(pid, 0), rss)
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- requests -----------------------------------------------------------------


def actor() -> Any:
    from accounts.actors import actor_system

    return actor_system("bench")


def create_requests(kind: str, customer_ids: Iterable[int]) -> list[Any]:
    """Received, unverified requests (before any clock starts)."""
    from connectors.demo.content import customer
    from dsr.services.requests import request_create

    return [
        request_create(
            actor=actor(),
            kind=kind,
            regime="gdpr",
            channel="api",
            identity={"email": customer(cid, seed=SEED).email},
        )
        for cid in customer_ids
    ]


def verify(requests: list[Any]) -> float:
    """Verify the requests back to back, each in its own transaction as an
    API call would; returns the wall-clock start. Workers start on the first
    while the rest are still being verified."""
    from dsr.services.requests import request_verify

    started = time.time()
    for request in requests:
        request_verify(actor=actor(), request=request, method="api_vouched")
    return started


@dataclass
class Closed:
    ends: list[float]
    statuses: list[str]
    reasons: list[str] = field(default_factory=list)

    @property
    def last(self) -> float:
        return max(self.ends)

    @property
    def all_completed(self) -> bool:
        return all(status == "completed" for status in self.statuses)


def wait_closed(requests: list[Any], timeout: float) -> Closed:
    """Poll until every request is closed. The figures come from the rows'
    `closed_at`, not from when the poll saw them, so a batch is polled less
    often: each poll costs CPU the workers could use."""
    from dsr.models import Request

    ids = [r.pk for r in requests]
    pause = 0.02 if len(ids) == 1 else 0.1
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(
            Request.objects.filter(pk__in=ids, closed_at__isnull=False).values_list(
                "closed_at", "status", "status_reason"
            )
        )
        if len(rows) == len(ids):
            return Closed(
                ends=[row[0].timestamp() for row in rows],
                statuses=[row[1] for row in rows],
                reasons=[row[2] for row in rows if row[2]],
            )
        time.sleep(pause)
    open_ = Request.objects.filter(pk__in=ids, closed_at__isnull=True).count()
    raise RuntimeError(f"{open_} of {len(ids)} requests still open after {timeout}s")


def wait_idle(timeout: float = 900) -> float:
    """Wait until the broker holds no message, queued or being worked on
    (with acks_late a task's message stays "unacked" until it ends): the
    evidence packs and notices that closing requests enqueue must not stand
    in front of the next measurement. Returns the seconds waited."""
    import redis

    broker = redis.Redis.from_url(REDIS_URL)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        # "celery" and its lower-priority lists ("celery\x06\x169", ...)
        queued = sum(
            broker.llen(key)
            for key in broker.scan_iter(match="celery*")
            if broker.type(key) == b"list"
        )
        if not queued and not broker.hlen("unacked"):
            return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"the worker was still busy after {timeout} s")


@dataclass
class Single:
    """One-at-a-time requests: latencies and where their time went."""

    latencies: list[float]
    to_first_task: list[float]  # verified -> the first task started
    in_tasks: list[float]  # inside connector tasks (started -> finished)
    cpu: CpuMeter

    @property
    def rest(self) -> list[float]:
        """Between and after tasks: finishing, verification pass, package."""
        return [
            total - first - tasks
            for total, first, tasks in zip(
                self.latencies, self.to_first_task, self.in_tasks, strict=True
            )
        ]

    def note(self) -> str:
        count = len(self.latencies)
        return (
            f"min {min(self.latencies):.3f} / max {max(self.latencies):.3f} s; "
            f"median split: to first task {_median(self.to_first_task) * 1000:.0f}"
            f" ms, in tasks {_median(self.in_tasks) * 1000:.0f} ms, rest "
            f"{_median(self.rest) * 1000:.0f} ms; cpu {self.cpu.total / count:.3f}"
            " s per request"
        )


def one_by_one(
    kind: str, customer_ids: list[int], timeout: float, meter: CpuMeter
) -> Single:
    """verified -> closed latency of each request, one request at a time."""
    from dsr.models import RequestTask

    latencies, firsts, in_tasks = [], [], []
    requests = create_requests(kind, customer_ids)
    for request in requests:
        wait_idle()
        with meter:
            started = verify([request])
            closed = wait_closed([request], timeout)
        if not closed.all_completed:
            raise RuntimeError(f"{kind} ended {closed.statuses}: {closed.reasons}")
        latencies.append(closed.last - started)
        spans = RequestTask.objects.filter(request=request).values_list(
            "started_at", "finished_at"
        )
        firsts.append(min(s for s, _ in spans).timestamp() - started)
        in_tasks.append(sum((f - s).total_seconds() for s, f in spans))
    return Single(latencies, firsts, in_tasks, meter)


def at_once(
    kind: str, customer_ids: list[int], timeout: float, meter: CpuMeter
) -> float:
    requests = create_requests(kind, customer_ids)
    wait_idle()
    with meter:
        started = verify(requests)
        closed = wait_closed(requests, timeout)
    if not closed.all_completed:
        raise RuntimeError(
            f"{kind}: {closed.statuses.count('completed')} of {len(requests)} "
            f"completed: {closed.reasons[:3]}"
        )
    meter.drained = wait_idle()
    return closed.last - started


def use_plan(plan: str) -> None:
    from connectors.demo.config import SQL_CONNECTOR_TABLES
    from connectors.models import Connector

    tables = [dict(t) for t in SQL_CONNECTOR_TABLES]
    if plan == "null":
        for table in tables:
            if table["table"] == "tickets":
                table["erase"] = {"subject": "null"}
            elif table["table"] == "messages":
                table["erase"] = {"body": "null"}
    Connector.objects.update_or_create(
        name="helpdesk",
        defaults={
            "kind": "sql",
            "config": {"dsn": _store_dsn(STORE_DB), "tables": tables},
            "data_categories": [
                "contact",
                "support_ticket",
                "support_message",
                "ai_conversation",
            ],
            "disclosure": DISCLOSURE,
            "enabled": True,
        },
    )


# --- the floor ----------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_ORDER = re.compile(r"\bORD-?\d{4,12}\b")


def floor(customer_ids: list[int]) -> float:
    """The same erasure by hand: plain SQL in one session, a regex for PII."""
    import psycopg

    from connectors.demo.content import customer
    from connectors.kinds.sql.values import hashed, pseudonym
    from privacydesk.crypto import normalise_identifier

    with psycopg.connect(_dsn(FLOOR_DB)) as conn:
        started = time.monotonic()
        for cid in customer_ids:
            email = customer(cid, seed=SEED).email.lower()
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(
                    "SELECT id, name, email, crm_id FROM customers "
                    "WHERE lower(email) = %s",
                    [email],
                )
                key, name, stored_email, crm_id = cur.fetchone()
                names = re.compile(
                    "|".join(re.escape(part) for part in name.split()), re.IGNORECASE
                )

                def scrub(text: str, names: re.Pattern[str] = names) -> str:
                    text = _EMAIL.sub("<EMAIL_ADDRESS>", text)
                    text = _PHONE.sub("<PHONE_NUMBER>", text)
                    text = _ORDER.sub("<ORDER_NUMBER>", text)
                    return names.sub("<PERSON>", text)

                cur.execute(
                    "SELECT m.id, m.body FROM messages m "
                    "JOIN tickets t ON t.id = m.ticket_id WHERE t.customer_id = %s",
                    [key],
                )
                bodies = [(scrub(body), mid) for mid, body in cur.fetchall() if body]
                cur.executemany("UPDATE messages SET body = %s WHERE id = %s", bodies)
                cur.execute(
                    "SELECT id, subject FROM tickets WHERE customer_id = %s", [key]
                )
                subjects = [(scrub(s), tid) for tid, s in cur.fetchall() if s]
                cur.executemany(
                    "UPDATE tickets SET subject = %s WHERE id = %s", subjects
                )
                cur.execute(
                    "UPDATE customers SET email = %s, name = NULL, phone = NULL, "
                    "crm_id = %s WHERE id = %s",
                    [
                        hashed(normalise_identifier("email", stored_email)),
                        pseudonym(crm_id),
                        key,
                    ],
                )
                cur.execute(
                    "DELETE FROM ai_conversations WHERE lower(customer_email) = %s",
                    [email],
                )
        return time.monotonic() - started


# --- report -------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None  # upper bound
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "PASS" if self.value < self.target else "MISS"


def _format(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "x":
        return f"{value:.1f}x"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.0f} {unit}"


def report(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    print()
    print(f"{'figure':<{width}}  {'value':>11}  {'target':>10}  verdict  note")
    for f in figures:
        target = f"< {_format(f.target, f.unit)}" if f.target is not None else ""
        print(
            f"{f.name:<{width}}  {_format(f.value, f.unit):>11}  {target:>10}  "
            f"{f.verdict:<7}  {f.note}"
        )
    judged = [f for f in figures if f.target is not None]
    passed = sum(f.verdict == "PASS" for f in judged)
    missed = [f.name for f in judged if f.verdict == "MISS"]
    print()
    print(
        f"SUMMARY fanout: {passed}/{len(judged)} targets met"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _per_pid(kb: dict[int, int]) -> str:
    return ", ".join(f"{pid}: {value / 1024:.0f}" for pid, value in sorted(kb.items()))


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cpus)"


def _machine_speed() -> str:
    """CPU time of a fixed piece of Python work (JSON, hashing, a regex):
    the same on the same machine, so two runs' figures can be compared for
    how fast the machine itself was (the load average says little on a VM)."""
    text = " ".join(f"customer-{i}@example.org ORD-{i:06d}" for i in range(2_000))
    started = time.process_time()
    for _ in range(40):
        json.loads(
            json.dumps({"rows": [text[i : i + 60] for i in range(0, 8_000, 60)]})
        )
        hashlib.sha256(text.encode() * 20).hexdigest()
        len(_EMAIL.findall(text))
    return (
        f"{(time.process_time() - started) * 1000:.0f} ms of CPU for a fixed workload"
    )


# --- main ---------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 customers")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the store")
    parser.add_argument("--repeat", type=int, default=10, help="single requests")
    parser.add_argument("--batch", type=int, default=50, help="requests at once")
    parser.add_argument(
        "--keep", action="store_true", help="keep the worker's log and files"
    )
    args = parser.parse_args()
    customers = 2_000 if args.quick else 20_000
    big_messages = 10_000 if args.quick else 100_000
    big_customer = customers + 1

    var_dir = Path(tempfile.mkdtemp(prefix="pd-bench-fanout-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "privacydesk.settings",
        "DATABASE_URL": _dsn(APP_DB),
        "DATABASE_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": REDIS_URL,
        "PRIVACYDESK_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
    }
    os.environ.update(env)

    import django

    django.setup()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()

    template = ensure_store_template(customers, big_messages, args.rebuild)
    fresh_copies(template)
    fresh_app_database(env)
    worker = Worker(env, var_dir / "worker.log")
    figures: list[Figure] = []
    n, batch = args.repeat, args.batch
    # Customer ids per measurement: every request is a different customer.
    ids = iter(range(1, customers + 1))

    def take(count: int) -> list[int]:
        return [next(ids) for _ in range(count)]

    meter = lambda: CpuMeter(worker)  # noqa: E731
    print(f"load average before: {_load()}; machine speed: {_machine_speed()}")
    try:
        worker.start()
        print(
            f"store: {customers:,} customers (~{customers * 20:,} messages); "
            f"worker: 1 x celery prefork --concurrency {CONCURRENCY}; "
            f"log {worker.log}"
        )

        # -- redaction map ---------------------------------------------------
        use_plan("redact")
        # Warm-up, not measured: two of each at once, so both pool
        # processes have loaded what the work needs.
        at_once("erasure", take(2), 120, meter())
        at_once("access", take(2), 120, meter())
        erase_1 = one_by_one("erasure", take(n), 120, meter())
        access_1 = one_by_one("access", take(n), 120, meter())
        erase_ids = take(batch)
        erase_50_cpu = meter()
        erase_50 = at_once("erasure", erase_ids, 600, erase_50_cpu)
        floor_50 = floor(erase_ids)
        figures += [
            Figure(
                "redact: 1 erasure (median)",
                _median(erase_1.latencies),
                "s",
                None,
                erase_1.note(),
            ),
            Figure(
                "redact: 1 access (median)",
                _median(access_1.latencies),
                "s",
                None,
                access_1.note(),
            ),
            Figure(
                f"redact: {batch} erasures at once",
                erase_50,
                "s",
                10.0,
                f"{batch / erase_50 * 60:.0f} requests/min; {erase_50_cpu.note()}; "
                f"then {erase_50_cpu.drained:.1f} s more of queued work "
                "(evidence packs, notices)",
            ),
            Figure(
                f"floor: {batch} erasures, hand SQL",
                floor_50,
                "s",
                None,
                f"{batch / floor_50 * 60:.0f} requests/min",
            ),
            Figure("redact: erasures / floor", erase_50 / floor_50, "x", 10.0),
        ]

        # -- null plan ---------------------------------------------------------
        use_plan("null")
        at_once("erasure", take(2), 120, meter())  # warm-up with the new config
        erase_1n = one_by_one("erasure", take(n), 120, meter())
        access_1n = one_by_one("access", take(n), 120, meter())
        erase_50n_cpu, access_50n_cpu = meter(), meter()
        erase_50n = at_once("erasure", take(batch), 600, erase_50n_cpu)
        access_50n = at_once("access", take(batch), 600, access_50n_cpu)
        figures += [
            Figure(
                "null: 1 erasure (median)",
                _median(erase_1n.latencies),
                "s",
                None,
                erase_1n.note(),
            ),
            Figure(
                "null: 1 access (median)",
                _median(access_1n.latencies),
                "s",
                0.1,
                f"peer {PEER['access_1']} s; {access_1n.note()}",
            ),
            Figure(
                f"null: {batch} erasures at once",
                erase_50n,
                "s",
                2.3,
                f"{batch / erase_50n * 60:.0f} requests/min; "
                f"peer {PEER['erase_50']} s; {erase_50n_cpu.note()}; then "
                f"{erase_50n_cpu.drained:.1f} s more of queued work",
            ),
            Figure(
                f"null: {batch} access at once",
                access_50n,
                "s",
                1.2,
                f"{batch / access_50n * 60:.0f} requests/min; "
                f"peer {PEER['access_50']} s; {access_50n_cpu.note()}; then "
                f"{access_50n_cpu.drained:.1f} s more of queued work",
            ),
        ]

        # -- memory: one subject with 100,000 messages ---------------------------
        big_cpu = meter()
        wait_idle()
        before = {pid: _proc_kb(pid, "VmRSS") for pid in worker.pids()}
        for pid in before:  # VmHWM from here on is the peak during the export
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")
        with RssSampler(worker) as sampler:
            big = one_by_one("access", [big_customer], 900, big_cpu)
        hwm = {pid: _proc_kb(pid, "VmHWM") for pid in worker.pids()}
        peak_kb = max(max(sampler.peak.values()), max(hwm.values()))
        figures += [
            Figure(
                f"access, {big_messages:,} messages: time",
                big.latencies[0],
                "s",
                None,
                big.note(),
            ),
            Figure(
                "peak worker RSS during it",
                peak_kb / 1024,
                "MB",
                250,
                "per process (MB), VmRSS before: "
                + _per_pid(before)
                + "; VmHWM during (reset before): "
                + _per_pid(hwm)
                + "; VmRSS sampled every 10 ms: "
                + _per_pid(sampler.peak),
            ),
        ]
    finally:
        worker.stop()
    print(f"load average after: {_load()}; machine speed: {_machine_speed()}")
    report(figures)
    if not args.keep:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
