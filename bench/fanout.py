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
import os
import re
import shutil
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from _common import (
    CONCURRENCY,
    EMAIL,
    SEED,
    CpuMeter,
    Figure,
    RssSampler,
    Worker,
    backend_pids,
    bench_django_setup,
    connector_use_plan,
    copy_template,
    dsn,
    ensure_store_template,
    fresh_app_database,
    load_average,
    machine_speed,
    median,
    report,
    store_dsn,
    wait_idle,
)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
APP_DB = "privacydesk_bench_fanout"
STORE_DB = "pd_bench_store"
FLOOR_DB = "pd_bench_store_floor"


# Peer figures (issue 3): the leading open-source peer on this dataset shape
# and machine class, erasing with a null plan.
PEER = {"access_1": 0.41, "access_50": 12.2, "erase_50": 22.8}


def meter_for(worker: Worker) -> CpuMeter:
    """CPU of the worker's processes, the PostgreSQL backends of the bench's
    databases and the bench process (which verifies the requests)."""
    return CpuMeter(
        {"worker": worker.pids, "db": lambda: backend_pids([APP_DB, STORE_DB])}
    )


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
            f"median split: to first task {median(self.to_first_task) * 1000:.0f}"
            f" ms, in tasks {median(self.in_tasks) * 1000:.0f} ms, rest "
            f"{median(self.rest) * 1000:.0f} ms; cpu {self.cpu.total / count:.3f}"
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
        wait_idle(REDIS_URL)
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
    wait_idle(REDIS_URL)
    with meter:
        started = verify(requests)
        closed = wait_closed(requests, timeout)
    if not closed.all_completed:
        raise RuntimeError(
            f"{kind}: {closed.statuses.count('completed')} of {len(requests)} "
            f"completed: {closed.reasons[:3]}"
        )
    meter.drained = wait_idle(REDIS_URL)
    return closed.last - started


def use_plan(plan: str) -> None:
    connector_use_plan(plan, store_dsn(STORE_DB))


# --- the floor ----------------------------------------------------------------

_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_ORDER = re.compile(r"\bORD-?\d{4,12}\b")


def floor(customer_ids: list[int]) -> float:
    """The same erasure by hand: plain SQL in one session, a regex for PII."""
    import psycopg

    from connectors.demo.content import customer
    from connectors.kinds.sql.values import hashed, pseudonym
    from privacydesk.crypto import normalise_identifier

    with psycopg.connect(dsn(FLOOR_DB)) as conn:
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
                    text = EMAIL.sub("<EMAIL_ADDRESS>", text)
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

    env, var_dir = bench_django_setup(
        app_db=APP_DB, redis_url=REDIS_URL, var_prefix="pd-bench-fanout-"
    )

    template = ensure_store_template(customers, big_messages, args.rebuild)
    copy_template(template, STORE_DB, FLOOR_DB)
    fresh_app_database(APP_DB, env)
    worker = Worker(env, var_dir / "worker.log")
    figures: list[Figure] = []
    n, batch = args.repeat, args.batch
    # Customer ids per measurement: every request is a different customer.
    ids = iter(range(1, customers + 1))

    def take(count: int) -> list[int]:
        return [next(ids) for _ in range(count)]

    meter = lambda: meter_for(worker)  # noqa: E731
    print(f"load average before: {load_average()}; machine speed: {machine_speed()}")
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
                median(erase_1.latencies),
                "s",
                None,
                erase_1.note(),
            ),
            Figure(
                "redact: 1 access (median)",
                median(access_1.latencies),
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
                median(erase_1n.latencies),
                "s",
                None,
                erase_1n.note(),
            ),
            Figure(
                "null: 1 access (median)",
                median(access_1n.latencies),
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
        wait_idle(REDIS_URL)
        with RssSampler(worker) as sampler:
            big = one_by_one("access", [big_customer], 900, big_cpu)
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
                sampler.peak_kb / 1024,
                "MB",
                250,
                sampler.note(),
            ),
        ]
    finally:
        worker.stop()
    print(f"load average after: {load_average()}; machine speed: {machine_speed()}")
    report(figures, "fanout")
    if not args.keep:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
