"""Benchmark: the masking gateway against a trivial endpoint on the same server.

What it does, in one run:

1. Creates its own PostgreSQL database (`privacydesk_bench_masking`, dropped
   and migrated each run: the vault starts empty), and N customers
   (`--customers`, default 1,000; connectors.demo.content's seeded people)
   who allowed `ai_processing`, through the consent service.
2. Starts the server (privacydesk.web: granian, 2 workers, 127.0.0.1, a free
   port) with Redis database
   12 as the cache (`BENCH_REDIS_URL`), as bench/consent_check.py does, and
   an API client holding masking:use and consent:check.
3. Drives with `wrk` over loopback, in alternating slices of equal length:
   - `GET /api/v1/consent/ping/`: the trivial endpoint, same token;
   - `POST /api/v1/consent/check/`: the consent check that each masking call
     answers too, for the same customers and purpose (from the cache, as the
     masking calls left it): what any masking call costs at the least;
   - `POST /api/v1/redact/` with `reversible: true`: a message of about 500
     characters (masking.demo.sample_message: the customer's name, e-mail
     and phone, order numbers, a card, an IBAN, an IP inside free text) from
     one of the N customers' conversations at random, so later turns find
     their values in the vault and new ones are numbered after them.
   It prints requests/s, p50 and p99, the CPU each request cost per process
   (web, db, redis, wrk), the ratio to the trivial endpoint, and a
   message's CPU counted in trivial requests (measured in the same slices,
   so comparable across runs on a machine whose speed drifts). And a
   ceiling: the messages/s two cores could serve if masking cost no more
   than the check plus the vault's PostgreSQL work (no detection, no
   tokens), which says whether the target is within this machine's reach.

Targets (issue 15): at least 1,000 messages/s through the API on two cores,
p99 under 20 ms; the ratio to the trivial endpoint is printed, as the
consent bench prints its own.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/masking.py

A benchmark, not a test: it prints figures and exits 0 unless the run itself
failed (`--strict` also fails on missed targets).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from _common import admin, load_average, machine_speed
from consent_check import (
    LUA_CHECK,
    LUA_COMMON,
    LUA_PING,
    REDIS_URL,
    Meter,
    Result,
    Run,
    app_environment,
    free_port,
    run_wrk,
    start_server,
    wait_ready,
)

if TYPE_CHECKING:
    from connectors.demo.content import Customer

DATABASE = "privacydesk_bench_masking"
SEED = 15
RATE_TARGET = 1_000  # messages/s through the API, at least
P99_TARGET_MS = 20.0
PREBUILT = 4_000  # bodies per slice file, sent round-robin
PURPOSE = "ai_processing"

LUA_REDACT = (
    LUA_COMMON
    + """
local bodies = {}
local next_body = 0
local head

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Accept"] = "application/json"
  wrk.headers["Content-Type"] = "application/json"
  head = wrk.format(nil, nil, nil, nil):sub(1, -3)
  for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
end

function request()
  next_body = next_body % #bodies + 1
  local body = bodies[next_body]
  return head .. "Content-Length: " .. #body .. "\\r\\n\\r\\n" .. body
end
"""
)


def prepare_database(env: dict[str, str]) -> None:
    admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{DATABASE}"')
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def consenting_customers(count: int) -> list[Customer]:
    """N demo customers who allowed AI processing (one consent event each,
    through the consent service, as the chat widget records them)."""
    from accounts.actors import actor_system
    from connectors.demo.content import customer
    from consent.seed import seed_purposes
    from consent.services.events import consent_set
    from subjects.claims import identity_claims
    from subjects.services import subject_get_or_create

    seed_purposes()
    actor = actor_system("bench")
    people = [customer(number, seed=SEED) for number in range(1, count + 1)]
    for person in people:
        subject = subject_get_or_create(claims=identity_claims({"email": person.email}))
        consent_set(
            actor=actor,
            subject=subject,
            purpose=PURPOSE,
            granted=True,
            channel="chat_widget",
        )
    return people


def write_checks(path: Path, customers: list[Customer], seed: int) -> Path:
    """One slice's consent checks (e-mail, purpose; bench/consent_check.py's
    format): the masking calls' customers at random, their one purpose."""
    rng = random.Random(seed)
    path.write_text(
        "".join(f"{rng.choice(customers).email}\t{PURPOSE}\n" for _ in range(PREBUILT))
    )
    return path


