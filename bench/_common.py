"""Helpers shared by the fan-out benchmarks (fanout.py, api_fanout.py).

The helpdesk store template (built once with COPY, copied per run), the
Celery worker, CPU accounting from /proc, the broker's idle check, the
connector's two erasure plans, the machine-speed figure and the report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
STORE_VERSION = 1  # bump when the template's contents change
SEED = 2026
CONCURRENCY = 2

DISCLOSURE: dict[str, Any] = {
    "purposes": ["Customer support", "Order handling"],
    "recipients": ["Example Helpdesk SaaS Ltd (processor)"],
    "retention": "Tickets are kept 24 months after the last reply.",
    "source": "Provided by you when contacting support.",
    "automated_decision_making": {"not_applicable": "No automated decisions."},
    "transfers": {"not_applicable": "Data stays in the EU."},
}


def dsn(database: str) -> str:
    return f"{PG_SERVER.rstrip('/')}/{database}"


def bench_django_setup(
    *, app_db: str, redis_url: str, var_prefix: str, **extra: str
) -> tuple[dict[str, str], Path]:
    """The environment a bench's processes share (its own database, broker
    and files, production settings, kept connections as .env.example sets),
    put in this process too; Django set up and the bench's Redis flushed.
    Returns the environment (for the processes it starts) and its folder."""
    import tempfile

    var_dir = Path(tempfile.mkdtemp(prefix=var_prefix))
    env = {
        "DJANGO_SETTINGS_MODULE": "privacydesk.settings",
        "DATABASE_URL": dsn(app_db),
        "DATABASE_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": redis_url,
        "PRIVACYDESK_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        **extra,
    }
    os.environ.update(env)

    import django
    import redis

    django.setup()
    redis.Redis.from_url(redis_url).flushdb()
    return env, var_dir


def store_dsn(database: str) -> str:
    # The connector's DSN must not hold a password (config validation).
    return dsn(database).replace("postgres://", "postgresql://", 1)


# --- databases ----------------------------------------------------------------


def admin(sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(dsn("postgres"), autocommit=True) as connection:
        cursor = connection.execute(sql, list(params))
        return cursor.fetchall() if cursor.description else []


def drop(database: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _template_name(size: int) -> str:
    return f"pd_bench_store_tpl_{size}"


def _template_ok(name: str, stamp: str) -> bool:
    rows = admin(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname = %s",
        [name],
    )
    return bool(rows) and rows[0][0] == stamp


def demo_stamp(**facts: object) -> str:
    """What a template was built from: the facts given, the seed, and the
    two modules of connectors.demo that make its rows and schema."""
    demo_source = b"".join(
        (ROOT / "connectors" / "demo" / module).read_bytes()
        for module in ("content.py", "stores.py")
    )
    described = " ".join(f"{key}={value}" for key, value in facts.items())
    return (
        f"v{STORE_VERSION} {described} seed={SEED} "
        f"demo={hashlib.sha256(demo_source).hexdigest()[:12]}"
    )


def ensure_template(
    name: str, stamp: str, rebuild: bool, build: Callable[[str], str]
) -> bool:
    """A database kept as a template: built by `build(dsn)` (which returns
    what it built, printed) unless one with the same stamp exists. Returns
    whether it was built now."""
    if not rebuild and _template_ok(name, stamp):
        return False
    started = time.monotonic()
    drop(name)
    admin(f'CREATE DATABASE "{name}"')
    built = build(dsn(name))
    admin(f"COMMENT ON DATABASE \"{name}\" IS '{stamp}'")
    print(f"built template {name}: {built} in {time.monotonic() - started:.0f} s")
    return True


def ensure_store_template(customers: int, big_messages: int, rebuild: bool) -> str:
    """The pristine store, built once with COPY and kept as a template."""
    from connectors.demo.content import StoreSize
    from connectors.demo.stores import build_postgres

    def build(target: str) -> str:
        counts = build_postgres(
            target,
            StoreSize(
                customers=customers, tickets_per_customer=5, messages_per_ticket=4
            ),
            seed=SEED,
        )
        _add_big_subject(target, customers + 1, big_messages)
        add_indexes(target)
        return (
            f"{counts['customers']:,} customers, {counts['tickets']:,} tickets, "
            f"{counts['messages']:,} messages (+{big_messages:,} for customer "
            f"{customers + 1}), {counts['ai_conversations']:,} AI logs"
        )

    name = _template_name(customers)
    stamp = demo_stamp(customers=customers, big=big_messages)
    ensure_template(name, stamp, rebuild, build)
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


def add_indexes(dsn: str) -> None:
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


def copy_template(template: str, *names: str) -> None:
    """Fresh copies of the store template (`CREATE DATABASE ... TEMPLATE`)."""
    for name in names:
        drop(name)
        admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def fresh_app_database(name: str, env: dict[str, str]) -> None:
    """Privacy Desk's own database, dropped, created and migrated."""
    drop(name)
    admin(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )


# --- the worker ---------------------------------------------------------------


class Worker:
    """One `celery worker` process (prefork), started in its own session."""

    def __init__(
        self, env: dict[str, str], log: Path, concurrency: int = CONCURRENCY
    ) -> None:
        self.env = env
        self.concurrency = concurrency
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
                str(self.concurrency),
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


