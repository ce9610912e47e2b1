"""Benchmark: what an evidence pack costs, for a simple request and a large one.

What it does, in one run:

1. Creates the PostgreSQL database `privacydesk_bench_evidence` (or
   `BENCH_EVIDENCE_DB`; dropped and migrated at every run, dropped again at the
   end unless `--keep`) and seeds three closed erasure requests
   (`evidence.demo.sample_closed_erasure`: per-table counts, a verification
   pass, a kept table with its legal basis, a retried attempt, a pause, an
   extension, consent choices): a simple one over 1 store and one over 3
   stores, each with only the events those make (about 15), and the full one
   over `--stores` (10) stores padded with staff notes to `--events` (200)
   audit events.
2. Generates one pack unmeasured (WeasyPrint's import, the stylesheet and the
   font configuration load once per process, as in a worker), then `--repeat`
   packs of each request, each exactly what closing a request does: gather
   the facts, render with WeasyPrint (PDF/A-3b with evidence.json attached),
   store the file and write its SHA-256 to the chain.
3. Prints the median CPU time of this process per pack (the figure the
   targets are about: on a shared machine wall time includes waiting for a
   CPU), its wall time, pages and size, each beside its target with the ratio
   and PASS/MISS; the machine-speed figure and the load average before and
   after; and verifies the last pack of each request (`evidence_pack_verify`).

Targets (issue 12): a simple pack (1 to 3 stores) <= 100 ms of CPU; the full
pack (10 stores, 200 events) < 1.5 s; (issue 6) under 1 MB.

    .venv/bin/python bench/evidence.py [--repeat 5] [--stores 10] [--events 200]

This is a benchmark, not a test: it prints figures and exits 0 unless the run
itself failed (`--strict` also fails on a missed target).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

from _common import (
    ROOT,
    Figure,
    admin,
    drop,
    dsn,
    load_average,
    machine_speed,
    median,
    report,
)

APP_DB = os.environ.get("BENCH_EVIDENCE_DB", "privacydesk_bench_evidence")
SIMPLE_CPU = 0.100  # seconds, <= (issue 12)
FULL_CPU = 1.5  # seconds, < (issue 12)
MAX_BYTES = 1_000_000  # < (issue 6)


def _fresh_database(env: dict[str, str]) -> None:
    drop(APP_DB)
    admin(f'CREATE DATABASE "{APP_DB}"')
    for command in (["migrate", "-v0"], ["createcachetable"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
        )


def _seed(stores: int, events: int) -> Any:
    """A sample request; nothing it enqueues after commit is sent."""
    from evidence.demo import sample_closed_erasure

    with mock.patch("dsr.tasks.request_closed_task.delay"):
        return sample_closed_erasure(stores=stores, audit_events=events)


def _measure(name: str, request: Any, repeat: int) -> dict[str, Any]:
    """`repeat` packs of one request: CPU and wall per pack, the last pack."""
    from accounts.actors import actor_system
    from audit.models import AuditEvent
    from evidence.packs.verify import evidence_pack_verify
    from evidence.services import evidence_pack_generate

    actor = actor_system("bench")
    own = AuditEvent.objects.filter(object_id=str(request.public_id)).count()
    cpus, walls, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = evidence_pack_generate(actor=actor, request=request)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    assert result is not None
    verified = evidence_pack_verify(content=result.content).ok
    print(
        f"{name}: {request.tasks.count()} tasks, {own} audit events; CPU per pack "
        + ", ".join(f"{c * 1000:.0f}" for c in cpus)
        + f" ms; {result.pack.pages} pages, {result.pack.size / 1000:.0f} kB; "
        f"verify_evidence: {'OK' if verified else 'FAILED'}"
    )
    return {
        "cpu": median(cpus),
        "wall": median(walls),
        "pages": result.pack.pages,
        "size": result.pack.size,
        "verified": verified,
    }


def _ratio(value: float, target: float) -> str:
    return f"{value / target:.2f}x target"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="packs per request")
    parser.add_argument("--stores", type=int, default=10, help="full pack's stores")
    parser.add_argument("--events", type=int, default=200, help="full pack's events")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--strict", action="store_true", help="fail on a miss")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="pd-bench-evidence-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "privacydesk.settings",
        "DATABASE_URL": dsn(APP_DB),
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
    from evidence.services import evidence_pack_generate

    try:
        speed_before, load_before = machine_speed(), load_average()
        cases = {
            "simple, 1 store": _seed(1, 0),
            "simple, 3 stores": _seed(3, 0),
            f"full, {args.stores} stores": _seed(args.stores, args.events),
        }
        first = next(iter(cases.values()))
        evidence_pack_generate(actor=actor_system("bench"), request=first)  # warm-up
        runs = {name: _measure(name, req, args.repeat) for name, req in cases.items()}
        speed_after, load_after = machine_speed(), load_average()

        figures = []
        for name, run in runs.items():
            simple = name.startswith("simple")
            target = SIMPLE_CPU if simple else FULL_CPU
            figures.append(
                Figure(
                    f"{name}: CPU per pack",
                    run["cpu"] * 1000,
                    "ms",
                    target * 1000,
                    f"{_ratio(run['cpu'], target)}; wall {run['wall'] * 1000:.0f} ms, "
                    f"{run['pages']} pages",
                    inclusive=simple,
                )
            )
        full = runs[f"full, {args.stores} stores"]
        figures.append(
            Figure(
                "full pack: size",
                full["size"] / 1000,
                "kB",
                MAX_BYTES / 1000,
                _ratio(full["size"], MAX_BYTES),
            )
        )
        report(figures, "evidence packs")
        print(f"machine speed: before {speed_before}; after {speed_after}")
        print(f"load average: before {load_before}; after {load_after}")
        met = all(f.verdict == "PASS" for f in figures)
        ok = all(run["verified"] for run in runs.values())
        return 1 if not ok or (args.strict and not met) else 0
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop(APP_DB)


if __name__ == "__main__":
    sys.exit(main())
