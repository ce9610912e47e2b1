"""The HTTP server: granian serving `privacydesk.wsgi:application`.

One definition of how the site is served, for `make run` (the launcher),
the container (`python -m privacydesk.web`) and the benchmarks.

Why granian: an AI agent calls the API on every turn of a conversation, so
the server's own cost per request counts. Granian's HTTP layer is Rust and
keeps connections alive; gunicorn's sync worker opened a new connection
for every call. Measured on the same machine, in the same run
(bench/README.md, "The server"): a trivial authenticated call cost about a
third less CPU in all (0.97 -> 0.68 ms).

Each worker process runs the application in one Python thread, one request
at a time, as gunicorn's sync workers did: what the code assumes of a web
process (privacydesk.pdf's shared font map) still holds. More capacity is
more workers.

    python -m privacydesk.web   # 0.0.0.0:$WEB_PORT (8000), $WEB_WORKERS (3), access log

Granian has no per-request timeout (gunicorn killed a worker after 60 s):
outbound calls carry their own timeouts, and a reverse proxy in front
bounds what a client waits.
"""

from __future__ import annotations

import os
import sys

APPLICATION = "privacydesk.wsgi:application"


def web_command(
    *, host: str, port: int, workers: int, access_log: bool = False
) -> list[str]:
    """The server's command line (run from the project root)."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--no-ws",  # WSGI has none; says so at every start otherwise
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        # One request at a time per process (see the module docstring).
        "--blocking-threads",
        "1",
        # A worker that dies is replaced, as gunicorn's master did.
        "--respawn-failed-workers",
        # SIGTERM lets requests in flight finish; a stuck one is killed.
        "--workers-kill-timeout",
        "10",
        "--access-log" if access_log else "--no-access-log",
        APPLICATION,
    ]


def main() -> None:
    command = web_command(
        host=os.environ.get("WEB_HOST", "0.0.0.0"),
        port=int(os.environ.get("WEB_PORT", "8000")),
        workers=int(os.environ.get("WEB_WORKERS", "3")),
        access_log=True,
    )
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
