"""Benchmark: the evidence pack of a large request.

What it does, in one run:

1. Creates the PostgreSQL database `privacydesk_bench_evidence` (dropped and
   migrated at every run, dropped again at the end unless `--keep`) and
   seeds one closed erasure request over 10 stores with 200 audit events of
   its own (`evidence.demo.sample_closed_erasure`: per-table counts, a
   verification pass, a kept table with its legal basis, a retried attempt,
   a pause, an extension, consent choices, staff notes to reach 200).
2. Generates its pack once unmeasured (fonts and templates load once per
   process), then `--repeat` times measured, each exactly what closing a
   request does: gather the facts, render with WeasyPrint (PDF/A-3b with
   evidence.json attached), store the file and write its SHA-256 to the chain.
3. Prints, per run and as the median: wall time, this process's CPU time, the
   PDF's size and pages, the ratio of each to its target; and the load
   average, because on a shared machine wall time includes waiting for a CPU.
   It also verifies the last pack (`evidence_pack_verify`) as a sanity check.

Targets (issue 6): a pack for a request with 10 stores and 200 audit events
renders in under 3 s and under 1 MB.

    .venv/bin/python bench/evidence.py [--repeat 5] [--stores 10] [--events 200]

This is a benchmark, not a test: it prints figures and exits 0 unless the run
itself failed (`--strict` also fails on a missed target).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
APP_DB = "privacydesk_bench_evidence"
TARGET_SECONDS = 3.0
TARGET_BYTES = 1_000_000


def _dsn(database: str) -> str:
    return f"{PG_SERVER.rstrip('/')}/{database}"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_dsn("postgres"), autocommit=True) as admin:
        admin.execute(sql)


def _drop() -> None:
    _admin(f'DROP DATABASE IF EXISTS "{APP_DB}" WITH (FORCE)')


def _fresh_database(env: dict[str, str]) -> None:
    _drop()
    _admin(f'CREATE DATABASE "{APP_DB}"')
    for command in (["migrate", "-v0"], ["createcachetable"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
        )


def _seed(stores: int, events: int):  # type: ignore[no-untyped-def]
    """The sample request; nothing it enqueues after commit is sent."""
    from evidence.demo import sample_closed_erasure

    with (
        mock.patch("dsr.tasks.request_closed_task.delay"),
    ):
        return sample_closed_erasure(stores=stores, audit_events=events)


def _ratio(value: float, target: float) -> str:
    return f"{value / target:.2f} x target"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="measured packs")
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--events", type=int, default=200, help="audit events")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--strict", action="store_true", help="fail on a miss")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="pd-bench-evidence-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "privacydesk.settings",
        "DATABASE_URL": _dsn(APP_DB),
        "PRIVACYDESK_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
    }
    os.environ.update(env)
    _fresh_database(env)

    import django

    django.setup()
    from accounts.actors import actor_system
    from audit.models import AuditEvent
    from evidence.packs.verify import evidence_pack_verify
    from evidence.services import evidence_pack_generate

    try:
        request = _seed(args.stores, args.events)
        own_events = AuditEvent.objects.filter(
            object_type="dsr.request", object_id=str(request.public_id)
        ).count()
        print(
            f"request {request.reference}: {request.tasks.count()} tasks in "
            f"{args.stores} stores, {own_events} audit events of its own"
        )
        actor = actor_system("bench")
        evidence_pack_generate(actor=actor, request=request)  # warm-up

        walls: list[float] = []
        cpus: list[float] = []
        result = None
        for number in range(1, args.repeat + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            result = evidence_pack_generate(actor=actor, request=request)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            print(
                f"  run {number}: {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU, "
                f"{result.pack.size / 1000:.0f} kB, {result.pack.pages} pages"
            )
        assert result is not None
        wall_median = statistics.median(walls)
        cpu_median = statistics.median(cpus)
        size, pages = result.pack.size, result.pack.pages
        load = os.getloadavg()
        print()
        print(
            f"time  median {wall_median:.2f} s wall "
            f"({_ratio(wall_median, TARGET_SECONDS)}), "
            f"{cpu_median:.2f} s CPU ({_ratio(cpu_median, TARGET_SECONDS)}); "
            f"target < {TARGET_SECONDS:.0f} s"
        )
        print(f"size  {size:,} bytes ({_ratio(size, TARGET_BYTES)}); target < 1 MB")
        print(f"pages {pages}")
        print(
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on "
            f"{os.cpu_count()} CPUs (wall time includes waiting for a CPU)"
        )
        report = evidence_pack_verify(content=result.content)
        print(f"verify_evidence on the last pack: {'OK' if report.ok else report}")
        met = wall_median < TARGET_SECONDS and size < TARGET_BYTES
        print(f"{'PASS' if met else 'MISS'}: time and size against the targets")
        return 1 if args.strict and not met else 0
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _drop()


if __name__ == "__main__":
    sys.exit(main())
