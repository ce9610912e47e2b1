"""Store connections kept open between actions (PostgreSQL only today)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any


class _IdleConnections:
    """Store connections kept open between actions, per process and per store.

    A connection goes back only after its action committed, with no
    transaction open on it; it is closed instead once it has been idle for
    IDLE_SECONDS (a server or a firewall may have dropped it by then) or is
    older than MAX_AGE_SECONDS. A forked child (Celery prefork) never uses its
    parent's connections, which share the parent's sockets: it keeps them
    referenced (closing one would end the parent's session) and starts empty.
    """

    IDLE_SECONDS = 30.0
    MAX_AGE_SECONDS = 300.0
    PER_STORE = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._idle: dict[tuple[str, str, str], list[tuple[Any, float, float]]] = {}
        self._inherited: list[Any] = []

    def _forget_parents(self) -> None:
        if self._pid != os.getpid():
            for entries in self._idle.values():
                self._inherited += [connection for connection, _, _ in entries]
            self._idle = {}
            self._pid = os.getpid()

    def take(
        self, key: tuple[str, str, str], usable: Callable[[Any], bool]
    ) -> tuple[Any, float] | None:
        """A kept connection and when it was opened, or None."""
        now = time.monotonic()
        stale: list[Any] = []
        found = None
        with self._lock:
            self._forget_parents()
            entries = self._idle.get(key, [])
            while entries:
                connection, opened, returned = entries.pop()
                if (
                    now - returned > self.IDLE_SECONDS
                    or now - opened > self.MAX_AGE_SECONDS
                    or not usable(connection)
                ):
                    stale.append(connection)
                    continue
                found = (connection, opened)
                break
        for connection in stale:
            with suppress(Exception):
                connection.close()
        return found

    def give(self, key: tuple[str, str, str], connection: Any, opened: float) -> bool:
        """Keep `connection` for the next action; False if it must be closed."""
        now = time.monotonic()
        with self._lock:
            self._forget_parents()
            entries = self._idle.setdefault(key, [])
            if len(entries) >= self.PER_STORE or now - opened > self.MAX_AGE_SECONDS:
                return False
            entries.append((connection, opened, now))
            return True


idle_connections = _IdleConnections()
