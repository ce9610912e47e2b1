"""`make run`: the web server, a Celery worker and beat, started and stopped together.

Run as `python -m privacydesk.launcher` from the project root after
`migrate`, `seed_demo` and `collectstatic` (the Makefile does all of it).
Each child runs in its own process group, so stopping one also stops the
processes it forked (the web server's workers, Celery's pool). Ctrl-C or SIGTERM
stops everything; if any child dies, the launcher names it and stops the
rest, so a half-running service never looks healthy.

The database and broker come from the environment like everywhere else:
embedded SQLite by default, PostgreSQL and Redis with DATABASE_URL and
CELERY_BROKER_URL.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from privacydesk.web import web_command

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 20.0
POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes]
    relay: threading.Thread | None = None
    exit_code: int | None = None


def _load_prctl() -> Callable[..., int] | None:
    if sys.platform != "linux":
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Looked up once in the parent: between fork and exec the child must not
# load libraries or import anything (another thread may hold those locks).
_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the launcher itself is killed
    (even by SIGKILL), so a crashed launcher leaves no orphan serving the port."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class Supervisor:
    """Starts child processes, relays their output, and stops them as a group."""

    specs: Sequence[ChildSpec]
    env: Mapping[str, str] | None = None
    cwd: Path = ROOT
    stop_timeout: float = STOP_TIMEOUT_SECONDS
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    children: list[Child] = field(default_factory=list)
    # Plain flags, not threading.Event: a signal handler that takes a lock
    # the interrupted main thread already holds would deadlock.
    _stop: bool = False
    _hurry: bool = False
    _print_lock: threading.Lock = field(default_factory=threading.Lock)

    def say(self, line: str) -> None:
        with self._print_lock:
            self.out.write(line + "\n")
            self.out.flush()

    def start(self) -> None:
        # Every process is spawned before any relay thread exists: a
        # pre-exec hook is only safe in a single-threaded parent.
        for spec in self.specs:
            process = subprocess.Popen(
                list(spec.argv),
                cwd=self.cwd,
                env=dict(self.env) if self.env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            self.children.append(Child(spec=spec, process=process))
        width = max(len(spec.name) for spec in self.specs)
        for child in self.children:
            child.relay = threading.Thread(
                target=self._relay, args=(child, width), daemon=True
            )
            child.relay.start()

    def _relay(self, child: Child, width: int) -> None:
        assert child.process.stdout is not None
        prefix = f"{child.spec.name:<{width}} | "
        for raw in child.process.stdout:
            self.say(prefix + raw.decode(errors="replace").rstrip())

    def request_stop(self, signum: int, frame: Any = None) -> None:
        """Signal handler: the first signal stops gracefully, a second hurries."""
        if self._stop:
            self._hurry = True
        self._stop = True

    @property
    def stopping(self) -> bool:
        return self._stop

    def dead_child(self) -> Child | None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                child.exit_code = code
                return child
        return None

    def wait_until(self, ready: Callable[[], bool], *, timeout: float) -> bool:
        """Poll `ready` until it holds; False on timeout, stop or a dead child."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stopping or self.dead_child() is not None:
                return False
            if ready():
                return True
            time.sleep(POLL_SECONDS)
        return False

    def watch(self) -> int:
        """Block until a stop is requested (0) or a child dies (1)."""
        while not self.stopping:
            child = self.dead_child()
            if child is not None:
                self.report_death(child)
                return 1
            time.sleep(POLL_SECONDS)
        return 0

    def report_death(self, child: Child) -> None:
        self.say(
            f"launcher | {child.spec.name} exited unexpectedly "
            f"(exit code {child.exit_code}); stopping the others"
        )

    def stop(self) -> None:
        """SIGTERM each child, wait, then SIGKILL each process group.

        The graceful signal goes to the group leader only: granian's main
        process and Celery's then retire their own workers in order (a
        Celery task in flight finishes), where a group-wide SIGTERM would
        kill the pool under them."""
        alive = [c for c in self.children if c.process.poll() is None]
        if alive:
            names = ", ".join(c.spec.name for c in alive)
            self.say(f"launcher | stopping {names}")
        for child in alive:
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for child in alive:
            while child.process.poll() is None and time.monotonic() < deadline:
                if self._hurry:
                    break
                time.sleep(0.1)
        for child in self.children:
            if child.process.poll() is None:
                self.say(
                    f"launcher | {child.spec.name} did not stop in time; killing it"
                )
            # Also sweeps stragglers whose group leader has already exited.
            _signal_group(child.process.pid, signal.SIGKILL)
            child.process.wait()
            _wait_group_gone(child.process.pid, timeout=2.0)
        for child in self.children:
            if child.relay is not None:
                child.relay.join(timeout=5)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # the whole group has exited already


