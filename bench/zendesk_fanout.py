"""Benchmark: 50 erasures fanned out to one Zendesk account (issue 13).

1. Privacy Desk's own database `privacydesk_bench_zendesk` (PostgreSQL,
   `BENCH_PG_URL`), dropped, created and migrated at every run; Redis
   database 12 (`BENCH_SAAS_REDIS_URL`) as broker *and* cache, so the rate
   budget is shared by every worker process as in production; flushed.
2. The Zendesk stand-in (standins.zendesk) in this process on loopback: 60
   demo customers (2 tickets of 4 comments each), every answer after 100 ms,
   700 calls a minute for the account (a fixed window per minute; a call
   over it gets 429 with Retry-After), pages of 100. One enabled zendesk
   connector pointed at it with `rate_limit_per_minute: 700`.
3. One `celery worker --pool prefork --concurrency 2`. 50 erasures for 50
   different customers are created, then verified back to back (the clock
   starts at the first verification) and polled until all are closed.
4. Figures: the total time; the floor set by the rate limit (the calls the
   plan made, 429s excluded, divided by 700 a minute); their ratio (target
   < 1.2); the share of calls answered 429 (target < 2 %); and that every
   request completed, with its verification, and every user is permanently
   deleted in the stand-in. Plus the machine-speed figure and load average.

    .venv/bin/python bench/zendesk_fanout.py [--requests 50] [--keep]

A benchmark, not a test: it prints figures, targets and PASS/MISS and exits
0 unless the run itself failed.
"""

from __future__ import annotations

import argparse
import os
import shutil

from _common import (
    DISCLOSURE,
    Figure,
    Worker,
    bench_django_setup,
    fresh_app_database,
    load_average,
    machine_speed,
    report,
    wait_idle,
)
from fanout import create_requests, verify, wait_closed

REDIS_URL = os.environ.get("BENCH_SAAS_REDIS_URL", "redis://127.0.0.1:6379/12")
APP_DB = "privacydesk_bench_zendesk"
PER_MINUTE = 700
LATENCY = 0.1
TOKEN = "bench-zendesk-token-0123456789"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the worker log")
    args = parser.parse_args()
    print(f"machine speed before: {machine_speed()}; load {load_average()}")
    env, var_dir = bench_django_setup(
        app_db=APP_DB,
        redis_url=REDIS_URL,
        var_prefix="pd-bench-zd-",
        REDIS_URL=REDIS_URL,
    )
    fresh_app_database(APP_DB, env)

    from connectors.models import Connector
    from dsr.models import RequestTask
    from standins.zendesk import Account, start
    from standins.zendesk.state import AGENT_EMAIL, user_id

    standin = start(
        Account.seeded(customers=args.requests + 10),
        token=TOKEN,
        per_window=PER_MINUTE,
        window_seconds=60.0,
        latency=LATENCY,
        page_size=100,
    )
    Connector.objects.create(
        name="zendesk",
        kind="zendesk",
        config={
            "subdomain": "bench",
            "email": AGENT_EMAIL,
            "base_url": standin.url,
            "rate_limit_per_minute": PER_MINUTE,
        },
        secrets={"api_token": TOKEN},
        data_categories=["contact", "support_ticket", "support_message"],
        disclosure=DISCLOSURE,
    )
    worker = Worker(env, var_dir / "worker.log")
    try:
        worker.start()
        customers = list(range(1, args.requests + 1))
        requests = create_requests("erasure", customers)
        wait_idle(REDIS_URL)
        calls_before = standin.stats.calls
        started = verify(requests)
        closed = wait_closed(requests, timeout=900)
        total = closed.last - started
        stats = standin.stats
        calls = stats.calls - calls_before
        refused = stats.refused_429
        floor = (calls - refused) / (PER_MINUTE / 60)
        verified = RequestTask.objects.filter(
            request__in=requests, action="erase", status="succeeded"
        ).count()
        purged = sum(user_id(c) in standin.account.purged for c in customers)
        print(
            f"\n{calls} calls ({refused} answered 429, {stats.early_retries} made "
            f"before a Retry-After ran out, {stats.failed_5xx} 5xx); "
            f"{calls / len(requests):.1f} calls per erasure"
        )
        report(
            [
                Figure(
                    f"{len(requests)} erasures, first verified -> all closed",
                    total,
                    "s",
                ),
                Figure("floor: calls / 700 a minute", floor, "s"),
                Figure("total / floor", total / floor, "x", target=1.2),
                Figure("calls answered 429", 100 * refused / calls, "%", target=2),
                Figure(
                    "requests completed",
                    closed.statuses.count("completed"),
                    "",
                    note=f"of {len(requests)}",
                ),
                Figure(
                    "erase tasks succeeded (verified in process)",
                    verified,
                    "",
                    note=f"of {len(requests)}",
                ),
                Figure(
                    "users permanently deleted in the stand-in",
                    purged,
                    "",
                    note=f"of {len(requests)}",
                ),
            ],
            "zendesk fan-out",
        )
        if not closed.all_completed or purged != len(requests):
            print(f"NOT ALL DONE: {closed.reasons[:3]}")
    finally:
        worker.stop()
        standin.stop()
        print(f"machine speed after: {machine_speed()}; load {load_average()}")
        if args.keep:
            print(f"worker log: {var_dir / 'worker.log'}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
