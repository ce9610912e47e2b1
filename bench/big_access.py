"""Benchmark: access for one subject with 1,000,000 messages (issue 12).

What it does, in one run:

1. Databases (PostgreSQL, `BENCH_PG_URL`):
   - `privacydesk_bench_big`, Privacy Desk's own, dropped, created and
     migrated at every run;
   - `pd_bench_big_tpl_<messages>`: its own template (fanout.py's
     `pd_bench_store_tpl_*` are left alone): the helpdesk store of
     `connectors.demo` for 2,000 customers, plus one customer whose history
     is `--messages` messages (100 per ticket), their texts filled from the
     demo's templates with the customer's name, e-mail, phone and random
     order numbers, as `connectors.demo.content.rows` fills every other
     customer's. Written with COPY, built once and kept (`--rebuild` builds
     again), copied fresh into `pd_bench_big` at every run.
2. One enabled sql connector `helpdesk` (the demo's map; access does not
   depend on the erasure plan).
3. One real `celery worker --pool prefork --concurrency 2` against Redis
   database 14 (`BENCH_REDIS_URL`, flushed at the start),
   `DATABASE_CONN_MAX_AGE=60`.
4. One access request for that customer, verified on an idle worker, while
   VmRSS of every worker process is sampled every 10 ms (and VmHWM, reset
   before, read after).

Figures: rows per second into the package (the package's record count over
the time from the access task's start, `RequestTask.started_at`, to the
package's row, `AccessPackage.created_at`, written once the ZIP is stored),
split into the store read (task start -> task end: rows streamed into the
task's JSON-lines result) and the package (task end -> package stored);
peak worker RSS; the worker's CPU for the whole request and the rows per
second of it (what the rate is on a core of its own: on a shared machine the
wall-clock rate falls with the others' load, this one much less); the
machine-speed figure and load average before and after.

    .venv/bin/python bench/big_access.py [--messages 1000000] [--rebuild] [--keep]

This is a benchmark, not a test: it prints figures, targets and PASS/MISS,
and exits 0 unless the run itself failed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import (
    SEED,
    CpuMeter,
    Figure,
    RssSampler,
    Worker,
    add_indexes,
    admin,
    backend_pids,
    bench_django_setup,
    connector_use_plan,
    copy_template,
    demo_stamp,
    ensure_template,
    fresh_app_database,
    load_average,
    machine_speed,
    report,
    store_dsn,
    wait_idle,
)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
APP_DB = "privacydesk_bench_big"
STORE_DB = "pd_bench_big"
CUSTOMERS = 2_000  # the other customers of the store
PER_TICKET = 100
TARGET_ROWS_PER_S = 50_000  # issue 12: at least
TARGET_RSS_MB = 250  # issue 12: below


# --- the store ------------------------------------------------------------------


def _history(
    customer_id: int, messages: int, first_ticket: int, first_message: int
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The big customer's tickets and messages as (table, row), seeded: the
    demo's ticket subject and message templates filled with their details."""
    from connectors.demo.content import (
        AGENT_REPLIES,
        CUSTOMER_OPENERS,
        FOLLOW_UPS,
        customer,
        fill_template,
    )

    c = customer(customer_id, seed=SEED)
    rng = random.Random(SEED + customer_id)
    lines = (CUSTOMER_OPENERS, AGENT_REPLIES, FOLLOW_UPS, AGENT_REPLIES)
    start = datetime(2022, 1, 1, tzinfo=UTC)
    for number in range(messages):
        ticket, index = divmod(number, PER_TICKET)
        opened = start + timedelta(hours=ticket)
        if index == 0:
            status = rng.choice(("open", "pending", "solved", "closed"))
            subject = fill_template(rng, "Order {order}: {product}", c)
            yield "tickets", (first_ticket + ticket, c.id, subject, status, opened)
        template = rng.choice(lines[index % len(lines)])
        yield (
            "messages",
            (
                first_message + number,
                first_ticket + ticket,
                ("customer", "agent")[index % 2],
                fill_template(rng, template, c),
                opened + timedelta(seconds=30 * index),
            ),
        )


def build_store(target: str, messages: int) -> str:
    """The demo store for CUSTOMERS customers, then the big customer's
    history with COPY (tickets first: messages name them)."""
    import psycopg

    from connectors.demo.content import StoreSize, customer
    from connectors.demo.stores import COLUMNS, build_postgres

    counts = build_postgres(target, StoreSize(customers=CUSTOMERS), seed=SEED)
    big = customer(CUSTOMERS + 1, seed=SEED)
    with psycopg.connect(target) as conn:
        conn.execute(
            "INSERT INTO customers (id, name, email, phone, crm_id, created_at) "
            "VALUES (%s, %s, %s, %s, %s, '2022-01-01T00:00:00Z')",
            [big.id, big.name, big.email, big.phone, big.crm_id],
        )
        conn.execute(
            "INSERT INTO ai_conversations (id, customer_email, transcript, model, "
            "created_at) VALUES (%s, %s, '[]', 'support-assistant-v2', "
            "'2024-03-01T00:00:00Z')",
            [big.id * 10, big.email],
        )
        first_ticket = counts["tickets"] + 1
        first_message = counts["messages"] + 1
        history = lambda: _history(  # noqa: E731 (seeded: the same each pass)
            big.id, messages, first_ticket, first_message
        )
        tickets = 0
        with conn.cursor() as cursor:
            # Two passes over the same seeded history, so nothing is held:
            # the tickets first (messages name them), then the messages.
            for wanted in ("tickets", "messages"):
                columns = ", ".join(COLUMNS[wanted])
                with cursor.copy(f"COPY {wanted} ({columns}) FROM STDIN") as copy:
                    for table, row in history():
                        if table == wanted:
                            copy.write_row(row)
                            tickets += table == "tickets"
        conn.commit()
    add_indexes(target)
    return (
        f"{counts['customers']:,} customers, {counts['messages']:,} messages, "
        f"+ customer {big.id} with {tickets:,} tickets and {messages:,} "
        "messages"
    )


