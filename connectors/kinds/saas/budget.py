"""A rate-limit budget per connector, shared by every worker process.

The vendor allows so many calls a minute for the whole account. Each call
takes a slot of the current window from an atomic counter in Django's cache
(Redis in production; the database or local memory elsewhere), so 50 tasks
fanning out at once spread over the windows instead of meeting a 429. The
minute is cut into short windows with the same share each, so no burst at
the start of a minute spends it all (settings.SAAS_BUDGET_WINDOW_MS, read
when a budget is made: 5 s). When the vendor says to stop (a 429's
Retry-After, or a remaining count of 0 in its headers) every process pauses
until the time it gave.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from connectors.base import ConnectorError

# Longer than this and the task gives the worker back (retried later).
MAX_WAIT_SECONDS = 90.0


class Budget:
    """Slots of one connector's budget; `take` waits for one."""

    def __init__(
        self,
        scope: str,
        *,
        per_minute: int,
        window_seconds: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.scope = scope
        if window_seconds is None:
            window_seconds = window_default()
        self.window = window_seconds
        self.allowance = max(1, math.floor(per_minute * window_seconds / 60))
        self.sleep = sleep
        self.clock = clock

    @property
    def _pause_key(self) -> str:
        return f"saas-budget:{self.scope}:pause"

    def take(self) -> None:
        """Wait until a slot of the budget is free, then take it."""
        waited = 0.0
        while True:
            now = self.clock()
            pause = self._paused_until()
            if pause > now:
                delay = pause - now + random.uniform(0, 0.25)
            else:
                window = int(now // self.window)
                if self._count(window) <= self.allowance:
                    return
                delay = (window + 1) * self.window - now
                delay += random.uniform(0, self.window * 0.2)
            waited += delay
            if waited > MAX_WAIT_SECONDS:
                raise ConnectorError(
                    f"rate limit of {self.scope}: no free slot within "
                    f"{MAX_WAIT_SECONDS:.0f} s; retried later",
                    permanent=False,
                )
            self.sleep(delay)

    def pause_for(self, seconds: float) -> None:
        """Every process waits `seconds` before its next call (the vendor
        said so); a longer pause already set is kept."""
        until = self.clock() + max(0.0, seconds)
        if until > self._paused_until():
            cache.set(self._pause_key, until, timeout=math.ceil(seconds) + 5)

    def count_refusal(self) -> int:
        """Count a 429 (for the bench and the health page); the total."""
        return _incr(f"saas-budget:{self.scope}:refused", timeout=24 * 3600)

    def refusals(self) -> int:
        return int(cache.get(f"saas-budget:{self.scope}:refused", 0))

    def _paused_until(self) -> float:
        value = cache.get(self._pause_key)
        return float(value) if value is not None else 0.0

    def _count(self, window: int) -> int:
        return _incr(
            f"saas-budget:{self.scope}:{window}", timeout=math.ceil(self.window * 3)
        )


def window_default() -> float:
    """The budget's window, in seconds (settings.SAAS_BUDGET_WINDOW_MS)."""
    return int(settings.SAAS_BUDGET_WINDOW_MS) / 1000


def _incr(key: str, *, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1