def proc_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pids(databases: Iterable[str]) -> list[int]:
    """PostgreSQL backends serving these databases (the bench's own included)."""
    return [
        row[0]
        for row in admin(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)",
            [list(databases)],
        )
    ]


class CpuMeter:
    """CPU seconds the work itself used, per part: each part is a function
    returning the pids to count (worker processes, web processes, PostgreSQL
    backends...), plus "bench", this process (all its threads). Other
    people's processes on the machine do not count, so this stays meaningful
    when the machine is busy: on two idle cores the same work needs at least
    total / 2 seconds."""

    drained = 0.0  # after the last request closed, until the worker was idle

    def __init__(self, parts: dict[str, Callable[[], Iterable[int]]]) -> None:
        self.parts = parts
        self.used: dict[str, float] = {}

    def _snapshot(self) -> dict[str, dict[int, float]]:
        times = os.times()
        snapshot = {
            part: {pid: cpu_seconds(pid) for pid in pids()}
            for part, pids in self.parts.items()
        }
        snapshot["bench"] = {0: times.user + times.system}
        return snapshot

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

    @property
    def total(self) -> float:
        return sum(self.used.values())

    def note(self) -> str:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in self.used.items())
        return (
            f"cpu {self.total:.2f} s ({parts}) -> "
            f">= {self.total / 2:.2f} s on 2 idle cores"
        )


def broker_busy(redis_url: str) -> tuple[int, int]:
    """(messages queued, messages delivered but not acked) in the broker.
    With acks_late and Redis, a task's message stays in the `unacked` hash
    from delivery (reserved, prefetched, or held for its countdown) until the
    task ends, so (0, 0) means no task queued, reserved or running."""
    import redis

    broker = redis.Redis.from_url(redis_url)
    # "celery" and its lower-priority lists ("celery\x06\x169", ...)
    queued = sum(
        broker.llen(key)
        for key in broker.scan_iter(match="celery*")
        if broker.type(key) == b"list"
    )
    return queued, broker.hlen("unacked")


def wait_idle(redis_url: str, timeout: float = 900) -> float:
    """Wait until the broker holds no message, queued or being worked on:
    the evidence packs and notices that closing requests enqueue must not
    stand in front of the next measurement. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if broker_busy(redis_url) == (0, 0):
            return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"the worker was still busy after {timeout} s")


def connector_use_plan(plan: str, store: str) -> None:
    """The one enabled sql connector `helpdesk`: the issue's redaction map
    ("redact") or the null plan (ticket subjects and message bodies set to
    NULL instead of redacted; customers and AI logs as before)."""
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
            "config": {"dsn": store, "tables": tables},
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


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


# --- report -------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None  # upper bound
    note: str = ""
    inclusive: bool = False  # the target is met at equality (<=, not <)
    at_least: bool = False  # the target is a lower bound (>=)

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if self.at_least:
            return "PASS" if self.value >= self.target else "MISS"
        if self.inclusive:
            return "PASS" if self.value <= self.target else "MISS"
        return "PASS" if self.value < self.target else "MISS"


def _format(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "x":
        return f"{value:.1f}x"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.0f} {unit}"


def report(figures: list[Figure], title: str) -> None:
    width = max(len(f.name) for f in figures)
    print()
    print(f"{'figure':<{width}}  {'value':>11}  {'target':>10}  verdict  note")
    for f in figures:
        bound = ">=" if f.at_least else "<=" if f.inclusive else "<"
        target = f"{bound} {_format(f.target, f.unit)}" if f.target is not None else ""
        print(
            f"{f.name:<{width}}  {_format(f.value, f.unit):>11}  {target:>10}  "
            f"{f.verdict:<7}  {f.note}"
        )
    judged = [f for f in figures if f.target is not None]
    passed = sum(f.verdict == "PASS" for f in judged)
    missed = [f.name for f in judged if f.verdict == "MISS"]
    print()
    print(
        f"SUMMARY {title}: {passed}/{len(judged)} targets met"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cpus)"


def machine_speed() -> str:
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
        len(EMAIL.findall(text))
    return (
        f"{(time.process_time() - started) * 1000:.0f} ms of CPU for a fixed workload"
    )


# --- memory ---------------------------------------------------------------------


class RssSampler:
    """Peak resident memory of the worker's processes during a `with` block:
    VmRSS sampled every 10 ms in a thread, and VmHWM (the kernel's own peak,
    reset on entry through /proc/PID/clear_refs), whichever is higher."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.before: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self.hwm: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.worker.pids():
                rss = proc_kb(pid, "VmRSS")
                self.peak[pid] = max(self.peak.get(pid, 0), rss)
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self.before = {pid: proc_kb(pid, "VmRSS") for pid in self.worker.pids()}
        for pid in self.before:  # VmHWM from here on is the peak inside
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.hwm = {pid: proc_kb(pid, "VmHWM") for pid in self.worker.pids()}

    @property
    def peak_kb(self) -> int:
        return max([0, *self.peak.values(), *self.hwm.values()])

    def note(self) -> str:
        return (
            "per process (MB), VmRSS before: "
            + per_pid(self.before)
            + "; VmHWM during (reset before): "
            + per_pid(self.hwm)
            + "; VmRSS sampled every 10 ms: "
            + per_pid(self.peak)
        )


def per_pid(kb: dict[int, int]) -> str:
    return ", ".join(f"{pid}: {value / 1024:.0f}" for pid, value in sorted(kb.items()))