def write_bodies(path: Path, customers: list[Customer], seed: int) -> Path:
    """One slice's request bodies: a message from a random customer's
    conversation each."""
    from masking.demo import sample_message

    rng = random.Random(seed)
    lines = []
    for _ in range(PREBUILT):
        person = rng.choice(customers)
        body = {
            "identity": {"email": person.email},
            "name": person.name,
            "purpose": PURPOSE,
            "conversation_id": f"chat-{person.id}",
            "reversible": True,
            "text": sample_message(rng, person),
        }
        lines.append(json.dumps(body, separators=(",", ":")))
    path.write_text("\n".join(lines) + "\n")
    return path


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--rounds", type=int, default=4, help="slices per endpoint, alternating"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 on a missed target"
    )
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="pd-bench-masking-"))
    env = app_environment(DATABASE, work / "var")
    prepare_database(env)
    customers = consenting_customers(args.customers)

    import redis
    from django.db import connections

    from accounts.actors import actor_system
    from audit.accounts import api_client_create

    cache = redis.Redis.from_url(REDIS_URL)
    cache.flushdb()
    _, token = api_client_create(
        actor=actor_system("bench"),
        name=f"bench-{uuid.uuid4().hex[:8]}",
        scopes=["masking:use", "consent:check"],
    )
    connections.close_all()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    urls = {
        "ping": f"{base}/api/v1/consent/ping/",
        "check": f"{base}/api/v1/consent/check/",
        "redact": f"{base}/api/v1/redact/",
    }
    server = start_server(env, port, work / "web.log")
    results = {
        "ping": Result("GET  /api/v1/consent/ping/", []),
        "check": Result("POST /api/v1/consent/check/", []),
        "redact": Result("POST /api/v1/redact/", []),
    }
    meters: dict[str, Meter] = {}
    try:
        try:
            wait_ready(base, token)
        except RuntimeError:
            log = (work / "web.log").read_text(errors="replace").splitlines()
            print("\n".join(log[-30:]), file=sys.stderr)
            raise

        def run(name: str, seconds: int, seed: int) -> Run:
            load_env = {"BENCH_TOKEN": token}
            script = LUA_PING
            if name == "check":
                checks = write_checks(work / "checks.txt", customers, SEED * 100 + seed)
                load_env["BENCH_CHECKS"], script = str(checks), LUA_CHECK
            elif name == "redact":
                bodies = write_bodies(work / "bodies.txt", customers, SEED * 100 + seed)
                load_env["BENCH_BODIES"], script = str(bodies), LUA_REDACT
            return run_wrk(
                name, urls[name], script, seconds, args.connections, load_env, work
            )

        # Warm the workers (imports, the detector, connections, the cache).
        # A kept-alive connection stays with the worker that accepted it, and
        # one wrk run's 4 connections can all land on one worker: several
        # short runs, each connecting anew, reach every worker (a cold one
        # loads the detector for about a second on its first call).
        for _ in range(4):
            for name in results:
                run(name, 1, 0)
        for name in results:
            meters[name] = Meter(server.pid, DATABASE, cache)
        slice_seconds = max(1, args.seconds // args.rounds)
        before = (load_average(), machine_speed())
        for round_number in range(1, args.rounds + 1):
            for name, result in results.items():
                result.runs.append(
                    meters[name].measure(
                        lambda n=name, r=round_number: run(n, slice_seconds, r)
                    )
                )
        after = (load_average(), machine_speed())
        entries = vault_entries()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\ndata: {args.customers:,} customers who allowed {PURPOSE}, one "
        f"conversation each; messages of ~500 characters (seed {SEED}); "
        f"vault at the end: {entries:,} entries (PostgreSQL, {DATABASE})"
    )
    print(
        "server: granian (privacydesk.web), 2 workers on loopback; load: wrk, "
        f"1 thread, {args.connections} connections, {args.seconds} s per endpoint "
        f"in {args.rounds} alternating slices; {os.cpu_count()} CPUs shared by all"
    )
    print(f"before the slices: load average {before[0]}; machine speed {before[1]}")
    print(f"after the slices:  load average {after[0]}; machine speed {after[1]}")
    return report(results, meters, args)