# --- the request ----------------------------------------------------------------


def run_access(customer_id: int, worker: Worker, timeout: float) -> dict[str, Any]:
    """One access request for the customer, verified on an idle worker; its
    timings from the rows, the peak RSS and the worker's CPU."""
    from accounts.actors import actor_system
    from connectors.demo.content import customer
    from dsr.models import AccessPackage, Request, RequestTask
    from dsr.services.requests import request_create, request_verify

    actor = actor_system("bench")
    request = request_create(
        actor=actor,
        kind="access",
        regime="gdpr",
        channel="api",
        identity={"email": customer(customer_id, seed=SEED).email},
    )
    wait_idle(REDIS_URL)
    cpu = CpuMeter(
        {"worker": worker.pids, "db": lambda: backend_pids([APP_DB, STORE_DB])}
    )
    with RssSampler(worker) as sampler, cpu:
        request_verify(actor=actor, request=request, method="api_vouched")
        deadline = time.monotonic() + timeout
        while not Request.objects.filter(pk=request.pk, closed_at__isnull=False):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the request was still open after {timeout} s")
            time.sleep(0.1)
    request.refresh_from_db()
    if request.status != "completed":
        raise RuntimeError(f"access ended {request.status}: {request.status_reason}")
    task = RequestTask.objects.get(request=request, action="access")
    package = AccessPackage.objects.get(request=request)
    assert task.started_at is not None
    assert task.finished_at is not None
    return {
        "rows": package.record_count,
        "size": package.size,
        "read": (task.finished_at - task.started_at).total_seconds(),
        "package": (package.created_at - task.finished_at).total_seconds(),
        "total": (package.created_at - task.started_at).total_seconds(),
        "cpu": cpu,
        "rss": sampler,
    }


# --- main -----------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages", type=int, default=1_000_000, help="the big customer's"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the store")
    parser.add_argument("--keep", action="store_true", help="keep the worker's log")
    args = parser.parse_args()

    env, var_dir = bench_django_setup(
        app_db=APP_DB, redis_url=REDIS_URL, var_prefix="pd-bench-big-"
    )
    template = f"pd_bench_big_tpl_{args.messages}"
    stamp = demo_stamp(customers=CUSTOMERS, big=args.messages, per_ticket=PER_TICKET)
    ensure_template(
        template, stamp, args.rebuild, lambda dsn: build_store(dsn, args.messages)
    )
    copy_template(template, STORE_DB)
    fresh_app_database(APP_DB, env)
    connector_use_plan("null", store_dsn(STORE_DB))
    worker = Worker(env, var_dir / "worker.log")
    print(f"load average before: {load_average()}; machine speed: {machine_speed()}")
    try:
        worker.start()
        run_access(1, worker, 120)  # warm-up: both processes load their code
        run_access(2, worker, 120)
        result = run_access(CUSTOMERS + 1, worker, 1800)
    finally:
        worker.stop()
    print(f"load average after: {load_average()}; machine speed: {machine_speed()}")
    rows, total = result["rows"], result["total"]
    rate = rows / total
    rss_mb = result["rss"].peak_kb / 1024
    figures = [
        Figure(
            f"access, {args.messages:,} messages: rows/s into the package",
            rate,
            "rows/s",
            TARGET_ROWS_PER_S,
            f"ratio {rate / TARGET_ROWS_PER_S:.2f}; {rows:,} rows in "
            f"{total:.1f} s (task start -> package stored): store read "
            f"{result['read']:.1f} s, package {result['package']:.1f} s; ZIP "
            f"{result['size'] / 1e6:.0f} MB; worker {result['cpu'].note()}",
            at_least=True,
        ),
        Figure(
            "peak worker RSS during it",
            rss_mb,
            "MB",
            TARGET_RSS_MB,
            f"ratio {rss_mb / TARGET_RSS_MB:.2f}; {result['rss'].note()}",
        ),
    ]
    worker_cpu = result["cpu"].used.get("worker", 0.0)
    figures.append(
        Figure(
            "rows per second of worker CPU",
            rows / worker_cpu,
            "rows/s",
            TARGET_ROWS_PER_S,
            f"ratio {rows / worker_cpu / TARGET_ROWS_PER_S:.2f}; "
            f"{worker_cpu:.1f} s of worker CPU for {rows:,} rows: the rate on a "
            "core of its own (the store's PostgreSQL backend runs beside it); "
            "when the machine is shared, compare this one",
            at_least=True,
        )
    )
    report(figures, "big_access")
    admin(f'DROP DATABASE IF EXISTS "{STORE_DB}" WITH (FORCE)')
    if not args.keep:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
