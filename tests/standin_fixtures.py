"""One way to run a SaaS stand-in (standins.<service>) for a test: started
on a free loopback port, the budget's counters emptied, stopped after.

    standin = standin_fixture(start, TOKEN)        # the fixture `standin`
    yield from running(service.start, TOKEN)       # inside a fixture of yours

Tests of pacing run on a clock SPEEDUP times faster than the vendors': our
budget's window (5 s in production) is WINDOW, a stand-in's window is as
short (`short_window`), the times it states come in tenths of a second, and
a limit per minute is SPEEDUP times higher (`per_minute`). What a test
asserts (no 429, no call before a Retry-After ran out, all records found)
holds on either clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.core.cache import cache

S = TypeVar("S")

SPEEDUP = 10
WINDOW = 5.0 / SPEEDUP  # seconds: the budget's, and a short stand-in window
TIME_STEP = 0.1  # seconds: how finely a stand-in states its times


def short_window(standin: Any, per_window: int, *, windows: float = 1) -> None:
    """The stand-in allows `per_window` calls in each window of `windows`
    WINDOWs, and says its times (Retry-After, reset) in tenths."""
    standin.per_window = per_window
    standin.window_seconds = WINDOW * windows
    standin.time_step = TIME_STEP


def per_minute(per_window: int, *, windows: float = 1) -> int:
    """The limit per minute that allows `per_window` calls in each window
    of `windows` WINDOWs (what a connector is told)."""
    return round(per_window * 60 / (WINDOW * windows))


@pytest.fixture
def short_budget(settings: Any) -> None:
    """The rate budget counts WINDOW-long windows (settings, read when a
    connector makes its budget)."""
    settings.SAAS_BUDGET_WINDOW_MS = round(WINDOW * 1000)


def vendor_window(monkeypatch: pytest.MonkeyPatch, kind: str, seconds: float) -> None:
    """The vendor's own window, as its definition states it (read when its
    remaining header says 0 and no reset header says when to go on), made
    `seconds` for this test."""
    from connectors.registry import kind_class

    limits = kind_class(kind).definition.document["rate_limit"]  # type: ignore[attr-defined]
    monkeypatch.setitem(limits, "window_seconds", seconds)


def running(start: Callable[..., S], token: str, **options: Any) -> Iterator[S]:
    server = start(token=token, **options)
    cache.clear()  # the budget's counters and pauses start empty
    try:
        yield server
    finally:
        server.stop()  # type: ignore[attr-defined]


def standin_fixture(start: Callable[..., S], token: str) -> Any:
    """A pytest fixture yielding a stand-in started by `start`, named by
    the module attribute it is assigned to (and any alias of it)."""

    def standin() -> Iterator[S]:
        yield from running(start, token)

    return pytest.fixture(standin)