def vault_entries() -> int:
    from masking.models import VaultEntry

    return VaultEntry.objects.count()


def report(
    results: dict[str, Result], meters: dict[str, Meter], args: argparse.Namespace
) -> int:
    print(
        f"\n{'endpoint':<30}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
        f"  CPU us/request: web   db redis  wrk total"
    )
    for name, result in results.items():
        cpu = meters[name].per_request_us(result.requests)
        print(
            f"{result.name:<30}{result.rate:>7.0f}{result.quantile_ms(50):>8.2f}"
            f"{result.quantile_ms(99):>8.2f}{result.errors:>7}{'':>17}"
            f"{cpu['web']:>4.0f}{cpu['db']:>5.0f}{cpu['redis']:>6.0f}"
            f"{cpu['wrk']:>5.0f}{cpu['total']:>6.0f}"
        )
    ping, redact = results["ping"], results["redact"]
    ratio = redact.rate / ping.rate
    p99 = redact.quantile_ms(99)
    redact_cpu = meters["redact"].per_request_us(redact.requests)["total"]
    idle_rate = 2 * 1e6 / redact_cpu  # what two idle cores would serve
    # What a masking call cannot do without, measured in the same slices:
    # the consent check it answers (HTTP, token, a cached answer) and the
    # vault's statements in PostgreSQL.
    check = results["check"]
    least_cpu = (
        meters["check"].per_request_us(check.requests)["total"]
        + meters["redact"].per_request_us(redact.requests)["db"]
    )
    # Both endpoints ran in the same slices, so at the same machine speed:
    # this one compares across runs on a machine whose speed drifts.
    in_pings = redact_cpu / meters["ping"].per_request_us(ping.requests)["total"]
    verdicts = [redact.rate >= RATE_TARGET, p99 < P99_TARGET_MS]
    print(f"\n{'figure':<44}{'value':>10}{'target':>10}  verdict")
    print(
        f"{'masking throughput (messages/s)':<44}{redact.rate:>10.0f}"
        f"{'>= ' + str(RATE_TARGET):>10}  {'PASS' if verdicts[0] else 'MISS'}"
    )
    print(
        f"{'masking p99 latency':<44}{p99:>7.2f} ms{'< 20 ms':>10}  "
        f"{'PASS' if verdicts[1] else 'MISS'}"
    )
    print(f"{'throughput, masking / trivial':<44}{ratio:>9.2f}x")
    print(f"{'on two idle cores (2 s of CPU / CPU per msg)':<44}{idle_rate:>10.0f}")
    print(f"{'CPU per message, in trivial requests':<44}{in_pings:>9.2f}x")
    ceiling = 2 * 1e6 / least_cpu
    print(
        f"{'ceiling: check + vault PostgreSQL CPU only':<44}{ceiling:>10.0f}"
        f"{'':>10}  (messages/s two cores allow if detection, tokens and "
        "the vault's own code cost nothing)"
    )
    print(f"\nSUMMARY masking: {sum(verdicts)}/{len(verdicts)} targets met")
    if any(result.errors for result in results.values()):
        print("errors were reported: the figures are not valid", file=sys.stderr)
        return 1
    return 1 if args.strict and not all(verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
