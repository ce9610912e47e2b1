"""Profile: the web CPU of creating requests through the API (issue 12).

In this process, with the production settings, its own PostgreSQL database
(`privacydesk_bench_intake`, migrated at every run; `BENCH_INTAKE_DB`
overrides the name) and Redis (`BENCH_REDIS_URL`, database 12 by default:
broker and cache, flushed), one enabled sql connector (never contacted:
intake only plans its task) and an API client with requests:read, write and
verify. Each call goes through the WSGI application itself, as gunicorn
calls it (middleware, authentication, scopes, DRF, serializers, services,
rendering), with a prebuilt WSGI environ: no HTTP, no test client.

Measures, after a warm-up:
- `POST /api/v1/requests/` of an already-verified access request, N times
  (200; each for a new e-mail address): process CPU per POST, without and
  with cProfile, and the SQL statements of one POST (CaptureQueriesContext);
  the profile's cumulative CPU per part (auth, parsing, subject, request
  rows, verification, planning, audit, response), and the top functions;
- `POST /api/v1/requests/batch/` of 50 such requests, N / 50 times: CPU per
  created request and statements per batch.

    .venv/bin/python bench/intake_profile.py [-n 200] [--top 25]

It prints figures beside the issue's target (<= 5 ms of web CPU per created
request) and exits 0 unless the run itself failed. Not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

from _common import (
    Figure,
    bench_django_setup,
    connector_use_plan,
    fresh_app_database,
    load_average,
    machine_speed,
    report,
    store_dsn,
)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
APP_DB = os.environ.get("BENCH_INTAKE_DB", "privacydesk_bench_intake")
TARGET_MS = 5.0
BATCH = 50

# The parts of a POST: (label, module path fragment, function name). Each is
# a function's cumulative time in the profile; parts nest as indented (the
# broker is sent to when the service's transaction commits).
PARTS: list[tuple[str, str, str]] = [
    ("whole WSGI call", "django/core/handlers/wsgi.py", "__call__"),
    ("  bearer token auth", "accounts/api/authentication.py", "authenticate"),
    ("  scope check", "accounts/api/permissions.py", "has_permission"),
    ("  body parsing + input serializer", "privacydesk/apikit.py", "parse"),
    ("  service: check the input", "dsr/services/intake.py", "request_input_clean"),
    ("  service: write (one transaction)", "dsr/services/intake.py", "requests_record"),
    ("    subjects + identifiers", "subjects/services.py", "subjects_get_or_create"),
    ("    deadlines", "dsr/clock.py", "apply_deadlines"),
    ("    bulk_create (all rows)", "django/db/models/query.py", "bulk_create"),
    ("    reference (bulk_update)", "django/db/models/query.py", "bulk_update"),
    ("    history rows", "privacydesk/history.py", "history_bulk_create"),
    ("    planning", "dsr/services/execution/planning.py", "requests_plan_tasks"),
    ("    audit events (record)", "audit/services.py", "audit_record"),
    ("    audit append (SQL function)", "audit/services.py", "_append"),
    ("    field encryption", "privacydesk/crypto.py", "encrypt"),
    ("    after commit: send to broker", "celery/app/task.py", "apply_async"),
    ("  response serializer", "rest_framework/serializers.py", "data"),
    ("  JSON rendering", "rest_framework/renderers.py", "render"),
    ("SQL execute (all)", "django/db/backends/utils.py", "execute"),
]


class Wsgi:
    """Calls the WSGI application as gunicorn would, with a JSON body."""

    def __init__(self, token: str) -> None:
        from privacydesk.wsgi import application  # what gunicorn serves

        self.app = application
        self.token = token

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        raw = json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {self.token}",
            "HTTP_ACCEPT": "application/json",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(raw)),
            "wsgi.input": io.BytesIO(raw),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        status: list[str] = []
        chunks = self.app(environ, lambda s, headers, *a: status.append(s))
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return int(status[0].split()[0]), json.loads(content) if content else None


def access(n: int) -> dict[str, Any]:
    return {
        "kind": "access",
        "regime": "gdpr",
        "identity": {"email": f"intake-{n}@example.org"},
        "verified": True,
    }


def cpu_per_call(calls: int, call: Callable[[int], None]) -> float:
    """Process CPU seconds per call."""
    started = time.process_time()
    for i in range(calls):
        call(i)
    return (time.process_time() - started) / calls


def statements(call: Callable[[], None]) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return [query["sql"] for query in captured.captured_queries]


def profile_parts(profiler: cProfile.Profile, calls: int, top: int) -> str:
    stats = pstats.Stats(profiler)
    rows = stats.stats  # type: ignore[attr-defined]
    lines = [
        f"profile, ms of CPU per created request under cProfile (cumulative, "
        f"{calls} calls; the profiler inflates Python-heavy parts: read shares)"
    ]
    for label, path, name in PARTS:
        # The outermost of the functions of that name in that file (DRF's
        # Serializer.data calls BaseSerializer.data: not counted twice).
        total = max(
            (
                cumulative
                for (file, _, function), (_, _, _, cumulative, _) in rows.items()
                if function == name and file.endswith(path)
            ),
            default=0.0,
        )
        lines.append(f"  {label:<44} {total / calls * 1000:7.2f}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    lines.append(out.getvalue().split("\n", 4)[-1] if top else "")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="POSTs to measure")
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    parser.add_argument("--sql", action="store_true", help="print the statements")
    parser.add_argument("--dump", help="write the POSTs' profile to this file")
    parser.add_argument("--no-batch", action="store_true", help="single POSTs only")
    args = parser.parse_args()

    env, var_dir = bench_django_setup(
        app_db=APP_DB,
        redis_url=REDIS_URL,
        var_prefix="pd-bench-intake-",
        REDIS_URL=REDIS_URL,
        ALLOWED_HOSTS="127.0.0.1",
    )
    fresh_app_database(APP_DB, env)
    connector_use_plan("null", store_dsn("pd_bench_store_not_contacted"))
    from api_fanout import api_client_token

    wsgi = Wsgi(api_client_token())
    counter = iter(range(1, 10**9))
    print(f"load average before: {load_average()}; machine speed: {machine_speed()}")

    def single(_: int) -> None:
        code, body = wsgi.post("/api/v1/requests/", access(next(counter)))
        if code != 201:
            raise RuntimeError(f"POST answered {code}: {body}")

    def batch(_: int) -> None:
        body = {"requests": [access(next(counter)) for _ in range(BATCH)]}
        code, answer = wsgi.post("/api/v1/requests/batch/", body)
        if code != 201:
            raise RuntimeError(f"batch POST answered {code}: {answer}")

    cpu_per_call(20, single)  # warm-up: imports, connections, caches
    queries = statements(lambda: single(0))
    plain = cpu_per_call(args.n, single)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    profiled = cpu_per_call(args.n, single)
    profiler.disable()
    if args.dump:
        profiler.dump_stats(args.dump)

    batches = max(1, args.n // BATCH)
    batch_queries: list[str] = []
    per_batch = 0.0
    if not args.no_batch:
        batch(0)  # warm-up
        batch_queries = statements(lambda: batch(0))
        per_batch = cpu_per_call(batches, batch)
    print(f"load average after: {load_average()}; machine speed: {machine_speed()}")

    print()
    print(profile_parts(profiler, args.n, args.top))
    if args.sql:
        print("\n".join(f"  {q[:160]}" for q in queries))
    figures = [
        Figure(
            "POST /requests/: web cpu per created request",
            plain * 1000,
            "ms",
            TARGET_MS,
            f"{args.n} POSTs of a verified access request; "
            f"{len(queries)} SQL statements each; with cProfile "
            f"{profiled * 1000:.1f} ms",
            inclusive=True,
        ),
    ]
    if not args.no_batch:
        figures.append(
            Figure(
                f"POST /requests/batch/ ({BATCH}): web cpu per created request",
                per_batch / BATCH * 1000,
                "ms",
                TARGET_MS,
                f"{batches} batches; {len(batch_queries)} SQL statements per "
                f"batch ({len(batch_queries) / BATCH:.1f} per request)",
                inclusive=True,
            )
        )
    report(figures, "intake_profile")
    shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
