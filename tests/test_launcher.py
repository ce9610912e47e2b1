"""The launcher's supervisor: a dying child stops the rest, and stopping
leaves no process behind (grandchildren included)."""

from __future__ import annotations

import io
import os
import signal
import sys
import time
from pathlib import Path

from privacydesk.launcher import ChildSpec, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
# Prints the pid of a grandchild in its own process group, then sleeps.
PARENT_OF_SLEEPER = [
    sys.executable,
    "-c",
    "import subprocess, sys, time\n"
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print('grandchild', p.pid, flush=True)\n"
    "time.sleep(60)\n",
]
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ignoring SIGTERM', flush=True)\n"
    "time.sleep(60)\n",
]


def _gone(pid: int) -> bool:
    """True when the process no longer exists (or is only a zombie)."""
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(
            line
            for line in status.read_text().splitlines()
            if line.startswith("State:")
        )
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "Z" in state.split()[1]


def _wait_for(text: str, out: io.StringIO, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in out.getvalue():
            return out.getvalue()
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in:\n{out.getvalue()}")


def test_a_dying_child_stops_the_others() -> None:
    # given a long-running child with a grandchild, and one that fails at once
    out = io.StringIO()
    supervisor = Supervisor(
        [
            ChildSpec("web", PARENT_OF_SLEEPER),
            ChildSpec("worker", [sys.executable, "-c", "raise SystemExit(3)"]),
        ],
        out=out,
        stop_timeout=5,
    )
    supervisor.start()
    grandchild = int(_wait_for("grandchild", out).split("grandchild ")[1].split()[0])

    # when
    code = supervisor.watch()
    supervisor.stop()

    # then
    assert code == 1
    assert "worker exited unexpectedly (exit code 3)" in out.getvalue()
    assert all(child.process.poll() is not None for child in supervisor.children)
    assert _gone(grandchild)


def test_stop_is_graceful_and_prefixes_output() -> None:
    out = io.StringIO()
    supervisor = Supervisor([ChildSpec("beat", SLEEPER)], out=out, stop_timeout=5)
    supervisor.start()

    supervisor.request_stop(signal.SIGINT)
    code = supervisor.watch()
    supervisor.stop()

    assert code == 0
    assert supervisor.children[0].process.returncode == -signal.SIGTERM
    assert "launcher | stopping beat" in out.getvalue()


def test_a_child_ignoring_sigterm_is_killed_after_the_timeout() -> None:
    out = io.StringIO()
    supervisor = Supervisor([ChildSpec("worker", STUBBORN)], out=out, stop_timeout=0.5)
    supervisor.start()
    _wait_for("worker | ignoring SIGTERM", out)

    started = time.monotonic()
    supervisor.stop()

    assert supervisor.children[0].process.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5
    assert "worker did not stop in time; killing it" in out.getvalue()


def test_children_run_in_their_own_process_groups() -> None:
    supervisor = Supervisor([ChildSpec("web", SLEEPER)], out=io.StringIO())
    supervisor.start()
    try:
        pid = supervisor.children[0].process.pid
        # Ctrl-C in the terminal reaches the launcher only; it stops the rest.
        assert os.getpgid(pid) == pid != os.getpgid(0)
    finally:
        supervisor.stop()