def _wait_group_gone(pgid: int, *, timeout: float) -> None:
    """Wait until a killed process group has no live member (signals are
    delivered asynchronously; callers promise that nothing is left)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)


def child_specs(port: int) -> list[ChildSpec]:
    python = sys.executable
    return [
        ChildSpec("web", web_command(host=HOST, port=port, workers=2)),
        ChildSpec(
            "worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "privacydesk",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
            ],
        ),
        ChildSpec(
            "beat", [python, "-m", "celery", "-A", "privacydesk", "beat", "-l", "info"]
        ),
    ]


def health(base_url: str) -> dict[str, Any] | None:
    """The /healthz document when it says ok, else None."""
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=3) as response:
            document = json.loads(response.read())
    except (OSError, ValueError):  # refused, 503 (HTTPError), timeout, bad JSON
        return None
    return document if document.get("status") == "ok" else None


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def django_setup() -> None:
    """Load the settings in the launcher too, so a misconfiguration fails here,
    before any child starts, and the banner can read the demo logins."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacydesk.settings")
    django.setup()


def demo_logins() -> list[tuple[str, str]]:
    """The demo staff accounts that exist, with what each may do."""
    from django.contrib.auth.models import User
    from django.db import DatabaseError, connections

    from dsr.demo import DEMO_STAFF

    try:
        existing = set(
            User.objects.filter(
                username__in=[s.username for s in DEMO_STAFF], is_active=True
            ).values_list("username", flat=True)
        )
    except DatabaseError:
        return []
    finally:
        connections.close_all()
    return [(s.username, s.label) for s in DEMO_STAFF if s.username in existing]


DEMO_ZENDESK_TOKEN = "demo-zendesk-api-token"


def zendesk_standin() -> Any:
    """Embedded mode only: the Zendesk stand-in (standins.zendesk) on a free
    loopback port, in this process, for the demo's Zendesk connector."""
    from django.conf import settings

    if not settings.EMBEDDED:
        return None
    from standins.zendesk import start

    return start(token=DEMO_ZENDESK_TOKEN)


def zendesk_lines(standin: Any) -> list[str]:
    if standin is None:
        return []
    from standins.zendesk.state import AGENT_EMAIL

    someone = standin.account.live_users()[1]
    return [
        "Zendesk stand-in (demo only): in the dashboard, Connectors > Add "
        "connector > Zendesk Support, with",
        f"  Subdomain demo, Email {AGENT_EMAIL}, Base url {standin.url}",
        f"  Api token {DEMO_ZENDESK_TOKEN}",
        f"  a customer to erase: {someone['email']}; "
        f"its state: {standin.url}/_standin/state.json",
    ]


def banner(base_url: str, document: Mapping[str, Any]) -> list[str]:
    from dsr.demo import DEMO_PASSWORD

    database = document.get("database", {}).get("detail", "?")
    broker = document.get("broker", {}).get("detail", "?")
    lines = [
        "",
        f"Privacy Desk is running (database: {database}; broker: {broker})",
        f"  Dashboard   {base_url}/dashboard/",
        f"  Portal      {base_url}/privacy/",
        f"  API docs    {base_url}/api/docs/",
        f"  Health      {base_url}/healthz",
    ]
    logins = demo_logins()
    if logins:
        lines.append(f"Demo staff logins (password: {DEMO_PASSWORD}):")
        lines += [f"  {username:<9} {label}" for username, label in logins]
    lines += [
        "E-mails (such as verification codes) are printed below by web and worker.",
        "Press Ctrl-C to stop web, worker and beat.",
        "",
    ]
    return lines


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    base_url = f"http://{HOST}:{port}"
    if not port_is_free(port):
        print(
            f"launcher | port {port} on {HOST} is in use; set PORT=... to use another"
        )
        return 1
    django_setup()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # Links in e-mails must point at this server when PORT moves it.
    env.setdefault("SITE_URL", base_url)
    supervisor = Supervisor(child_specs(port), env=env)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    supervisor.start()
    # After the children are spawned: its server thread must not exist at fork.
    zendesk = zendesk_standin()
    document: dict[str, Any] = {}

    def healthy() -> bool:
        found = health(base_url)
        if found:
            document.update(found)
        return bool(found)

    code = 0
    if supervisor.wait_until(healthy, timeout=STARTUP_TIMEOUT_SECONDS):
        for line in [*banner(base_url, document), *zendesk_lines(zendesk)]:
            supervisor.say(line)
        code = supervisor.watch()
    elif not supervisor.stopping:
        dead = supervisor.dead_child()
        if dead is not None:
            supervisor.report_death(dead)
        else:
            supervisor.say(f"launcher | {base_url}/healthz did not answer ok in time")
        code = 1
    supervisor.stop()
    if zendesk is not None:
        zendesk.stop()
    supervisor.say("launcher | all processes stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
