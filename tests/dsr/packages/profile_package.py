"""Profile the access package build for a typical subject (~30 records).

Not collected by the suite (no test_ prefix); run it explicitly:

    .venv/bin/pytest tests/evidence/profile_package.py -q -s [--profile-top N]

It prints, after a warm-up build, the median milliseconds of `package_build`
alone and of `access_package_build_and_close` (build, store, audit, close,
notice), with the SQL queries each makes. PROFILE_TOP=N also prints the N
costliest functions of the build (cProfile, cumulative time).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.models import Connector
from dsr.packages.build import package_build
from dsr.services.packages import (
    _build_reads,
    _package_input,
    access_package_build_and_close,
)
from tests.dsr.packages.conftest import (
    ASSISTANT_DISCLOSURE,
    HELPDESK_DISCLOSURE,
    add_task,
    jsonl,
)

RUNS = 20


def _records(store: str, count: int) -> list[dict[str, Any]]:
    tables = ("customers", "tickets", "messages")
    return [
        {
            "location": tables[number % 3],
            "key": f"{store}-{number}",
            "category": "support_ticket",
            "data": {
                "id": number,
                "subject": f"Order {number} has not arrived",
                "body": "Where is my parcel? " * 8,
                "created_at": "2026-01-02T03:04:05+00:00",
            },
        }
        for number in range(count)
    ]


@pytest.fixture
def typical_request(make_request, make_connector):
    """A request answered by two stores: 30 records in all."""
    helpdesk = make_connector(
        "helpdesk", HELPDESK_DISCLOSURE, ["contact", "support_ticket"]
    )
    assistant = make_connector("assistant", ASSISTANT_DISCLOSURE, ["support_ticket"])
    # Disabled: a new request is not fanned out to them; add_task plays the work.
    Connector.objects.update(enabled=False)

    def make():
        request = make_request(kind="access", verified=True)
        add_task(request, helpdesk, content=jsonl(_records("h", 18)))
        add_task(request, assistant, content=jsonl(_records("a", 12)))
        return request

    return make


def _build(request) -> tuple[float, float]:
    spec = _package_input(request, _build_reads(request.pk)[2])
    started, cpu = time.perf_counter(), time.process_time()
    built = package_build(spec)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    built.file.close()
    return seconds * 1000, cpu * 1000


@pytest.mark.django_db
def test_profile_package_build(typical_request):
    access_package_build_and_close(request_id=typical_request().pk)  # warm-up

    build_ms, build_cpu, build_queries = [], [], []
    close_ms, close_cpu, close_queries = [], [], []
    for _ in range(RUNS):
        request = typical_request()
        with CaptureQueriesContext(connection) as queries:
            wall, cpu = _build(request)
        build_ms.append(wall)
        build_cpu.append(cpu)
        build_queries.append(len(queries))

        # What the worker does once the last task finishes: build, store,
        # audit, close. (The notice and the evidence pack are separate tasks
        # enqueued on commit; a test transaction never commits.)
        request = typical_request()
        with CaptureQueriesContext(connection) as queries:
            started, cpu = time.perf_counter(), time.process_time()
            outcome = access_package_build_and_close(request_id=request.pk)
            close_ms.append((time.perf_counter() - started) * 1000)
            close_cpu.append((time.process_time() - cpu) * 1000)
        assert outcome == "completed"
        close_queries.append(len(queries))

    median = statistics.median
    print(  # noqa: T201 (the figures are the point)
        f"\n30 records, median of {RUNS}:\n"
        f"  package_build: {median(build_ms):.1f} ms wall, "
        f"{median(build_cpu):.1f} ms CPU, {max(build_queries)} queries "
        "(reading the request's tasks included)\n"
        f"  access_package_build_and_close: {median(close_ms):.1f} ms wall, "
        f"{median(close_cpu):.1f} ms CPU, {max(close_queries)} queries"
    )
    top = int(os.environ.get("PROFILE_TOP", "0"))
    if top:
        profiler = cProfile.Profile()
        for _ in range(RUNS):
            request = typical_request()
            profiler.enable()
            access_package_build_and_close(request_id=request.pk)
            profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(top)
        print(out.getvalue())  # noqa: T201
