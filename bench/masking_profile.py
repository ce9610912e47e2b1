"""Profile: the web CPU of one masking call, in one process (issue 15).

With the production settings, its own PostgreSQL database
(`privacydesk_bench_masking_profile`, migrated at every run) and Redis
(`BENCH_REDIS_URL`, database 12 by default, flushed), N customers who
allowed `ai_processing` (bench/masking.py's) and an API client holding
masking:use. Each call goes through the WSGI application as gunicorn calls
it (middleware, authentication, scopes, DRF, the service, rendering), with a
prebuilt environ: no HTTP, so the CPU counted is the web process's own.

It sends bench/masking.py's bodies (a ~500-character message of one of the
customers' conversations, reversible) and prints the process CPU per call,
without and with cProfile, the statements of a first and of a later turn,
and the costliest functions.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/masking_profile.py
    # -n 2000 calls (default); --top N functions; --dump FILE the profile;
    # --repeat R: the plain measurement R times (min and median printed:
    # on a shared machine others' load inflates single runs); --first:
    # profile first turns (each opens a vault) instead of later ones

Not a test: it prints figures and exits 0 unless the run itself failed.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import json
import os
import pstats
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _common import bench_django_setup, fresh_app_database, load_average, machine_speed
from intake_profile import Wsgi

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
APP_DB = os.environ.get("BENCH_MASKING_DB", "privacydesk_bench_masking_profile")


def cpu_per_call(calls: int, call: Callable[[], None]) -> float:
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) / calls


def statements(call: Callable[[], None]) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return [query["sql"] for query in captured.captured_queries]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="calls to measure")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--top", type=int, default=30, help="functions to list")
    parser.add_argument("--dump", help="write the calls' profile to this file")
    parser.add_argument(
        "--repeat", type=int, default=1, help="plain measurements of -n calls"
    )
    parser.add_argument(
        "--first",
        action="store_true",
        help="profile conversations' first turns (a new vault each) instead",
    )
    args = parser.parse_args()

    env, var_dir = bench_django_setup(
        app_db=APP_DB,
        redis_url=REDIS_URL,
        var_prefix="pd-bench-masking-",
        REDIS_URL=REDIS_URL,
        ALLOWED_HOSTS="127.0.0.1",
    )
    fresh_app_database(APP_DB, env)
    from accounts.actors import actor_system
    from audit.accounts import api_client_create

    # bench/masking.py's data (its module name is the app's: load it by path)
    spec = importlib.util.spec_from_file_location(
        "masking_bench", Path(__file__).with_name("masking.py")
    )
    bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    consenting_customers, write_bodies = bench.consenting_customers, bench.write_bodies
    customers = consenting_customers(args.customers)
    _, token = api_client_create(
        actor=actor_system("bench"), name="bench-masking", scopes=["masking:use"]
    )
    wsgi = Wsgi(token)
    bodies_file = write_bodies(var_dir / "bodies.txt", customers, 1)
    bodies = [json.loads(line) for line in Path(bodies_file).read_text().splitlines()]
    position = iter(range(10**9))

    def call() -> None:
        body = bodies[next(position) % len(bodies)]
        code, answer = wsgi.post("/api/v1/redact/", body)
        if code != 200:
            raise RuntimeError(f"redact answered {code}: {answer}")

    fresh = iter(range(10**9))

    def first_call() -> None:
        body = {**bodies[next(position) % len(bodies)]}
        body["conversation_id"] = f"new-{next(fresh)}"  # opens a vault
        code, answer = wsgi.post("/api/v1/redact/", body)
        if code != 200:
            raise RuntimeError(f"redact answered {code}: {answer}")

    print(f"load average before: {load_average()}; machine speed: {machine_speed()}")
    first_turn = statements(first_call)
    cpu_per_call(min(args.n, len(bodies) - 1), call)  # warm: most conversations open
    first = cpu_per_call(max(1, args.n // 5), first_call)

    def later_call() -> None:
        # a conversation the warm-up opened, with one value it has not seen
        body = {**bodies[1]}
        body["text"] += f" Or write to later-{next(fresh)}@example.net."
        code, answer = wsgi.post("/api/v1/redact/", body)
        if code != 200:
            raise RuntimeError(f"redact answered {code}: {answer}")

    later_turn = statements(later_call)
    plains = sorted(cpu_per_call(args.n, call) for _ in range(max(1, args.repeat)))
    plain = plains[len(plains) // 2]
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    profiled = cpu_per_call(args.n, first_call if args.first else call)
    profiler.disable()
    print(f"load average after: {load_average()}; machine speed: {machine_speed()}")
    if args.dump:
        profiler.dump_stats(args.dump)
    print(f"\nstatements, a conversation's first turn ({len(first_turn)}):")
    print("\n".join(f"  {q[:150]}" for q in first_turn))
    print(f"statements, a later turn adding a value ({len(later_turn)}):")
    print("\n".join(f"  {q[:150]}" for q in later_turn))
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())
    if len(plains) > 1:
        print(
            f"plain runs of {args.n} calls, ms per call: "
            + ", ".join(f"{p * 1000:.2f}" for p in plains)
            + f" (min {plains[0] * 1000:.2f}, median {plain * 1000:.2f})"
        )
    print(
        f"web CPU per redact call: {plain * 1000:.2f} ms "
        f"({args.n} calls; {profiled * 1000:.2f} ms under cProfile); "
        f"a conversation's first turn {first * 1000:.2f} ms"
    )
    shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
